"""Search filters end to end with a real catalog and the fake encoder: folders by name and path,
capture dates, cameras (from EXIF written into the test photos), tags, lists of filters alone,
sort:date with its relevance cut, the file's time for photos without a capture date, and filters passed
by the caller on top of the query's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import make_photo
from PIL import ExifTags, Image
from test_library import open_library

from photosift.core.errors import QueryError
from photosift.core.library import Library
from photosift.core.search.records import SearchFilters, SearchPage

# name: (folder below Pictures, colour, capture time, (make, model))
PHOTOS: dict[str, tuple[str, str, datetime | None, tuple[str, str] | None]] = {
    "red-a": ("Trips/2023", "red", datetime(2023, 6, 10, 12), ("Google", "Pixel 7")),
    "red-b": ("Trips/2023", "red", datetime(2023, 7, 1, 0), ("Canon", "Canon EOS R5")),
    "green-c": ("Trips/2022", "green", datetime(2022, 12, 31, 23), ("Google", "Pixel 7")),
    "red-d": ("Home", "red", datetime(2024, 1, 5), None),
    "blue-e": ("Home", "blue", None, None),  # dated by its file: FILE_TIME
    "red-f": ("Home/trips-notes", "red", datetime(2021, 1, 1), None),
    "Trips": ("Home", "blue", datetime(2020, 1, 1), None),  # a file named like the folder is not in it
}

FILE_TIME = datetime(2022, 3, 1, 12)  # the modification time of the photo without a capture date


def make_exif_photo(path: Path, colour: str, taken: datetime | None, camera: tuple[str, str] | None) -> None:
    make_photo(path, colour)
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if camera is not None:
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = camera
    with Image.open(path) as img:
        img.load()
        img.save(path, "JPEG", quality=90, exif=exif)


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    for name, (folder, colour, taken, camera) in PHOTOS.items():
        make_exif_photo(tmp_path / "Pictures" / folder / f"{name}.jpg", colour, taken, camera)
    os.utime(tmp_path / "Pictures" / "Home" / "blue-e.jpg", (FILE_TIME.timestamp(), FILE_TIME.timestamp()))
    return tmp_path / "Pictures"


@pytest.fixture
def library(home: Path, pictures: Path) -> Iterator[Library]:
    lib = open_library(home)
    lib.add_folder(pictures)
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def names(page: SearchPage) -> list[str]:
    return [Path(hit.path).stem for hit in page.hits]


def found(library: Library, text: str, filters: SearchFilters | None = None) -> set[str]:
    return set(names(library.search(text, filters, limit=50)))


def test_folder_names_match_whole_folders_at_any_depth(library: Library, pictures: Path) -> None:
    assert found(library, "folder:trips") == {"red-a", "red-b", "green-c"}
    assert found(library, "folder:Trips/2023") == found(library, "folder:2023") == {"red-a", "red-b"}
    assert found(library, "folder:Pictures") == set(PHOTOS)  # the watched folder's own name counts
    assert found(library, f"folder:{pictures.parent.name}") == set()  # folders above it do not
    assert found(library, "folder:2023 folder:Home") == {"red-a", "red-b", "red-d", "blue-e", "red-f", "Trips"}


def test_folder_paths_take_everything_below(library: Library, pictures: Path) -> None:
    assert found(library, f'folder:"{pictures / "Home" / "trips-notes"}"') == {"red-f"}
    assert found(library, "folder:./Trips") == set()  # resolved against the current folder: not a watched one
    assert set(names(library.search("folder:./Trips", base=pictures, limit=50))) == {"red-a", "red-b", "green-c"}


def test_dates_are_inclusive_after_and_exclusive_before(library: Library) -> None:
    assert found(library, "after:2023-06 before:2024") == {"red-a", "red-b"}
    assert found(library, "after:2023-07") == {"red-b", "red-d"}
    assert found(library, "before:2023") == {"green-c", "red-f", "Trips", "blue-e"}  # blue-e by its file's time
    assert found(library, "after:2022-03-01 before:2022-03-02") == {"blue-e"}


def test_cameras_match_any_part_ignoring_case(library: Library) -> None:
    assert found(library, "camera:pixel") == {"red-a", "green-c"}
    assert found(library, 'camera:"canon eos" camera:"PIXEL 7"') == {"red-a", "red-b", "green-c"}


def test_filters_restrict_a_ranked_search(library: Library) -> None:
    page = library.search("red folder:Trips", limit=2)
    assert set(names(page)) == {"red-a", "red-b"} and page.has_more
    assert all(hit.score is not None and hit.score > 0.8 for hit in page.hits)


def test_filters_alone_list_photos_newest_first_undated_by_file_time(library: Library) -> None:
    page = library.search("folder:Home")
    assert names(page) == ["red-d", "blue-e", "red-f", "Trips"]
    assert all(hit.score is None for hit in page.hits)
    assert names(library.search("folder:Home sort:oldest")) == ["Trips", "red-f", "blue-e", "red-d"]
    assert names(library.search("folder:Home", limit=2, offset=1)) == ["blue-e", "red-f"]


def test_sort_by_date_keeps_the_relevant_hits_then_orders_them(library: Library) -> None:
    page = library.search("red sort:date")
    assert names(page) == ["red-d", "red-b", "red-a", "red-f"]  # green and blue are far below the best hit
    assert names(library.search("red sort:oldest")) == ["red-f", "red-a", "red-b", "red-d"]
    assert names(library.search("red", SearchFilters(sort="newest"))) == names(page)


def test_a_minimum_score_cuts_a_relevance_ranking(library: Library) -> None:
    assert found(library, "red", SearchFilters(min_score=0.8)) == {"red-a", "red-b", "red-d", "red-f"}
    assert found(library, "red", SearchFilters(min_score=1.5)) == set()


def test_callers_filters_and_the_querys_must_both_hold(library: Library, pictures: Path) -> None:
    assert found(library, "folder:Trips", SearchFilters(after=datetime(2023, 1, 1))) == {"red-a", "red-b"}
    assert found(library, "after:2023", SearchFilters(folders=(str(pictures / "Home"),))) == {"red-d"}


def test_tags_must_all_hold_and_excluded_tags_none(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = {Path(hit.path).stem: hit.photo_id for hit in library.search("folder:Pictures", limit=50).hits}
    tags = {"beach": {ids["red-a"], ids["red-b"], ids["green-c"]}, "family": {ids["red-b"], ids["green-c"]}}

    def tagged_photo_ids(name: str) -> set[int]:
        if name not in tags:
            raise QueryError(f"There is no tag named {name}.")
        return tags[name]

    # A test double for the tags work's Library.tagged_photo_ids: only its contract matters here.
    monkeypatch.setattr(library, "tagged_photo_ids", tagged_photo_ids, raising=False)
    assert found(library, "tag:beach tag:family") == {"red-b", "green-c"}
    assert found(library, "tag:beach -tag:family") == {"red-a"}
    assert found(library, "red -tag:beach folder:Home") == {"red-d", "red-f", "blue-e", "Trips"}
    with pytest.raises(QueryError, match="no tag named dogs"):
        library.search("tag:dogs")


def test_unknown_album_is_a_query_error(library: Library) -> None:
    with pytest.raises(QueryError, match='no album named "Nowhere"'):
        library.search('red album:"Nowhere"')
