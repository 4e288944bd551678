"""Failures per folder: a real scan and index with the fake encoder, files that cannot be read in two
folders, and the catalog listing each folder's failures apart."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_photo
from test_library import open_library

from photosift.core.catalog import PhotoInfo
from photosift.core.errors import FolderNotFoundError
from photosift.core.library import Library


def names(failures: list[PhotoInfo]) -> set[str]:
    return {Path(p.paths[0]).name for p in failures}


@pytest.fixture
def two_folders(tmp_path: Path) -> tuple[Path, Path]:
    """Folder a: one good photo, one corrupt file; folder b: another corrupt file and a copy of a's."""
    a, b = tmp_path / "a", tmp_path / "b"
    make_photo(a / "good.jpg", "red")
    make_photo(b / "good.jpg", "blue")
    (a / "broken.jpg").write_bytes(b"not a jpeg at all, from folder a")
    (b / "garbage.jpg").write_bytes(b"not a jpeg either, from folder b")
    shutil.copy(a / "broken.jpg", b / "broken copy.jpg")
    return a, b


@pytest.fixture
def library(home: Path, two_folders: tuple[Path, Path]) -> Iterator[Library]:
    lib = open_library(home)
    for folder in two_folders:
        lib.add_folder(folder)
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def test_failures_are_listed_per_folder(library: Library, two_folders: tuple[Path, Path]) -> None:
    a, b = two_folders
    assert names(library.failures(a)) == {"broken.jpg"}
    # The copy in b is the same photo as a's broken.jpg: b lists it too, under b's own path.
    assert names(library.failures(b)) == {"broken copy.jpg", "garbage.jpg"}
    assert all(p.error for p in library.failures(b))
    assert len(library.failures()) == 2


def test_catalog_failures_by_folder_id_match_the_folder_counts(library: Library) -> None:
    for folder in library.folders():
        failures = library.catalog.failures(folder_id=folder.id)
        assert len(failures) == folder.failed_count
        assert all(p.status == "failed" for p in failures)
    a_id, b_id = (f.id for f in library.folders())
    assert [f.failed_count for f in library.folders()] == [1, 2]
    first_in_b = library.catalog.failures(limit=1, folder_id=b_id)
    assert len(first_in_b) == 1 and first_in_b == library.catalog.failures(limit=1, folder_id=a_id)


def test_failures_of_a_folder_not_in_the_library_is_an_error(library: Library, tmp_path: Path) -> None:
    with pytest.raises(FolderNotFoundError):
        library.failures(tmp_path / "elsewhere")
