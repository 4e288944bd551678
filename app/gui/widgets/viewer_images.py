"""Large images for the viewer: decoded off the GUI thread through the TaskRunner, a few kept for going back.

Decoding a big photo takes a good part of a second, and the runner's read threads are shared with searches,
so only one decode runs at a time: a new wish replaces an earlier one that has not started (someone holding
the arrow key waits for the photo they stop at, not for every photo on the way), and the next photo is
decoded ahead only when nothing is wanted now.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QImage, QPixmap

from photosift.app.gui.presenter import failure_sentence
from photosift.app.tasks import TaskRunner
from photosift.core.imageio import load_image
from photosift.core.library import Library

# Pictures kept in memory: the one on show, the one decoded ahead, and the last two left behind. At most
# ~50 MB each when decoded for a 4K screen; a full-size copy for zooming can be larger.
KEPT_PICTURES = 4


@dataclass(frozen=True)
class Decoded:
    """A photo decoded on a worker thread (QImage may be built there; QPixmap may not)."""

    image: QImage
    photo_size: QSize  # the full photo's upright size: the image may be smaller


@dataclass(frozen=True)
class Picture:
    """A decoded photo ready to draw."""

    pixmap: QPixmap
    photo_size: QSize

    @property
    def full(self) -> bool:
        """Whether every pixel of the photo is here (it was not decoded at a reduced size)."""
        return self.pixmap.width() >= self.photo_size.width()


@dataclass(frozen=True)
class _Request:
    photo_id: int
    path: str
    min_side: int | None  # None: the full size


def decode_op(path: str, min_side: int | None) -> Callable[[Library], Decoded]:
    """An op for `TaskRunner.run_op` decoding `path` upright, with its shortest side at least `min_side`."""

    def decode(_: Library) -> Decoded:
        img, meta = load_image(Path(path), min_side)
        data = img.tobytes()  # kept alive until the conversion below has copied it
        image = QImage(data, img.width, img.height, 3 * img.width, QImage.Format.Format_RGB888)
        # RGB32 is the format Qt draws fastest; the conversion is also the deep copy `data` needs.
        return Decoded(image.convertToFormat(QImage.Format.Format_RGB32), QSize(meta.width, meta.height))

    return decode


class ViewerImages(QObject):
    """Decodes photos one at a time, the wanted one before any read-ahead, and keeps the last few."""

    loaded = Signal(int, object)  # photo id, Picture
    failed = Signal(int, str)  # photo id, why it cannot be shown (a phrase for the user)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self._runner = runner
        self._kept: OrderedDict[int, Picture] = OrderedDict()
        self._wanted: _Request | None = None
        self._ahead: _Request | None = None
        self._running: _Request | None = None
        self._generation = 0  # bumped by `clear`; decodes started before it are not kept

    def kept(self, photo_id: int, full: bool = False) -> Picture | None:
        """The picture of `photo_id` if it is in memory (with `full`: only a full-size one)."""
        picture = self._kept.get(photo_id)
        if picture is None or (full and not picture.full):
            return None
        self._kept.move_to_end(photo_id)
        return picture

    def load(self, photo_id: int, path: str, min_side: int | None) -> None:
        """Decode a photo to show now (None: at full size); `loaded` or `failed` tells when it is done."""
        self._wanted = _Request(photo_id, path, min_side)
        self._next()

    def read_ahead(self, photo_id: int, path: str, min_side: int) -> None:
        """Decode a photo likely to be wanted next, once nothing is wanted now."""
        if photo_id not in self._kept:
            self._ahead = _Request(photo_id, path, min_side)
            self._next()

    def clear(self) -> None:
        """Forget kept pictures and wishes (the viewer closed); a decode under way finishes unseen."""
        self._generation += 1
        self._kept.clear()
        self._wanted = self._ahead = None

    def _next(self) -> None:
        # A wish for the decode under way is dropped: its outcome will do.
        if self._wanted == self._running:
            self._wanted = None
        if self._ahead == self._running:
            self._ahead = None
        if self._running is not None:
            return
        request = self._wanted or self._ahead
        if request is None:
            return
        if request is self._wanted:
            self._wanted = None
        else:
            self._ahead = None
        self._running = request
        generation = self._generation
        self._runner.run_op(
            decode_op(request.path, request.min_side),
            partial(self._done, generation, request),
            partial(self._failed, generation, request),
        )

    def _done(self, generation: int, request: _Request, decoded: Decoded) -> None:
        self._running = None
        if generation == self._generation:
            picture = Picture(QPixmap.fromImage(decoded.image), decoded.photo_size)
            self.loaded.emit(request.photo_id, self._keep(request.photo_id, picture))
        self._next()

    def _failed(self, generation: int, request: _Request, exc: BaseException) -> None:
        self._running = None
        self._next()
        sentence = failure_sentence(exc)
        if sentence is None:
            self._runner.present(exc)  # a bug: the crash dialog and the log
        elif generation == self._generation:
            self.failed.emit(request.photo_id, sentence)

    def _keep(self, photo_id: int, picture: Picture) -> Picture:
        """Keep `picture`, unless a full-size copy is already kept; returns the one kept."""
        old = self._kept.get(photo_id)
        if old is None or not old.full:
            self._kept[photo_id] = picture
        self._kept.move_to_end(photo_id)
        while len(self._kept) > KEPT_PICTURES:
            self._kept.popitem(last=False)
        return self._kept[photo_id]
