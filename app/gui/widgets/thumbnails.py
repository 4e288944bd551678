"""Thumbnails for the results grid: made in the background, kept as small JPEGs in Photosift's cache.

A thumbnail is written under the cache folder (`Paths.cache / "thumbnails"`), named by photo id and size,
never next to the photo: Photosift does not write into photo folders. Until one is ready the view shows
a placeholder; `ready` says when it can be drawn. The results grid takes the bare `picture` (its cells have
the photo's shape); the square `icon`, the picture centred on a transparent canvas, keeps names aligned in
the plain icon lists of the review queue and the fine-tuning wizard.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QRect, QRectF, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap

from photosift.app.priority import lower_this_thread
from photosift.core.atomic import TEMP_SUFFIX, remove_stale_temps
from photosift.core.errors import ImageError
from photosift.core.imageio import load_image

THUMB_SIZE = 192  # pixels on the long side: sharp in a ~160 px grid cell on 1.25x displays, ~10 KB a file
LARGE_THUMB_SIZE = 384  # for grid lines taller than SMALL_LINE, so large cells are not upscaled
# The tallest grid line THUMB_SIZE serves: a 3:2 landscape photo's cell is 1.5 times as wide as it is tall.
SMALL_LINE = THUMB_SIZE * 2 // 3
# Decoded thumbnails kept in memory: a few screens of results; the files on disk stay either way.
MEMORY_ITEMS = 1000
# Decode threads: thumbnail work should not starve searches and indexing on a 2-core machine.
THREADS = 2


def thumbnail_file(cache_dir: Path, photo_id: int, size: int) -> Path:
    return cache_dir / f"{photo_id}-{size}.jpg"


def prune_thumbnails(cache_dir: Path, live_ids: set[int]) -> int:
    """Delete cached thumbnails of photos the catalog no longer has (removed folders, deleted or edited
    photos), and the half-written ones of a process that quit or was killed mid-write; returns how many
    thumbnails went. Only Photosift's own cache is touched."""
    remove_stale_temps(cache_dir)
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
    # core.atomic's pattern for temporary files, so that `remove_stale_temps` finds those a killed app left.
    partial = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}{TEMP_SUFFIX}")
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
            self._cache._finished.emit(self._id, None if image.isNull() else image)
        except (ImageError, OSError):  # an unreadable photo keeps its placeholder; indexing records why
            self._cache._finished.emit(self._id, None)


class ThumbnailCache(QObject):
    """Hands out thumbnail icons, generating missing ones on a thread pool."""

    ready = Signal(int)  # photo id whose thumbnail can now be drawn
    dropped = Signal(int)  # photo id whose thumbnail left memory (least recently asked for)
    _finished = Signal(int, object)  # from a worker: photo id, its QImage or None

    def __init__(self, cache_dir: Path, size: int = THUMB_SIZE, parent: QObject | None = None):
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.size = size
        self.placeholder = _placeholder(size)
        self._pictures: OrderedDict[int, QPixmap] = OrderedDict()  # least recently asked for first
        self._icons: dict[int, QIcon] = {}  # square icons of some of those pictures, made when asked for
        self._pending: set[int] = set()
        self._broken: set[int] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(THREADS)
        self._finished.connect(self._on_finished)

    def picture(self, photo_id: int, path: str) -> QPixmap | None:
        """The thumbnail if it is ready; otherwise None, and it is being made (the view draws the placeholder)."""
        if photo_id in self._pictures:
            self._pictures.move_to_end(photo_id)
            return self._pictures[photo_id]
        if photo_id not in self._pending and photo_id not in self._broken:
            self._pending.add(photo_id)
            target = thumbnail_file(self.cache_dir, photo_id, self.size)
            self._pool.start(_Make(self, photo_id, Path(path), target, self.size))
        return None

    def icon(self, photo_id: int, path: str) -> QIcon | None:
        """The thumbnail centred on a square canvas, for plain icon lists; None while it is being made."""
        picture = self.picture(photo_id, path)
        if picture is None:
            return None
        if photo_id not in self._icons:
            self._icons[photo_id] = QIcon(QPixmap.fromImage(_squared(picture.toImage(), self.size)))
        return self._icons[photo_id]

    def preview(self, photo_id: int) -> QPixmap | None:
        """The thumbnail picture if it is in memory; unlike `picture`, never starts making one."""
        return self._pictures.get(photo_id)

    def is_ready(self, photo_id: int) -> bool:
        """Whether the photo's thumbnail is done: drawn from memory, or known to be unreadable."""
        return photo_id in self._pictures or photo_id in self._broken

    def fit_to(self, line: int) -> bool:
        """Use the thumbnail size that suits grid lines `line` pixels tall; True if it changed (pictures
        drop and are made again at the new size, from files already cached at that size where they exist)."""
        size = THUMB_SIZE if line <= SMALL_LINE else LARGE_THUMB_SIZE
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

    def wait(self, wait_ms: int = -1) -> bool:
        """Block until running work is done, at most `wait_ms` (-1: as long as it takes); returns whether it is."""
        return self._pool.waitForDone(wait_ms)

    @Slot(int, object)
    def _on_finished(self, photo_id: int, image: QImage | None) -> None:
        self._pending.discard(photo_id)
        if image is None:
            self._broken.add(photo_id)
            return
        self._pictures[photo_id] = QPixmap.fromImage(image)
        while len(self._pictures) > MEMORY_ITEMS:
            old, _ = self._pictures.popitem(last=False)
            self._icons.pop(old, None)
            self.dropped.emit(old)
        self.ready.emit(photo_id)


def _placeholder(size: int) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(128, 128, 128, 60))
    return QIcon(pixmap)


def _squared(image: QImage, size: int) -> QImage:
    """`image` fitted and centred on a transparent size x size canvas (small photos are scaled up, as the
    list's cell would show them)."""
    canvas = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    canvas.fill(Qt.GlobalColor.transparent)
    picture = QRect(QPoint(0, 0), image.size().scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    picture.moveCenter(canvas.rect().center())
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawImage(picture, image)
    painter.end()
    return canvas


def covering(picture: QPixmap, size: QSize, ratio: float) -> QPixmap:
    """`picture` scaled to cover a grid cell of `size` exactly (on a screen of device pixel `ratio`), the
    overflow (from rounding, or a cropped extreme aspect) cut evenly from both sides."""
    target = size * ratio
    scaled = picture.scaled(
        target, Qt.AspectRatioMode.KeepAspectRatioByExpanding, Qt.TransformationMode.SmoothTransformation
    )
    x, y = (scaled.width() - target.width()) // 2, (scaled.height() - target.height()) // 2
    covered = scaled.copy(x, y, target.width(), target.height())
    covered.setDevicePixelRatio(ratio)
    return covered


def draw_frame(picture: QPixmap, colour: QColor, width: int) -> None:
    """Draw a frame `width` pixels wide along the inside of `picture` (a selected photo's)."""
    painter = QPainter(picture)
    pen = QPen(colour, width)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(pen)
    size = picture.deviceIndependentSize()
    painter.drawRect(QRectF(width / 2, width / 2, size.width() - width, size.height() - width))
    painter.end()
