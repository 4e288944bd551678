"""Tests for core.imageio and core.exif: real photos, synthetic edge cases, and every way a file can be bad."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image, features

import photosift.core.imageio as imageio_module
from photosift.core.errors import ImageError
from photosift.core.exif import metadata_from_exif, tidy_camera
from photosift.core.imageio import (
    CORRUPT,
    HEIF_EXTRA_NEEDED,
    NOT_AN_IMAGE,
    PHOTO_EXTENSIONS,
    RAW_EXTRA_NEEDED,
    PhotoMetadata,
    load_image,
)

HAS_HEIF = importlib.util.find_spec("pillow_heif") is not None
HAS_RAWPY = importlib.util.find_spec("rawpy") is not None


@pytest.fixture
def hymenoptera(shared_data: Path) -> Path:
    return shared_data / "hymenoptera"


def _save(img: Image.Image, path: Path, **params: object) -> Path:
    img.save(path, **params)
    return path


def _two_halves(size: tuple[int, int] = (64, 32)) -> Image.Image:
    """Red left half, blue right half: shows which way an image was turned."""
    img = Image.new("RGB", size, "red")
    img.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    return img


def _camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Google"
    exif[ExifTags.Base.Model] = "Pixel 7"
    exif[ExifTags.Base.DateTime] = "2024:01:01 00:00:00"  # when it was edited: must lose to DateTimeOriginal
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2023:07:14 18:02:33"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (48.0, 51.0, 24.0), 3: "W", 4: (2.0, 21.0, 8.0)})
    return exif


def _png_header(path: Path, width: int, height: int) -> Path:
    """Write a PNG with a valid IHDR claiming `width` x `height` and no pixel data at all."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


def _error(path: Path, min_side: int | None = None) -> str:
    with pytest.raises(ImageError) as caught:
        load_image(path, min_side)
    return str(caught.value)


# Real photos


def test_real_photos_load_as_rgb_at_their_metadata_size(hymenoptera: Path) -> None:
    photos = sorted(hymenoptera.rglob("*.jp*g"))[::25]
    assert len(photos) >= 10
    for photo in photos:
        img, meta = load_image(photo)
        assert img.mode == "RGB"
        assert img.size == (meta.width, meta.height), photo


def test_real_photo_metadata_falls_back_to_datetime_when_original_is_zeroed(hymenoptera: Path) -> None:
    # This Nikon photo's DateTimeOriginal is "0000:00:00 00:00:00"; its DateTime is real.
    _, meta = load_image(hymenoptera / "train" / "ants" / "MehdiabadiAnt2_600.jpg")
    assert meta.camera == "NIKON E990"
    assert meta.taken_at == datetime(2007, 9, 20, 9, 21, 17)
    assert (meta.width, meta.height, meta.orientation) == (600, 445, 1)


def test_real_photo_camera_loses_company_suffix(hymenoptera: Path) -> None:
    _, meta = load_image(hymenoptera / "train" / "ants" / "Nepenthes_rafflesiana_ant.jpg")
    assert meta.camera == "OLYMPUS C300Z,D550Z"  # Make is "OLYMPUS OPTICAL CO.,LTD"


def test_image_not_found_placeholder_is_a_valid_gif_and_loads(hymenoptera: Path) -> None:
    # Despite its name, imageNotFound.gif is a well-formed 300x300 one-frame GIF (a grey "not found" graphic),
    # so it is a picture like any other.
    img, meta = load_image(hymenoptera / "train" / "ants" / "imageNotFound.gif")
    assert (img.mode, img.size) == ("RGB", (300, 300))
    assert (meta.width, meta.height, meta.taken_at) == (300, 300, None)
    assert img.getpixel((0, 0)) == (247, 247, 247)


