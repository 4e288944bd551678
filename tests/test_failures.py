"""Failures per folder: a real scan and index with the fake encoder, files that cannot be read in two
folders, and the catalog listing each folder's failures apart."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_MODELS, make_photo
from test_library import open_library

from photosift.app.cli import run
from photosift.core.catalog import PhotoInfo
from photosift.core.catalog.records import PhotoResult
from photosift.core.errors import FolderNotFoundError
from photosift.core.imageio import CORRUPT, HEIF_EXTRA_NEEDED
from photosift.core.library import Library
from photosift.core.protocol import EXIT_OK


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


# Missing files are pending, not failed ----------------------------------------------------------------


def statuses(lib: Library) -> dict[str, int]:
    return {k: v for k, v in lib.catalog.counts(lib.model_id).items() if k in ("pending", "ok", "failed")}


def test_a_folder_gone_during_embedding_leaves_its_photos_pending_until_it_is_back(home: Path, tmp_path: Path) -> None:
    """The drive is unplugged (or the folder moved away) between the scan and the embedding."""
    root = tmp_path / "drive"
    for i in range(4):
        make_photo(root / f"p{i}.jpg", (60 * i, 20, 20))
    with open_library(home) as lib:
        lib.add_folder(root)
        lib.scan()
        root.rename(tmp_path / "unplugged")
        report = lib.index()
        assert (report.embedded, report.failed, report.missing) == (0, 0, 4)
        assert statuses(lib) == {"pending": 4} and lib.failures() == []
        (tmp_path / "unplugged").rename(root)
        lib.scan()
        assert lib.index().embedded == 4
        assert statuses(lib) == {"ok": 4}


def test_a_subfolder_renamed_during_embedding_is_embedded_at_its_new_path(home: Path, tmp_path: Path) -> None:
    root = tmp_path / "photos"
    for i in range(3):
        make_photo(root / "trip" / f"p{i}.jpg", (20, 60 * i, 20))
    with open_library(home) as lib:
        lib.add_folder(root)
        lib.scan()
        (root / "trip").rename(root / "trip 2019")
        lib.index()
        assert lib.failures() == []
        report = lib.scan()[0]
        assert report.moved == 3
        assert lib.index().embedded == 3
        hits = lib.search("red", limit=10).hits
        assert {Path(h.path).parent.name for h in hits} == {"trip 2019"}


def test_a_photo_recorded_as_missing_by_an_older_version_is_retried(home: Path, tmp_path: Path) -> None:
    """Catalogs from before this fix hold `failed: file not found` for photos whose files are back."""
    root = tmp_path / "photos"
    make_photo(root / "back.jpg", "green")
    with open_library(home) as lib:
        lib.add_folder(root)
        lib.scan()
        ((photo_id, _),) = lib.catalog.pending_photos(lib.model_id)
        lib.catalog.write_results(lib.model_id, [PhotoResult(photo_id, error="file not found")])
        assert statuses(lib) == {"failed": 1}
        assert lib.index().embedded == 1
        assert statuses(lib) == {"ok": 1}


def test_a_failed_photo_whose_file_moved_is_tried_again(home: Path, tmp_path: Path) -> None:
    root = tmp_path / "photos"
    make_photo(root / "a.jpg", "green")
    with open_library(home) as lib:
        lib.add_folder(root)
        lib.scan()
        ((photo_id, _),) = lib.catalog.pending_photos(lib.model_id)
        lib.catalog.write_results(lib.model_id, [PhotoResult(photo_id, error=CORRUPT)])
        lib.index()
        assert statuses(lib) == {"failed": 1}  # an unrelated failure is not retried by every run
        (root / "a.jpg").rename(root / "b.jpg")
        lib.scan()
        assert lib.index().embedded == 1


@pytest.mark.parametrize("installed", [True, False])
def test_a_photo_that_failed_for_a_missing_codec_is_retried_once_it_is_installed(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: bool
) -> None:
    root = tmp_path / "photos"
    make_photo(root / "phone.jpg", "blue")
    with open_library(home) as lib:
        lib.add_folder(root)
        lib.scan()
        ((photo_id, _),) = lib.catalog.pending_photos(lib.model_id)
        lib.catalog.write_results(lib.model_id, [PhotoResult(photo_id, error=HEIF_EXTRA_NEEDED)])
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: real_find_spec(name, *a) if installed or name != "pillow_heif" else None,
        )
        lib.index()
        assert statuses(lib) == ({"ok": 1} if installed else {"failed": 1})


def test_status_lists_failures_with_how_to_retry_and_files_left_out(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "photos"
    make_photo(root / "good.jpg")
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    os.mkfifo(root / "pipe.jpg")
    tiny = ["--model", str(TEST_MODELS / "tiny.json")]
    assert run(["index", str(root), *tiny]) == EXIT_OK
    capsys.readouterr()
    assert run(["status", "--failures", "--all", *tiny]) == EXIT_OK
    out = capsys.readouterr().out
    assert "broken.jpg" in out and "photosift index --retry-failed" in out
    assert f"skipped: a named pipe, not a file: {root / 'pipe.jpg'}" in out
    make_photo(root / "broken.jpg", "blue")  # repaired in place, same size and time would hide it from a scan
    os.utime(root / "broken.jpg", ns=(0, 0))
    assert run(["index", "--retry-failed", *tiny]) == EXIT_OK
    assert "Embedded 1 photo" in capsys.readouterr().out
