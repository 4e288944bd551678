"""Photos with GPS written into their EXIF, as cameras and phones write it (degrees, minutes, seconds as
rationals with N/S and E/W references), at real coordinates of known cities."""

from __future__ import annotations

from pathlib import Path

from conftest import make_photo
from PIL import ExifTags, Image

# name: (latitude, longitude) of a point in the city centre
CITIES = {
    "lisbon": (38.72, -9.14),
    "porto": (41.15, -8.61),
    "tokyo": (35.68, 139.69),
    "sydney": (-33.87, 151.21),
    "sao-paulo": (-23.55, -46.63),
}


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def make_gps_photo(path: Path, lat: float, lon: float, colour: str = "red") -> Path:
    """A small JPEG whose EXIF GPS IFD places it at (lat, lon)."""
    make_photo(path, colour)
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    with Image.open(path) as img:
        img.load()
        img.save(path, "JPEG", quality=90, exif=exif)
    return path


def make_city_photos(root: Path) -> Path:
    """One photo per city in CITIES (red), two more in Lisbon (green, blue), and one without GPS."""
    for name, (lat, lon) in CITIES.items():
        make_gps_photo(root / f"{name}.jpg", lat, lon)
    make_gps_photo(root / "lisbon-2.jpg", 38.7139, -9.1394, "green")  # Baixa, ~0.8 km from the first
    make_gps_photo(root / "belem.jpg", 38.6979, -9.2061, "blue")  # Belém, ~6 km west
    make_photo(root / "no-gps.jpg", "green")
    return root
