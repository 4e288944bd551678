"""Thumbnails for the results grid: made in the background, kept as small JPEGs in Photosift's cache.

A thumbnail is written under the cache folder (`Paths.cache / "thumbnails"`), named by photo id and size,
never next to the photo: Photosift does not write into photo folders. Until one is ready the view shows
a placeholder; `ready` says when it can be drawn. Icons are square, the picture centred on a transparent
canvas, so Qt's own icon-mode painting keeps every name on the same line whatever the photo's shape.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QRect, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap

from photosift.app.priority import lower_this_thread
from photosift.core.errors import ImageError
from photosift.core.imageio import load_image

THUMB_SIZE = 192  # pixels on the long side: sharp in a ~160 px grid cell on 1.25x displays, ~10 KB a file
LARGE_THUMB_SIZE = 384  # for grid cells above THUMB_SIZE (up to 320 px), so big icons are not upscaled
# Decoded thumbnails kept in memory: a few screens of results; the files on disk stay either way.
MEMORY_ITEMS = 1000
# Decode threads: thumbnail work should not starve searches and indexing on a 2-core machine.
THREADS = 2


def thumbnail_file(cache_dir: Path, photo_id: int, size: int) -> Path:
    return cache_dir / f"{photo_id}-{size}.jpg"


def prune_thumbnails(cache_dir: Path, live_ids: set[int]) -> int:
    """Delete cached thumbnails of photos the catalog no longer has (removed folders, deleted or edited
    photos); returns how many went. Only Photosift's own cache is touched."""
    removed = 0
    for file in cache_dir.glob("*-*.jpg"):
        photo_id = file.name.split("-", 1)[0]
        if photo_id.isdigit() and int(photo_id) not in live_ids:
            file.unlink(missing_ok=True)
            removed += 1
    return removed


def make_thumbnail(source: Path, target: Path, size: int) -> None:
    """Write a JPEG of `source` that fits in size x size; written aside and renamed, so never half a file."""
    img, _ = load_image(source, min_side=size)  # JPEGs decode at reduced scale: fast for big photos
    img.thumbnail((size, size))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.part")
    img.save(partial, "JPEG", quality=85)
    partial.replace(target)


class _Make(QRunnable):
    def __init__(self, cache: ThumbnailCache, photo_id: int, source: Path, target: Path, size: int):
        super().__init__()
        self._cache, self._id, self._source, self._target, self._size = cache, photo_id, source, target, size

    def run(self) -> None:
        lower_this_thread()
        try:
            if not self._target.exists():
                make_thumbnail(self._source, self._target, self._size)
            image = QImage(str(self._target))  # QImage (not QPixmap) is safe to build off the GUI thread
            self._cache._finished.emit(self._id, None if image.isNull() else _squared(image, self._size))
        except (ImageError, OSError):  # an unreadable photo keeps its placeholder; indexing records why
            self._cache._finished.emit(self._id, None)


class ThumbnailCache(QObject):
    """Hands out thumbnail icons, generating missing ones on a thread pool."""

    ready = Signal(int)  # photo id whose thumbnail can now be drawn
    dropped = Signal(int)  # photo id whose thumbnail left memory (least recently asked for)
    _finished = Signal(int, object)  # from a worker: photo id, (square QImage, picture's rect) or None

    def __init__(self, cache_dir: Path, size: int = THUMB_SIZE, parent: QObject | None = None):
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.size = size
        self.placeholder = _placeholder(size)
        self._icons: OrderedDict[int, QIcon] = OrderedDict()
        self._pictures: dict[int, QRect] = {}  # where in its square icon each picture lies
        self._pending: set[int] = set()
        self._broken: set[int] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(THREADS)
        self._finished.connect(self._on_finished)

    def icon(self, photo_id: int, path: str) -> QIcon | None:
        """The thumbnail if it is ready; otherwise None, and it is being made (the view draws the placeholder)."""
        if photo_id in self._icons:
            self._icons.move_to_end(photo_id)
            return self._icons[photo_id]
        if photo_id not in self._pending and photo_id not in self._broken:
            self._pending.add(photo_id)
            target = thumbnail_file(self.cache_dir, photo_id, self.size)
            self._pool.start(_Make(self, photo_id, Path(path), target, self.size))
        return None

    def cached(self, photo_id: int) -> QIcon | None:
        """The thumbnail if it is in memory; unlike `icon`, never starts making one."""
        return self._icons.get(photo_id)

    def preview(self, photo_id: int) -> QPixmap | None:
        """The thumbnail as a pixmap of the picture alone (no square canvas), if it is in memory."""
        icon = self.cached(photo_id)
        if icon is None:
            return None
        return icon.pixmap(icon.availableSizes()[0]).copy(self._pictures[photo_id])

    def is_ready(self, photo_id: int) -> bool:
        """Whether the photo's thumbnail is done: drawn from memory, or known to be unreadable."""
        return photo_id in self._icons or photo_id in self._broken

    def fit_to(self, cell: int) -> bool:
        """Use the thumbnail size that suits grid cells of `cell` pixels; True if it changed (icons drop
        and are made again at the new size, from files already cached at that size where they exist)."""
        size = THUMB_SIZE if cell <= THUMB_SIZE else LARGE_THUMB_SIZE
        if size == self.size:
            return False
        self.drop_queued()
        self.size = size
        self._icons.clear()
        self._pictures.clear()
        self._broken.clear()
        return True

    def drop_queued(self) -> None:
        """Forget requests not started yet (the results they were for are gone); running ones finish."""
        self._pool.clear()
        self._pending.clear()

    def wait(self) -> None:
        """Block until running work is done (shutdown and tests)."""
        self._pool.waitForDone()

    @Slot(int, object)
    def _on_finished(self, photo_id: int, made: tuple[QImage, QRect] | None) -> None:
        self._pending.discard(photo_id)
        if made is None:
            self._broken.add(photo_id)
            return
        self._icons[photo_id] = QIcon(QPixmap.fromImage(made[0]))
        self._pictures[photo_id] = made[1]
        while len(self._icons) > MEMORY_ITEMS:
            old, _ = self._icons.popitem(last=False)
            del self._pictures[old]
            self.dropped.emit(old)
        self.ready.emit(photo_id)


def _placeholder(size: int) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(128, 128, 128, 60))
    return QIcon(pixmap)


def _squared(image: QImage, size: int) -> tuple[QImage, QRect]:
    """`image` fitted and centred on a transparent size x size canvas (small photos are scaled up, as the
    grid cell would show them), and the rect it occupies there."""
    canvas = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    canvas.fill(Qt.GlobalColor.transparent)
    picture = QRect(QPoint(0, 0), image.size().scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    picture.moveCenter(canvas.rect().center())
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawImage(picture, image)
    painter.end()
    return canvas, picture