def test_truncated_jpeg_is_reported_as_corrupt(hymenoptera: Path, tmp_path: Path) -> None:
    data = (hymenoptera / "train" / "ants" / "0013035.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    assert _error(cut) == CORRUPT
    assert _error(cut, min_side=64) == CORRUPT


# Orientation and metadata


def test_exif_orientation_is_applied_and_metadata_read(tmp_path: Path) -> None:
    path = _save(_two_halves(), tmp_path / "phone.jpg", exif=_camera_exif())
    img, meta = load_image(path)
    # Orientation 6 turns the stored 64x32 image a quarter clockwise: the red left half ends up on top.
    assert img.size == (32, 64)
    assert img.getpixel((16, 8))[0] > 200 and img.getpixel((16, 56))[2] > 200
    assert (meta.width, meta.height, meta.orientation) == (32, 64, 6)
    assert meta.taken_at == datetime(2023, 7, 14, 18, 2, 33)
    assert meta.camera == "Google Pixel 7"
    assert meta.gps_lat == pytest.approx(48.856667, abs=1e-6)
    assert meta.gps_lon == pytest.approx(-2.352222, abs=1e-6)


def test_photo_without_exif_has_empty_metadata(tmp_path: Path) -> None:
    _, meta = load_image(_save(_two_halves(), tmp_path / "plain.png"))
    assert meta == PhotoMetadata(width=64, height=32)


def test_malformed_exif_does_not_reject_the_photo(tmp_path: Path) -> None:
    jpeg = _save(_two_halves(), tmp_path / "ok.jpg").read_bytes()
    payload = b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + b"\xff\x07" + os.urandom(40)  # 2047 entries, 40 bytes
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    broken = tmp_path / "broken-exif.jpg"
    broken.write_bytes(jpeg[:2] + segment + jpeg[2:])
    img, meta = load_image(broken)
    assert img.size == (64, 32)
    assert (meta.orientation, meta.camera, meta.taken_at) == (1, None, None)


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [
        ("NIKON CORPORATION", "NIKON D750", "NIKON D750"),
        ("Canon", "Canon EOS R5", "Canon EOS R5"),
        ("Google", "Pixel 7", "Google Pixel 7"),
        ("OLYMPUS IMAGING CORP.  ", "E-M5", "OLYMPUS E-M5"),
        ("EASTMAN KODAK COMPANY", "KODAK EASYSHARE C713", "KODAK EASYSHARE C713"),
        ("LG Electronics", "LG-H870", "LG-H870"),
        ("Apple\x00\x00", None, "Apple"),
        (None, "  ", None),
    ],
)
def test_camera_name_is_tidied(make: str | None, model: str | None, expected: str | None) -> None:
    assert tidy_camera(make, model) == expected


@pytest.mark.parametrize(
    ("original", "fallback", "expected"),
    [
        ("2021:05:06 07:08:09", "2022:01:01 00:00:00", datetime(2021, 5, 6, 7, 8, 9)),
        ("    :  :     :  :  ", "2022:01:01 00:00:00\x00", datetime(2022, 1, 1)),
        ("2021:13:40 99:00:00", None, None),
        (None, "2019-03-04 05:06:07", datetime(2019, 3, 4, 5, 6, 7)),
    ],
)
def test_capture_date_prefers_original_and_survives_junk(
    original: str | None, fallback: str | None, expected: datetime | None
) -> None:
    exif = Image.Exif()
    if fallback is not None:
        exif[ExifTags.Base.DateTime] = fallback
    if original is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = original
    assert metadata_from_exif(exif, (10, 10)).taken_at == expected


@pytest.mark.parametrize(
    ("gps", "expected"),
    [
        ({1: "S", 2: (33.0, 55.0, 30.0), 3: "E", 4: (18.0, 25.0, 12.0)}, (-33.925, 18.42)),
        ({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}, (None, None)),  # no fix recorded as 0/0
        ({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)}, (None, None)),  # impossible latitude
        ({1: "N", 2: (10.0, 0.0, 0.0)}, (None, None)),  # a latitude alone is not a place
    ],
)
def test_gps_is_signed_and_validated(gps: dict[int, object], expected: tuple[float | None, float | None]) -> None:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    meta = metadata_from_exif(exif, (10, 10))
    assert (meta.gps_lat, meta.gps_lon) == pytest.approx(expected)


# Modes and formats


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "BMP", "GIF", "JPEG"])
def test_common_formats_round_trip(tmp_path: Path, fmt: str) -> None:
    path = _save(_two_halves(), tmp_path / f"img.{fmt.lower()}", format=fmt)
    img, _ = load_image(path)
    assert (img.mode, img.size) == ("RGB", (64, 32))
    assert img.getpixel((8, 16))[0] > 200 and img.getpixel((56, 16))[2] > 200


def test_transparency_is_composited_on_white(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (4, 1), (0, 0, 0, 0))
    rgba.putpixel((1, 0), (255, 0, 0, 128))
    rgba.putpixel((2, 0), (0, 0, 255, 255))
    img, _ = load_image(_save(rgba, tmp_path / "alpha.png"))
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((1, 0)) == pytest.approx((255, 127, 127), abs=1)
    assert img.getpixel((2, 0)) == (0, 0, 255)


