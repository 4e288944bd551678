"""Thumbnails for the results grid: made in the background, kept as small JPEGs in Photosift's cache.

A thumbnail is written under the cache folder (`Paths.cache / "thumbnails"`), named by photo id and tier,
never next to the photo: Photosift does not write into photo folders. Until one is ready the view shows
a placeholder; `ready` says when it can be drawn. A photo whose file cannot be read gets a tile that says
so (`unreadable_picture`) instead, so it does not look forever about to load. The results grid takes the
bare `picture` (its cells have the photo's shape); the square `icon`, the picture centred on a transparent
canvas, keeps names aligned in the plain icon lists of the review queue and the fine-tuning wizard.

Tiers are named by the height of the grid lines they cover, in device pixels: a tier's thumbnail is at
least that tall (a cropped sliver's, as wide as its cell), so a cell of any aspect from MIN_ASPECT to
MAX_ASPECT is drawn from a picture at least its size, never enlarged. `fit_to` picks the smallest tier that
covers a line height once the justified layout has stretched it (by MAX_GROWTH at most) on the screen's
device pixel ratio. Sizing tiers by height rather than by the long side is what covers wide photos: a
384-pixel long side left a 16:9 photo 216 pixels tall for cells 320 and more. Tiers double, the simplest
ladder that keeps smaller grids cheap: one large tier for the tallest line (512) would give the default
160-pixel grid four times the pixels of its own tier (256, as large as the old 384-pixel thumbnails up to
3:2). A photo has four thumbnails at most, and each tier serves lines from about half its height up.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, QPoint, QRect, QRectF, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPen, QPixmap

from photosift.app.gui.widgets.justified import MAX_ASPECT, MAX_GROWTH, MIN_ASPECT
from photosift.app.priority import lower_this_thread
from photosift.core.atomic import TEMP_SUFFIX, remove_stale_temps
from photosift.core.errors import ImageError
from photosift.core.imageio import load_image

# The square icons are drawn in. No thumbnail is smaller than its photo's fit in it, so the icon lists'
# 128-160 px icons stay sharp, portraits too (~10 KB a file).
THUMB_SIZE = 192
UNREADABLE_TEXT = "Cannot be read"  # on the tile of a photo whose file is damaged or not a picture
# The smallest tier: THUMB_SIZE's fit of a 3:2 photo is that tall, so up to 3:2 the smallest thumbnails
# are the 192-pixel ones they always were; only wider photos' are taller, to cover their cells.
SMALL_LINE = THUMB_SIZE * 2 // 3
# Line heights in device pixels that thumbnails are made to cover. The View menu's largest size
# (prefs.THUMBNAIL_MAX, 320) stretches to 400, under 512 on screens up to 1.28x; 1024 covers 2x screens.
TIERS = (SMALL_LINE, 2 * SMALL_LINE, 4 * SMALL_LINE, 8 * SMALL_LINE)
# Decoded thumbnails kept in memory: a few screens of results; the files on disk stay either way. At most
# MEMORY_ITEMS of them, and at most the pixels of 1000 of the 384-pixel ones of old (~400 MB): a 2x
# screen's 1536 x 1024 thumbnails would otherwise take 6 GB. Even then that is a few screens of them.
MEMORY_ITEMS = 1000
MEMORY_PIXELS = 1000 * 384 * 256
# Decode threads: thumbnail work should not starve searches and indexing on a 2-core machine.
THREADS = 2


def thumbnail_file(cache_dir: Path, photo_id: int, size: int) -> Path:
    """Where the photo's thumbnail of tier `size` is cached. Files of sizes that are not tiers (192 and 384,
    long sides, before tiers were line heights) are never read, and `prune_thumbnails` deletes them."""
    return cache_dir / f"{photo_id}-{size}.jpg"


def tier_for(line: int, ratio: float = 1.0) -> int:
    """The smallest tier whose thumbnails cover grid lines of target height `line` (logical pixels) once
    justified (MAX_GROWTH taller at most) on a screen of device pixel `ratio`; the largest if none does."""
    needed = math.ceil(line * MAX_GROWTH * ratio)
    return next((tier for tier in TIERS if tier >= needed), TIERS[-1])


def thumbnail_size(width: int, height: int, line: int) -> tuple[int, int]:
    """The size of the thumbnail of a `width` x `height` photo for tier `line`: as tall as the line (a photo
    narrower than MIN_ASPECT: as wide as its cropped cell), never smaller than its fit in THUMB_SIZE, its
    long side at most MAX_ASPECT lines (a wider panorama's cropped cell is then enlarged: a 10:1 one at
    tier 512 would be 5120 pixels long), and never larger than the photo."""
    scale = max(line / height, MIN_ASPECT * line / width, THUMB_SIZE / max(width, height))
    scale = min(scale, MAX_ASPECT * line / max(width, height), 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def prune_thumbnails(cache_dir: Path, live_ids: set[int]) -> int:
    """Delete cached thumbnails of photos the catalog no longer has (removed folders, deleted or edited
    photos) or of sizes no longer made, and the half-written ones of a process that quit or was killed
    mid-write; returns how many thumbnails went. Only Photosift's own cache is touched."""
    remove_stale_temps(cache_dir)
    removed = 0
    for file in cache_dir.glob("*-*.jpg"):
        photo_id, _, size = file.stem.partition("-")
        if photo_id.isdigit() and (int(photo_id) not in live_ids or not size.isdigit() or int(size) not in TIERS):
            file.unlink(missing_ok=True)
            removed += 1
    return removed


