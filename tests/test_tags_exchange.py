"""Exporting and importing tags: a JSON round trip into a new catalog whose photos were moved, and XMP
sidecars written only outside the photo folders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_colour_classes
from tag_helpers import ids_of, open_tag_library

from photosift.core.errors import UserError
from photosift.core.library import Library
from photosift.core.tags.exchange import export_json, export_xmp, import_json


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=3)


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    lib = open_tag_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    lib.tags.add("red", ["red"], examples=sorted(ids_of(lib, photos / "red"))[:1])
    lib.tags.add("green", ["green"])
    yield lib
    lib.close()


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def by_name(library: Library, folder: Path) -> dict[str, int]:
    """File name -> photo id of the photos in `folder` (the names are unique across the colour folders)."""
    return {path.name: i for path in folder.iterdir() if (i := library.catalog.photo_id_for_path(str(path)))}


def test_json_round_trip_into_a_new_catalog_with_moved_photos(library: Library, photos: Path, tmp_path: Path) -> None:
    library.tags.reject([(by_name(library, photos / "green")["green-0.jpg"], "green")])
    library.tags.accept([(by_name(library, photos / "green")["green-1.jpg"], "red")])
    library.tags.set_sensitivity("beach", 1)
    report = export_json(library.tags, tmp_path / "tags.json")
    assert (report.tags, report.labels) == (3, 3)  # red, green, beach; the example plus two labels

    moved = tmp_path / "elsewhere"
    shutil.copytree(photos, moved)  # the same photos at other paths: found again by fingerprint
    fresh = open_tag_library(tmp_path / "other-home")
    fresh.add_folder(moved)
    fresh.scan()
    fresh.index()
    imported = import_json(fresh.tags, tmp_path / "tags.json")
    assert (imported.tags, imported.labels, imported.unmatched) == (3, 3, 0)
    assert fresh.tags.tag("red").prompts == ("red",) and fresh.tags.tag("beach").sensitivity == 1
    assert len(fresh.tags.tag("red").examples) == 1
    green = by_name(fresh, moved / "green")
    assert fresh.tagged_photo_ids("green") == {green["green-1.jpg"], green["green-2.jpg"]}
    assert fresh.tagged_photo_ids("red") == ids_of(fresh, moved / "red") | {green["green-1.jpg"]}
    fresh.close()


def test_import_refuses_other_files(library: Library, tmp_path: Path) -> None:
    (tmp_path / "albums.json").write_text('{"format": "something-else"}')
    with pytest.raises(UserError, match="not a Photosift tag export"):
        import_json(library.tags, tmp_path / "albums.json")
    with pytest.raises(UserError, match="cannot be read"):
        import_json(library.tags, tmp_path / "missing.json")
    (tmp_path / "damaged.json").write_text('{"format": "photosift-tags", "tags": [{"name": "x"}]}')
    with pytest.raises(UserError, match="damaged"):
        import_json(library.tags, tmp_path / "damaged.json")


def test_exports_never_write_into_photo_folders(library: Library, photos: Path, tmp_path: Path) -> None:
    before = files_under(photos)
    with pytest.raises(UserError, match="never writes into photo folders"):
        export_xmp(library.tags, photos / "sidecars")
    with pytest.raises(UserError, match="never writes into photo folders"):
        export_json(library.tags, photos / "red" / "tags.json")
    (tmp_path / "link").symlink_to(photos / "blue")
    with pytest.raises(UserError, match="never writes into photo folders"):
        export_xmp(library.tags, tmp_path / "link")
    assert files_under(photos) == before


def test_xmp_sidecars_carry_each_photos_tags(library: Library, photos: Path, tmp_path: Path) -> None:
    before = files_under(photos)
    report = export_xmp(library.tags, tmp_path / "xmp")
    assert report.files == 6  # the red and the green photos; blue ones carry no tag
    sidecar = tmp_path / "xmp" / "photos" / "red" / "red-1.jpg.xmp"  # below its watched folder, by that one's name
    text = sidecar.read_text(encoding="utf-8")
    assert "<rdf:li>red</rdf:li>" in text and "Photosift|Custom|red" in text and ">green<" not in text
    accepted = export_xmp(library.tags, tmp_path / "accepted", accepted_only=True)
    assert accepted.files == 1  # only the example photo has a label
    assert files_under(photos) == before