def test_gif_gives_its_first_frame_with_transparency_on_white(tmp_path: Path) -> None:
    first = Image.new("P", (8, 8), 1)
    first.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255])
    first.putpixel((0, 0), 0)
    second = first.copy()
    second.paste(2, (0, 0, 8, 8))
    path = _save(first, tmp_path / "anim.gif", save_all=True, append_images=[second], transparency=0, duration=50)
    with Image.open(path) as check:
        assert check.n_frames == 2
    img, _ = load_image(path)
    assert img.getpixel((4, 4)) == (255, 0, 0)
    assert img.getpixel((0, 0)) == (255, 255, 255)


def test_sixteen_bit_greyscale_keeps_its_tones(tmp_path: Path) -> None:
    grey = Image.new("I;16", (2, 1))
    grey.putpixel((0, 0), 0x8000)
    grey.putpixel((1, 0), 0xFFFF)
    img, _ = load_image(_save(grey, tmp_path / "deep.png"))
    assert img.getpixel((0, 0)) == (128, 128, 128)  # not clipped to white
    assert img.getpixel((1, 0)) == (255, 255, 255)


@pytest.mark.parametrize(("mode", "colour"), [("CMYK", (0, 255, 255, 0)), ("L", 90), ("1", 1)])
def test_other_modes_become_rgb(tmp_path: Path, mode: str, colour: int | tuple[int, ...]) -> None:
    fmt = "PNG" if mode == "1" else "JPEG"
    img, _ = load_image(_save(Image.new(mode, (16, 16), colour), tmp_path / f"m.{fmt.lower()}", format=fmt))
    expected = {"CMYK": (255, 0, 0), "L": (90, 90, 90), "1": (255, 255, 255)}[mode]
    assert img.mode == "RGB"
    assert img.getpixel((8, 8)) == pytest.approx(expected, abs=3)


@pytest.mark.parametrize(
    "fmt",
    [
        "PNG",
        "WEBP",
        "TIFF",
        pytest.param("AVIF", marks=pytest.mark.skipif(not features.check("avif"), reason="Pillow lacks AVIF")),
    ],
)
def test_exif_is_read_from_every_container(tmp_path: Path, fmt: str) -> None:
    img, meta = load_image(_save(_two_halves(), tmp_path / f"img.{fmt.lower()}", exif=_camera_exif()))
    # TIFF and AVIF decoders may turn the pixels themselves; either way the result is upright exactly once.
    assert img.size == (32, 64)
    assert img.getpixel((16, 8))[0] > 200 and img.getpixel((16, 56))[2] > 200
    assert (meta.width, meta.height, meta.camera) == (32, 64, "Google Pixel 7")


def test_heic_without_the_extra_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if the extra were not installed
    imageio_module._heif_opener_registered.cache_clear()  # it remembers whether the extra was found
    request.addfinalizer(imageio_module._heif_opener_registered.cache_clear)
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(16))
    assert _error(path) == HEIF_EXTRA_NEEDED


@pytest.mark.skipif(not HAS_HEIF, reason="needs the optional 'heif' extra (pillow-heif)")
def test_heic_loads_with_the_extra(tmp_path: Path) -> None:
    import pillow_heif

    path = tmp_path / "IMG_0001.heic"
    pillow_heif.from_pillow(_two_halves()).save(path, exif=_camera_exif().tobytes())
    img, meta = load_image(path, min_side=32)
    assert img.size == (32, 64)  # upright, whether pillow-heif or we applied the orientation
    assert meta.camera == "Google Pixel 7"


def test_raw_without_the_extra_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rawpy", None)  # as if the extra were not installed
    path = tmp_path / "DSC_0001.NEF"
    path.write_bytes(b"MM\x00*" + bytes(64))
    assert _error(path) == RAW_EXTRA_NEEDED


@pytest.mark.skipif(not HAS_RAWPY, reason="needs the optional 'raw' extra (rawpy)")
def test_raw_extra_rejects_a_non_raw_file_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "fake.dng"
    path.write_bytes(os.urandom(4096))
    assert _error(path).startswith("not a RAW photo")


def test_photo_extensions_are_lowercase_with_a_dot() -> None:
    assert {".jpg", ".heic", ".avif", ".dng", ".cr3"} <= PHOTO_EXTENSIONS
    assert all(ext.startswith(".") and ext == ext.lower() for ext in PHOTO_EXTENSIONS)


# Reduced decoding


def test_draft_decodes_a_large_jpeg_at_reduced_scale(tmp_path: Path) -> None:
    path = _save(Image.new("RGB", (4000, 3000), "green"), tmp_path / "big.jpg", exif=_camera_exif())
    img, meta = load_image(path, min_side=224)
    assert (meta.width, meta.height) == (3000, 4000)  # full size, upright
    assert 224 <= min(img.size) < 2 * 224
    assert img.size == (375, 500)  # 1/8-scale decode, turned upright