def make_thumbnail(source: Path, target: Path, size: int) -> None:
    """Write a JPEG of `source` for tier `size` (`thumbnail_size`); written aside and renamed, so never half
    a file."""
    # JPEGs decode at reduced scale, fast for big photos. A short side of `size` holds the tier's thumbnail
    # (a portrait's is narrower than its line), one of THUMB_SIZE a square photo's fit in THUMB_SIZE.
    img, _ = load_image(source, min_side=max(size, THUMB_SIZE))
    fitted = thumbnail_size(img.width, img.height, size)
    if fitted != img.size:
        img = img.resize(fitted, Image.Resampling.BICUBIC, reducing_gap=2.0)  # as Image.thumbnail resamples
    target.parent.mkdir(parents=True, exist_ok=True)
    # core.atomic's pattern for temporary files, so that `remove_stale_temps` finds those a killed app left.
    partial = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}{TEMP_SUFFIX}")
    img.save(partial, "JPEG", quality=85)
    partial.replace(target)


THUMBNAIL_UNREADABLE = "its thumbnail file could not be read"


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
            self._cache._finished.emit(self._id, self._size, THUMBNAIL_UNREADABLE if image.isNull() else image)
        except ImageError as exc:  # an unreadable photo gets the tile that says so, and why (its message)
            self._cache._finished.emit(self._id, self._size, str(exc))
        except OSError as exc:
            self._cache._finished.emit(self._id, self._size, exc.strerror or str(exc))


