"""Decode photo files into upright RGB Pillow images plus their metadata.

`load_image` is the one door through which photos enter Photosift (indexing, thumbnails, search by example).
Files are untrusted data: every way a single file can fail becomes an `ImageError` whose message is a short
sentence for the user, so an indexing run records it and moves on. Nothing here touches Pillow's global
settings; optional codecs (pillow-heif, rawpy) are imported the first time a file needs them.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import stat
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, cast

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError, features

from photosift.core.errors import FileMissingError, ImageError
from photosift.core.exif import PhotoMetadata, metadata_from_exif, read_exif, tiff_exif

__all__ = [
    "AVIF_UNSUPPORTED",
    "CORRUPT",
    "FILE_NOT_FOUND",
    "HEIF_EXTENSIONS",
    "HEIF_EXTRA_NEEDED",
    "MAX_PIXELS",
    "NOT_AN_IMAGE",
    "PHOTO_EXTENSIONS",
    "RAW_EXTENSIONS",
    "RAW_EXTRA_NEEDED",
    "PhotoMetadata",
    "load_image",
    "retryable_failures",
]

HEIF_EXTENSIONS: Final[frozenset[str]] = frozenset({".heic", ".heif"})
RAW_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw"}
)
PHOTO_EXTENSIONS: Final[frozenset[str]] = (
    frozenset({".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".avif"})
    | HEIF_EXTENSIONS
    | RAW_EXTENSIONS
)

# Largest image we decode. Pillow itself refuses anything above twice its MAX_IMAGE_PIXELS (~179 MP), and core
# may not raise that global, so our limit sits just below it: room for a 151 MP medium-format frame or a
# 20000x8000 panorama, while one decoded RGB image stays under ~500 MB (the prefetch pool decodes several).
MAX_PIXELS: Final = 160_000_000
_LIMIT: Final = f"the limit is {MAX_PIXELS // 1_000_000} megapixels"
# Pixels converted to RGB at once (a band of rows): 4 MP bands cost ~50 MB of intermediate copies, and
# photos up to this size (most phone photos after JPEG draft decoding) are converted whole, as before.
BAND_PIXELS: Final = 4_000_000

HEIF_EXTRA_NEEDED: Final = "HEIC photos need the optional 'heif' extra: pip install 'photosift[heif]'"
RAW_EXTRA_NEEDED: Final = "RAW photos need the optional 'raw' extra: pip install 'photosift[raw]'"
AVIF_UNSUPPORTED: Final = "AVIF photos need Pillow 11.3 or newer with AVIF support: pip install -U Pillow"
NOT_AN_IMAGE: Final = "not an image (the file's contents are not a known picture format)"
CORRUPT: Final = "truncated or corrupt image data"
FILE_NOT_FOUND: Final = "file not found"

# What Pillow's decoders raise on broken files (found by fuzzing): OSError for truncated or undecodable data,
# SyntaxError and struct.error from header parsers, ValueError/EOFError from some plugins, RuntimeError from
# the AVIF and HEIF decoders, and the decompression-bomb guard.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    RuntimeError,
    struct.error,
    Image.DecompressionBombError,
)

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_FLIP_TO_ORIENTATION = {3: 3, 5: 8, 6: 6}  # LibRaw's `sizes.flip` codes as EXIF orientations
_HIGH_BIT_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})  # 16-bit greyscale PNG and TIFF


def load_image(path: Path, min_side: int | None = None) -> tuple[Image.Image, PhotoMetadata]:
    """Decode a photo into an RGB image turned upright by its EXIF orientation.

    Args:
        path: the photo file; its extension picks the optional codec for HEIC and RAW files.
        min_side: when given, the image may come back smaller than the file, but its shortest side stays at
            least this long (or the file's own, if shorter). JPEGs are then decoded at 1/2, 1/4 or 1/8 scale,
            which makes feeding a 224-pixel model from 12-megapixel photos several times faster.

    Returns:
        The image, and the photo's metadata, whose width and height are those of the full-size upright image.

    Raises:
        ImageError: the file is missing, unreadable, not a picture, corrupt, too large, or needs a codec that
            is not installed.
        ValueError: `min_side` is not positive (a caller bug, not a bad file).
    """
    if min_side is not None and min_side < 1:
        raise ValueError(f"min_side must be positive, got {min_side}")
    try:
        _check_regular_file(path)
        suffix = path.suffix.lower()
        with _pillow_warnings_silenced():
            if suffix in RAW_EXTENSIONS:
                return _load_raw(path, min_side)
            _check_codec(suffix)
            # Our own file object, not the path: given a path, Pillow memory-maps uncompressed files (BMP, TIFF),
            # and a file truncated while mapped kills the process with SIGBUS instead of raising.
            with path.open("rb") as file, Image.open(file) as img:
                _check_pixels(img.size)
                return _decode(img, min_side)
    except (FileNotFoundError, NotADirectoryError) as exc:  # moved, renamed, or its drive unplugged
        raise FileMissingError(FILE_NOT_FOUND) from exc
    except _DECODE_ERRORS as exc:
        raise ImageError(_reason(exc)) from exc


def retryable_failures() -> frozenset[str]:
    """Recorded failures whose cause may be gone now: a missing file (catalogs from before missing files
    waited as pending), and a codec that was missing and is installed now. Checked without importing them."""
    fixed = {FILE_NOT_FOUND}
    if importlib.util.find_spec("pillow_heif") is not None:
        fixed.add(HEIF_EXTRA_NEEDED)
    if importlib.util.find_spec("rawpy") is not None:
        fixed.add(RAW_EXTRA_NEEDED)
    if features.check("avif"):
        fixed.add(AVIF_UNSUPPORTED)
    return frozenset(fixed)


def _check_regular_file(path: Path) -> None:
    """Fail early on what Pillow would report confusingly (folders, empty files) or block on (named pipes)."""
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise ImageError("not a file (the path is a folder)")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError("not a regular file (the path is a device, pipe or socket)")
    if info.st_size == 0:
        raise ImageError("empty file (0 bytes)")


@contextmanager
def _pillow_warnings_silenced() -> Iterator[None]:
    """Silence Pillow's warnings about the file at hand, which this module turns into decisions instead.

    DecompressionBombWarning is superseded by our own MAX_PIXELS check; UserWarnings from Pillow's plugins
    report corrupt metadata, which `core.exif` already degrades to "unknown". Before Python 3.14 the filters
    are process-wide, so threads decoding at once may at worst let one such warning print, as by default.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def _check_codec(suffix: str) -> None:
    if suffix in HEIF_EXTENSIONS and not _heif_opener_registered():
        raise ImageError(HEIF_EXTRA_NEEDED)
    if suffix == ".avif" and not features.check("avif"):
        raise ImageError(AVIF_UNSUPPORTED)


@functools.cache
def _heif_opener_registered() -> bool:
    """Register pillow-heif's plugin with Pillow the first time a HEIC file is met; False if not installed."""
    try:
        import pillow_heif  # optional extra, imported only when a HEIC photo needs it
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse huge images from their header alone, before a single pixel is decoded."""
    width, height = size
    if width * height > MAX_PIXELS:
        raise ImageError(f"image too large ({width}x{height} pixels; {_LIMIT})")


def _decode(img: Image.Image, min_side: int | None) -> tuple[Image.Image, PhotoMetadata]:
    """Decode an opened image and its metadata; see `load_image`."""
    full_size = img.size
    _load(img, min_side)
    # EXIF is read after loading: decoders that turn the pixels themselves (TIFF, pillow-heif) drop the
    # orientation tag as they do, and the size they report at open is then already upright.
    meta = metadata_from_exif(read_exif(img), full_size)
    return _finish(img, meta.orientation, min_side), meta


def _load(img: Image.Image, min_side: int | None) -> None:
    """Decode the pixels, JPEGs at 1/2, 1/4 or 1/8 scale when `min_side` allows."""
    if min_side is not None:
        img.draft("RGB", (min_side, min_side))  # only JPEG decoders act on this; others ignore it
    img.load()


def _finish(img: Image.Image, orientation: int, min_side: int | None) -> Image.Image:
    """Return a new RGB image, reduced towards `min_side` and turned upright."""
    rgb = _to_rgb_reduced(img, _reduction(img.size, min_side))
    transpose = _TRANSPOSE.get(orientation)
    return rgb if transpose is None else rgb.transpose(transpose)


def _reduction(size: tuple[int, int], min_side: int | None) -> int:
    """The largest whole box-reduction factor that keeps the shortest side at least `min_side`."""
    return max(1, min(size) // min_side) if min_side is not None else 1


def _to_rgb_reduced(img: Image.Image, factor: int) -> Image.Image:
    """Convert to RGB and box-reduce by `factor`, a band of rows at a time for large images.

    Converted whole, a large image holds several full-size copies at once: a 154 KB palette PNG with
    transparency at 12600x12600 went P -> RGBA -> composite -> RGB and peaked at 2 GB. In bands, memory is
    the decoded image plus one band plus the (reduced) result, whatever the file's mode.
    """
    width, height = img.size
    if width * height <= BAND_PIXELS:
        rgb = _to_rgb(img)
        return rgb.reduce(factor) if factor >= 2 else rgb
    rows = max(factor, BAND_PIXELS // width // factor * factor)  # whole reduction boxes per band
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        band = _to_rgb(img.crop((0, top, width, min(height, top + rows))))
        out.paste(band.reduce(factor) if factor >= 2 else band, (0, top // factor))
    return out


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any mode to a new RGB image; transparency goes onto white, as viewers show it."""
    if img.mode in _HIGH_BIT_MODES:
        # Pillow's own conversion clips 16-bit values at 255 (nearly all white), so scale them down first.
        img = img.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if img.has_transparency_data:
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    return img.convert("RGB")


def _load_raw(path: Path, min_side: int | None) -> tuple[Image.Image, PhotoMetadata]:
    """Decode a RAW photo through the JPEG preview its camera embedded, which is fast and already developed."""
    try:
        import rawpy  # optional extra, imported only when a RAW photo needs it
    except ImportError:
        raise ImageError(RAW_EXTRA_NEEDED) from None
    # rawpy gets bytes, not the path: LibRaw cannot open non-ASCII paths on Windows (letmaik/rawpy#85).
    data = path.read_bytes()
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            thumb, sizes = raw.extract_thumb(), raw.sizes
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError) as exc:
        raise ImageError("no usable preview in this RAW file (Photosift shows RAW photos by their preview)") from exc
    except rawpy.LibRawFileUnsupportedError as exc:
        raise ImageError("not a RAW photo that LibRaw can read (unknown camera or not a RAW file)") from exc
    except rawpy.LibRawError as exc:
        raise ImageError(CORRUPT) from exc
    exif = tiff_exif(data)
    exif[ExifTags.Base.Orientation] = _FLIP_TO_ORIENTATION.get(sizes.flip, 1)  # LibRaw knows maker quirks
    meta = metadata_from_exif(exif, (sizes.width, sizes.height))
    opened: Image.Image
    if thumb.format == rawpy.ThumbFormat.JPEG:
        opened = Image.open(io.BytesIO(cast(bytes, thumb.data)))
    else:  # a bitmap preview, as an (H, W, 3) uint8 array
        opened = Image.fromarray(cast(np.ndarray, thumb.data))
    with opened as preview:
        _check_pixels(preview.size)
        _load(preview, min_side)
        return _finish(preview, meta.orientation, min_side), meta


def _reason(exc: Exception) -> str:
    """Turn a decoding failure into the sentence `ImageError` carries."""
    if isinstance(exc, Image.DecompressionBombError):
        return f"image too large (more pixels than Pillow will open; {_LIMIT})"
    if isinstance(exc, UnidentifiedImageError):
        return NOT_AN_IMAGE
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"cannot read the file: {(exc.strerror or 'input/output error').lower()}"
    return CORRUPT
