"""Photo metadata read from EXIF: size, capture time, camera and place.

Metadata is a bonus, never a reason to reject a photo: malformed EXIF (common in files that went through
old editors or phone apps) yields an empty `Image.Exif`, and a field that cannot be read becomes None.
"""

from __future__ import annotations

import contextlib
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image

# What Pillow's EXIF parser raises on malformed data (seen by fuzzing the APP1 segment of real JPEGs).
EXIF_ERRORS = (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, EOFError, struct.error)

_SWAPS_SIDES = frozenset({5, 6, 7, 8})  # orientations that turn the stored pixels by 90 degrees
_DATE = re.compile(r"(\d{4})[:\-/](\d\d)[:\-/](\d\d)[ T](\d\d):(\d\d):(\d\d)")
# Corporate words that makers append to the EXIF Make tag ("NIKON CORPORATION", "OLYMPUS OPTICAL CO.,LTD").
_MAKE_SUFFIX = re.compile(r"[\s,]+(corporation|corp|co|company|ltd|inc|optical|imaging|electronics|camera)\.?$", re.I)
# RAW formats that are TIFF inside but carry their own magic number instead of 42 (Olympus ORF, Panasonic RW2).
_TIFF_HEADERS = {b"II": b"II*\x00", b"MM": b"MM\x00*"}


@dataclass(frozen=True)
class PhotoMetadata:
    """What a photo says about itself.

    Attributes:
        width: pixel width of the full image as displayed, i.e. after its EXIF orientation is applied.
        height: pixel height, likewise.
        taken_at: when the shutter fired, as the camera's clock recorded it (naive local time), or None.
        camera: "Make Model" tidied for display ("Google Pixel 7", "NIKON D750"), or None.
        gps_lat: latitude in decimal degrees, negative south of the equator, or None.
        gps_lon: longitude in decimal degrees, negative west of Greenwich, or None.
        orientation: the EXIF orientation (1..8) that Photosift applied to the pixels; 1 when absent, and also
            for TIFF and HEIC files, whose decoders turn the pixels upright themselves.
    """

    width: int
    height: int
    taken_at: datetime | None = None
    camera: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    orientation: int = 1


def read_exif(img: Image.Image) -> Image.Exif:
    """Return the image's EXIF, or an empty one when it is malformed."""
    try:
        return img.getexif()
    except EXIF_ERRORS:
        return Image.Exif()


def tiff_exif(data: bytes) -> Image.Exif:
    """Return the EXIF of a TIFF-structured RAW file (DNG, CR2, NEF, ARW, ORF, RW2, ...), or an empty one.

    Formats that are not TIFF inside (CR3, RAF) give an empty result; their embedded previews rarely say more.
    """
    exif = Image.Exif()
    header = _TIFF_HEADERS.get(data[:2])
    if header is not None:
        with contextlib.suppress(*EXIF_ERRORS):
            exif.load(header + data[4:])
    return exif


def metadata_from_exif(exif: Image.Exif, stored_size: tuple[int, int]) -> PhotoMetadata:
    """Build `PhotoMetadata` from EXIF and the size of the pixels as stored (before orientation)."""
    orientation = orientation_of(exif)
    width, height = stored_size
    if orientation in _SWAPS_SIDES:
        width, height = height, width
    sub = _ifd(exif, ExifTags.IFD.Exif)
    gps = _ifd(exif, ExifTags.IFD.GPSInfo)
    lat = _coordinate(gps, ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLatitudeRef, "S", 90.0)
    lon = _coordinate(gps, ExifTags.GPS.GPSLongitude, ExifTags.GPS.GPSLongitudeRef, "W", 180.0)
    if lat == 0.0 and lon == 0.0:
        lat = lon = None  # devices without a fix write 0/0; "Null Island" is never a real photo location
    return PhotoMetadata(
        width=width,
        height=height,
        taken_at=_parse_date(sub.get(ExifTags.Base.DateTimeOriginal)) or _parse_date(exif.get(ExifTags.Base.DateTime)),
        camera=tidy_camera(exif.get(ExifTags.Base.Make), exif.get(ExifTags.Base.Model)),
        gps_lat=lat if lon is not None else None,
        gps_lon=lon if lat is not None else None,
        orientation=orientation,
    )


def orientation_of(exif: Mapping[int, Any]) -> int:
    """Return the EXIF orientation, treating anything outside 1..8 as 1 (no transform)."""
    value = exif.get(ExifTags.Base.Orientation)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def tidy_camera(make: object, model: object) -> str | None:
    """Join Make and Model for display without the maker's company suffix or a repeated maker name.

    Many models already start with the maker ("Canon" + "Canon EOS R5", "NIKON CORPORATION" + "NIKON D750"),
    so the make is kept only when the model does not begin with one of its words.
    """
    make_text, model_text = _text(make), _text(model)
    while (shorter := _MAKE_SUFFIX.sub("", make_text)) != make_text:
        make_text = shorter
    if not model_text:
        return make_text or None
    if any(model_text.lower().startswith(word.lower()) for word in make_text.split()):
        return model_text
    return f"{make_text} {model_text}".strip()


def _ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return exif.get_ifd(tag)
    except EXIF_ERRORS:
        return {}


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    return " ".join(value.replace("\x00", " ").split())


def _parse_date(value: object) -> datetime | None:
    """Parse an EXIF date ("2023:07:14 18:02:33"); blank or zeroed dates ("0000:00:00 00:00:00") give None."""
    match = _DATE.search(_text(value))
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _coordinate(gps: Mapping[int, Any], value_tag: int, ref_tag: int, negative_ref: str, limit: float) -> float | None:
    """Convert EXIF degrees/minutes/seconds to signed decimal degrees, or None when absent or impossible."""
    parts = gps.get(value_tag)
    if not isinstance(parts, tuple):
        parts = (parts,)  # a few writers store bare decimal degrees instead of a (d, m, s) triple
    try:
        degrees = sum(float(part) / 60.0**i for i, part in enumerate(parts[:3]))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or math.isnan(degrees) or abs(degrees) > limit:
        return None
    return -degrees if _text(gps.get(ref_tag)).upper().startswith(negative_ref) else degrees
