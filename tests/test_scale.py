"""What must not grow with the library: `status` loading the whole vector index, date lookups reading
every photo, tag counts reading every score (issue 17, benchmarks/bench_scale.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_colour_classes
from test_library import open_library

from photosift.core.catalog import photo_filters
from photosift.core.vindex import VectorIndex


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=3)


def test_status_reads_the_index_file_trailer_not_the_index(
    home: Path, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    lib.close()
    reopened = open_library(home)

    def no_load(*_: object, **__: object) -> None:
        raise AssertionError("status loaded the vector index")

    monkeypatch.setattr(VectorIndex, "load", no_load)
    index = reopened.status().index
    assert (index.vectors, index.approximate, index.saved_and_current) == (9, False, True)
    reopened.catalog.close()


def test_status_says_a_stale_index_file_is_rebuilt(home: Path, photos: Path) -> None:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()  # saves the index
    for path in (photos / "red").iterdir():
        path.unlink()
    lib.scan()  # the file now waits for the close
    lib.catalog.close()  # the process dies first: the file's stamp is stale
    reopened = open_library(home)
    index = reopened.status().index
    assert (index.vectors, index.saved_and_current) == (6, False)
    reopened.close()


def test_dates_of_some_photos_by_id_match_a_pass_over_all(
    home: Path, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    wanted = list(range(1, 10))  # the nine photos, in the order the scan added them
    by_id = photo_filters.photo_dates(lib.catalog.engine, wanted[::2])
    monkeypatch.setattr(photo_filters, "FEW_IDS", 0)
    by_pass = photo_filters.photo_dates(lib.catalog.engine, wanted[::2])
    assert by_id == by_pass and list(by_id) == sorted(by_id) and len(by_id) == 5
    lib.close()
