"""File names that are not valid UTF-8 (Latin-1 names from old archives and Windows copies) are stored
losslessly and work everywhere a path goes: scan, index, search results, opening, album and tag exports."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import make_photo
from test_library import open_library

from photosift.core.imageio import load_image
from photosift.core.tags.exchange import export_json, export_xmp

pytestmark = pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="these file systems insist on Unicode")


@pytest.fixture
def latin1_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A folder holding `café.jpg` named in Latin-1 (byte 0xE9), beside an ordinary photo."""
    root = tmp_path / "photos"
    make_photo(root / "plain.jpg", "green")
    odd = Path(os.fsdecode(os.fsencode(root) + b"/caf\xe9.jpg"))
    make_photo(odd, "red")
    assert os.path.exists(os.fsencode(root) + b"/caf\xe9.jpg")
    return root, odd


def test_a_latin1_name_is_indexed_found_and_opened(home: Path, latin1_folder: tuple[Path, Path]) -> None:
    root, odd = latin1_folder
    with open_library(home) as lib:
        lib.add_folder(root)
        (report,) = lib.scan()
        assert report.added == 2 and report.errors == ()
        assert lib.index().embedded == 2
        (best, *_) = lib.search("red", limit=1).hits
        assert best.path == str(odd) and os.fsencode(best.path).endswith(b"/caf\xe9.jpg")
        image, _ = load_image(Path(best.path))
        assert image.size == (64, 48)
        assert lib.catalog.photo_id_for_path(str(odd)) == best.photo_id
        assert lib.similar(odd).hits  # an image term given by its odd path finds the library photo
        (again,) = lib.scan()
        assert (again.added, again.unchanged, lib.status().files) == (0, 2, 2)


def test_a_latin1_name_survives_album_and_tag_exports(
    home: Path, latin1_folder: tuple[Path, Path], tmp_path: Path
) -> None:
    root, odd = latin1_folder
    with open_library(home) as lib:
        lib.add_folder(root)
        lib.scan()
        lib.index()
        odd_id = lib.catalog.photo_id_for_path(str(odd))
        assert odd_id is not None
        lib.albums.create("odd")
        lib.albums.add("odd", [odd_id])
        lib.albums.export(tmp_path / "albums.json")
        data = json.loads((tmp_path / "albums.json").read_text(encoding="utf-8"))
        assert data["albums"][0]["photos"] == [str(odd)]
        lib.tags.add("corner cafe", ["a cafe"], examples=[odd_id])
        lib.tags.accept([(odd_id, "corner cafe")])
        export_json(lib.tags, tmp_path / "tags.json")
        exported = json.loads((tmp_path / "tags.json").read_text(encoding="utf-8"))
        assert str(odd) in {label["path"] for label in exported["labels"]}
        export_xmp(lib.tags, tmp_path / "xmp", accepted_only=True)
        sidecars = [os.fsencode(p) for p in (tmp_path / "xmp").rglob("*.xmp")]
        assert sidecars == [os.fsencode(tmp_path / "xmp" / "photos") + b"/caf\xe9.jpg.xmp"]