def test_other_formats_are_reduced_after_decoding(tmp_path: Path) -> None:
    img, meta = load_image(_save(_two_halves((2000, 1000)), tmp_path / "wide.png"), min_side=224)
    assert (meta.width, meta.height) == (2000, 1000)
    assert img.size == (500, 250)
    assert img.getpixel((10, 125))[0] > 200 and img.getpixel((490, 125))[2] > 200


def test_small_images_are_never_enlarged(tmp_path: Path) -> None:
    img, _ = load_image(_save(_two_halves(), tmp_path / "small.jpg"), min_side=224)
    assert img.size == (64, 32)


def test_min_side_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min_side"):
        load_image(tmp_path / "whatever.jpg", min_side=0)


def test_unicode_path(tmp_path: Path) -> None:
    img, _ = load_image(_save(_two_halves(), tmp_path / "фото 写真 ñ.jpg"))
    assert img.size == (64, 32)


# Bad input


def test_random_bytes_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(os.urandom(2048))
    assert _error(path) == NOT_AN_IMAGE


def test_text_named_png_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("shopping list: eggs, milk\n", encoding="utf-8")
    assert _error(path) == NOT_AN_IMAGE


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.touch()
    assert _error(path) == "empty file (0 bytes)"


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "gone.jpg") == "file not found"


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "album.jpg"
    folder.mkdir()
    assert _error(folder) == "not a file (the path is a folder)"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path: Path) -> None:
    path = _save(_two_halves(), tmp_path / "locked.jpg")
    path.chmod(0)
    try:
        assert _error(path) == "cannot read the file: permission denied"
    finally:
        path.chmod(0o600)


def test_huge_dimensions_are_refused_from_the_header(tmp_path: Path) -> None:
    # 169 megapixels: above our limit, below Pillow's own; Pillow's warning must not leak out either.
    message = _error(_png_header(tmp_path / "big.png", 13_000, 13_000))
    assert message == "image too large (13000x13000 pixels; the limit is 160 megapixels)"


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    message = _error(_png_header(tmp_path / "bomb.png", 40_000, 40_000))
    assert message.startswith("image too large (")
    assert message.endswith("the limit is 160 megapixels)")


# Memory per photo stays bounded -----------------------------------------------------------------------


def odd_images() -> list[Image.Image]:
    """Images whose conversion to RGB takes several steps: palette with transparency, RGBA, 16-bit grey."""
    palette = Image.linear_gradient("L").resize((97, 61)).convert("P")
    palette.info["transparency"] = 3
    rgba = Image.merge("RGBA", [Image.linear_gradient("L").resize((61, 97)).rotate(r) for r in (0, 90, 180, 270)])
    grey16 = Image.linear_gradient("L").resize((80, 50)).convert("I").point(lambda v: v * 257).convert("I;16")
    return [palette, rgba, grey16]


@pytest.mark.parametrize("min_side", [None, 16])
def test_large_images_are_converted_in_bands_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_side: int | None
) -> None:
    for i, image in enumerate(odd_images()):
        path = tmp_path / f"odd{i}.png"
        image.save(path, transparency=image.info.get("transparency")) if image.mode == "P" else image.save(path)
        whole, _ = load_image(path, min_side=min_side)
        monkeypatch.setattr(imageio_module, "BAND_PIXELS", 500)  # bands of a few rows
        banded, _ = load_image(path, min_side=min_side)
        monkeypatch.undo()
        assert banded.size == whole.size and banded.tobytes() == whole.tobytes(), image.mode


# VmHWM is this process's own peak: ru_maxrss carries the parent's over exec, and a late pytest process
# is over a gigabyte, which made the test fail or pass by where it ran in the suite.
_PEAK_RSS = """
import sys
from pathlib import Path
from photosift.core.imageio import load_image
load_image(Path(sys.argv[1]), min_side=224)
status = Path("/proc/self/status").read_text().splitlines()
print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads the peak from Linux's /proc/self/status")
def test_a_tiny_palette_png_with_transparency_decodes_in_bounded_memory(tmp_path: Path) -> None:
    """6000x6000 pixels in 60 KB: converted whole it peaked near 600 MB (four full-size copies)."""
    image = Image.new("P", (6000, 6000), 0)
    image.putpalette([255, 255, 255, 200, 30, 30] + [0] * 762)
    image.paste(1, (1000, 1000, 3000, 3000))
    path = tmp_path / "bomb-ish.png"
    image.save(path, transparency=0)
    del image
    child = subprocess.run([sys.executable, "-c", _PEAK_RSS, str(path)], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    peak_mb = int(child.stdout.split()[-1])
    assert peak_mb < 250, f"peak RSS {peak_mb} MB"