class ThumbnailCache(QObject):
    """Hands out thumbnails of one tier (`size`, a line height in TIERS), generating missing ones on a
    thread pool; the results grid moves it between tiers with `fit_to`."""

    ready = Signal(int)  # photo id whose thumbnail (or the unreadable tile) can now be drawn
    dropped = Signal(int)  # photo id whose thumbnail left memory (least recently asked for)
    _finished = Signal(int, int, object)  # from a worker: photo id, tier, its QImage or why it cannot be read

    def __init__(self, cache_dir: Path, size: int = SMALL_LINE, parent: QObject | None = None):
        super().__init__(parent)
        if size not in TIERS:
            raise ValueError(f"thumbnail size must be one of {TIERS}, not {size}")
        self.cache_dir = cache_dir
        self.size = size
        self._ratio = 1.0  # the screen's device pixel ratio, as `fit_to` was last told
        self.placeholder = _placeholder(THUMB_SIZE)
        self._pictures: OrderedDict[int, QPixmap] = OrderedDict()  # least recently asked for first
        self._pixels = 0  # theirs, all together
        self._icons: dict[int, QIcon] = {}  # square icons of some of those pictures, made when asked for
        self._pending: set[int] = set()
        self._broken: dict[int, str] = {}  # photos that cannot be read, and why
        self._unreadable: QPixmap | None = None  # the tile of photos that cannot be read, at this tier
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(THREADS)
        self._finished.connect(self._on_finished)

    def picture(self, photo_id: int, path: str) -> QPixmap | None:
        """The thumbnail if it is ready (the unreadable tile for a photo that cannot be read); otherwise
        None, and it is being made (the view draws the placeholder)."""
        if photo_id in self._pictures:
            self._pictures.move_to_end(photo_id)
            return self._pictures[photo_id]
        if photo_id in self._broken:
            return self._unreadable_tile()
        if photo_id not in self._pending:
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
            self._icons[photo_id] = QIcon(QPixmap.fromImage(_squared(picture.toImage(), THUMB_SIZE)))
        return self._icons[photo_id]

    def preview(self, photo_id: int) -> QPixmap | None:
        """The thumbnail picture if it is in memory; unlike `picture`, never starts making one."""
        return self._unreadable_tile() if photo_id in self._broken else self._pictures.get(photo_id)

    def unreadable_reason(self, photo_id: int) -> str | None:
        """Why the photo's thumbnail could not be made (its tile says "Cannot be read"); None otherwise."""
        return self._broken.get(photo_id)

    def is_ready(self, photo_id: int) -> bool:
        """Whether the photo's thumbnail is done: drawn from memory, or known to be unreadable."""
        return photo_id in self._pictures or photo_id in self._broken

    def fit_to(self, line: int, ratio: float | None = None) -> bool:
        """Use the tier that covers grid lines of target height `line` (`tier_for`) on a screen of device
        pixel `ratio` (None: the ratio last given, at first 1); True if the tier changed (pictures drop and
        are made again at the new tier, from files already cached at that tier where they exist)."""
        if ratio is not None:
            self._ratio = ratio
        size = tier_for(line, self._ratio)
        if size == self.size:
            return False
        self.drop_queued()
        self.size = size
        self._icons.clear()
        self._pictures.clear()
        self._pixels = 0
        self._broken.clear()
        self._unreadable = None
        return True

    def drop_queued(self) -> None:
        """Forget requests not started yet (the results they were for are gone); running ones finish."""
        self._pool.clear()
        self._pending.clear()

    def wait(self, wait_ms: int = -1) -> bool:
        """Block until running work is done, at most `wait_ms` (-1: as long as it takes); returns whether it is."""
        return self._pool.waitForDone(wait_ms)

    @Slot(int, int, object)
    def _on_finished(self, photo_id: int, size: int, image: QImage | str) -> None:
        if size != self.size:  # made for the tier before `fit_to`: too small (or large) for today's cells
            return
        self._pending.discard(photo_id)
        if isinstance(image, str):
            self._broken[photo_id] = image
            self.ready.emit(photo_id)
            return
        self._forget(photo_id)  # a request made again after `drop_queued` while its first was running
        self._pictures[photo_id] = QPixmap.fromImage(image)
        self._pixels += image.width() * image.height()
        while len(self._pictures) > 1 and (len(self._pictures) > MEMORY_ITEMS or self._pixels > MEMORY_PIXELS):
            old = next(iter(self._pictures))
            self._forget(old)
            self.dropped.emit(old)
        self.ready.emit(photo_id)

    def _unreadable_tile(self) -> QPixmap:
        if self._unreadable is None:
            self._unreadable = unreadable_picture(self.size)
        return self._unreadable

    def _forget(self, photo_id: int) -> None:
        picture = self._pictures.pop(photo_id, None)
        if picture is not None:
            self._pixels -= picture.width() * picture.height()
            self._icons.pop(photo_id, None)


def unreadable_picture(size: int) -> QPixmap:
    """A `size`-pixel square saying "Cannot be read" in the palette's text colour, for a photo whose file is
    damaged or not a picture: the placeholder's grey, darker, so it reads as an answer, not as loading."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(128, 128, 128, 120))
    painter = QPainter(pixmap)
    font = painter.font()
    font.setPixelSize(max(8, size // 10))
    painter.setFont(font)
    painter.setPen(QGuiApplication.palette().color(QPalette.ColorRole.Text))
    margin = size // 10
    flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
    painter.drawText(pixmap.rect().adjusted(margin, margin, -margin, -margin), flags, UNREADABLE_TEXT)
    painter.end()
    return pixmap


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
