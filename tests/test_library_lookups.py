"""What the front ends ask the library about its photos, instead of reaching into its catalog (issue 14):
a photo by one of its files' paths, each photo's date, and the timeline of the home view."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_photo
from test_library import open_library

from photosift.core.library import Library


@pytest.fixture
def dated(home: Path, tmp_path: Path) -> Iterator[Library]:
    """Three photos without capture dates whose files were last modified a day apart, oldest first."""
    for day, name in enumerate(("old", "middle", "new")):
        path = make_photo(tmp_path / "photos" / f"{name}.jpg", ("red", "green", "blue")[day])
        os.utime(path, (1_700_000_000 + day * 86_400,) * 2)
    library = open_library(home)
    library.add_folder(tmp_path / "photos")
    library.scan()
    yield library
    library.close()


def ids_by_name(library: Library) -> dict[str, int]:
    return {Path(p.paths[0]).stem: i for i, p in library.photos(sorted(library.photo_ids())).items()}


def test_a_photo_is_found_by_any_spelling_of_its_path(
    dated: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    middle = ids_by_name(dated)["middle"]
    monkeypatch.chdir(tmp_path / "photos")
    assert dated.photo_id_for_path(tmp_path / "photos" / "middle.jpg") == middle
    assert dated.photo_id_for_path("middle.jpg") == middle  # relative to the current folder, as typed
    assert dated.photo_id_for_path(make_photo(tmp_path / "elsewhere.jpg")) is None


def test_the_timeline_lists_every_photo_newest_first_with_its_date(dated: Library) -> None:
    ids = ids_by_name(dated)
    timeline, total = dated.timeline_page(0, 10)
    assert [photo_id for photo_id, _ in timeline] == [ids["new"], ids["middle"], ids["old"]] and total == 3
    assert all(date.from_file for _, date in timeline)  # no capture date: the file's time dates them
    assert dated.photo_dates([ids["old"], 10_000]) == {ids["old"]: timeline[-1][1]}  # a photo gone is left out
    assert dated.timeline_page(0, 10, hide_duplicates=True) == (timeline, 3)  # none marked
    assert dated.timeline_page(1, 1) == (timeline[1:2], 3)
