"""The library end to end with a fake encoder whose right answers are known: indexing, search by
text, image and combined queries, filters, paging, moves without model work, and index recovery."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder, make_colour_classes, make_photo

from photosift.core.catalog import Catalog
from photosift.core.errors import Cancelled, UserError
from photosift.core.indexer import IndexReport
from photosift.core.library import Library
from photosift.core.models.spec import ModelSpec
from photosift.core.progress import CancelToken, Progress
from photosift.core.search.records import SearchFilters
from photosift.core.settings import Paths, Settings


def fake_spec(name: str = "fake-colour") -> ModelSpec:
    return ModelSpec(
        name=name,
        title="Fake colour model",
        description="test",
        architecture="fake",
        open_clip_config=None,
        pretrained=None,
        weights=None,
        checkpoint=None,
        random_init=True,
        embed_dim=4,
        image_size=16,
        resize=16,
        resize_mode="squash",
        interpolation="bicubic",
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        download_mb=0,
        default_for=(),
    )


def open_library(home: Path, encoder: FakeEncoder | None = None, settings: Settings | None = None) -> Library:
    paths = Paths(home)
    paths.ensure()
    return Library(paths, settings or Settings(), Catalog(paths.database), fake_spec(), encoder or FakeEncoder())


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=3)


@pytest.fixture
def library(home: Path, photos: Path) -> Library:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(hit.path).stem for hit in page.hits]


def test_index_then_search_by_text(library: Library) -> None:
    page = library.search("red", limit=3)
    assert all(name.startswith("red") for name in names(page))
    assert page.hits[0].score > 0.8 and page.has_more
    assert library.status().embedded == 9 and library.status().pending == 0


def test_paging_is_consistent(library: Library) -> None:
    everything = names(library.search("blue", limit=9))
    assert names(library.search("blue", offset=3, limit=3)) == everything[3:6]
    assert not library.search("blue", offset=6, limit=3).has_more


def test_combined_query_and_outside_image(library: Library, tmp_path: Path) -> None:
    outside = make_photo(tmp_path / "outside" / "query.jpg", "green")
    assert all(n.startswith("green") for n in names(library.search(str(outside), limit=3)))
    assert all(n.startswith("blue") for n in names(library.search("blue + 0.5:green - red", limit=3)))


def test_similar_to_a_library_photo_excludes_itself(library: Library, photos: Path) -> None:
    target = photos / "red" / "red-0.jpg"
    page = library.similar(target, limit=2)
    assert names(page) and all(n.startswith("red") and n != "red-0" for n in names(page))
    photo_id = library.catalog.photo_id_for_path(str(target))
    assert names(library.similar(photo_id, limit=2)) == names(page)


def test_similar_to_a_photo_that_could_not_be_read_says_why(library: Library, photos: Path) -> None:
    broken = photos / "red" / "broken.jpg"
    broken.write_bytes((photos / "red" / "red-0.jpg").read_bytes()[:300])
    library.scan()
    library.index()
    with pytest.raises(UserError, match="could not be read, so there is nothing to compare it with: truncated"):
        library.similar(broken)
    make_photo(photos / "red" / "new.jpg", "red")
    library.scan()  # found, not embedded yet
    with pytest.raises(UserError, match="not indexed yet"):
        library.similar(photos / "red" / "new.jpg")


def test_filters_by_folder_and_date(library: Library, photos: Path) -> None:
    page = library.search("red", SearchFilters(folders=(str(photos / "blue"),)), limit=10)
    assert names(page) and all(n.startswith("blue") for n in names(page))
    # The test photos carry no capture date, so their files' modification times (today) date them.
    assert library.search("red", SearchFilters(before=datetime(2001, 1, 1)), limit=10).hits == ()
    assert len(library.search("red", SearchFilters(after=datetime(2001, 1, 1)), limit=10).hits) == 9


def test_moves_cost_no_model_work(home: Path, photos: Path, tmp_path: Path) -> None:
    encoder = FakeEncoder()
    lib = open_library(home, encoder)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    assert encoder.image_forward_count == 9
    moved = tmp_path / "elsewhere"
    shutil.move(photos, moved)
    lib.add_folder(moved)
    reports = lib.scan()
    report = lib.index()
    assert sum(r.moved for r in reports) == 9 and report.embedded == 0
    assert encoder.image_forward_count == 9
    assert all(hit.path.startswith(str(moved)) for hit in lib.search("green", limit=9).hits)
    lib.close()


def test_deleted_photos_leave_the_results(library: Library, photos: Path) -> None:
    for path in (photos / "red").iterdir():
        path.unlink()
    library.scan()
    assert not any(n.startswith("red") for n in names(library.search("red", limit=10)))
    assert len(library.vector_index()) == 6


def indexed_then_reds_deleted(home: Path, photos: Path) -> Library:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    saved = lib.index_path.read_bytes()
    for path in (photos / "red").iterdir():
        path.unlink()
    lib.scan()
    # The whole index is not rewritten for each deleting scan: the file waits for the close.
    assert lib.index_path.read_bytes() == saved and not lib.status().index.saved_and_current
    return lib


def test_deletions_reach_the_index_file_on_close(home: Path, photos: Path) -> None:
    indexed_then_reds_deleted(home, photos).close()
    encoder = FakeEncoder()
    reopened = open_library(home, encoder)
    assert reopened.status().index.saved_and_current and len(reopened.vector_index()) == 6
    reopened.close()


def test_deletions_survive_a_crash_before_the_index_is_saved(home: Path, photos: Path) -> None:
    indexed_then_reds_deleted(home, photos).catalog.close()  # the process dies: the index is never saved
    encoder = FakeEncoder()
    reopened = open_library(home, encoder)
    assert not any(n.startswith("red") for n in names(reopened.search("red", limit=10)))
    assert len(reopened.vector_index()) == 6 and encoder.image_forward_count == 0  # rebuilt from the catalog
    reopened.close()


def test_bad_files_are_recorded_not_fatal(home: Path, photos: Path, shared_data: Path) -> None:
    (photos / "bad").mkdir()
    (photos / "bad" / "random.jpg").write_bytes(os.urandom(2000))
    (photos / "bad" / "empty.png").write_bytes(b"")
    good = (photos / "red" / "red-0.jpg").read_bytes()
    (photos / "bad" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    shutil.copy(shared_data / "hymenoptera" / "train" / "ants" / "imageNotFound.gif", photos / "bad" / "odd.gif")
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    report = lib.index()
    failures = {Path(p.paths[0]).name: p.error for p in lib.catalog.failures()}
    assert {"random.jpg", "empty.png", "truncated.jpg"} <= set(failures)
    assert all(failures.values())
    assert report.embedded + report.failed == 13
    assert lib.index().embedded == 0  # failures are not retried on every run
    lib.close()


@pytest.mark.parametrize("damage", ["delete", "garbage", "truncate"])
def test_damaged_index_is_rebuilt_without_reembedding(home: Path, photos: Path, damage: str) -> None:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    expected = names(lib.search("green", limit=9))
    index_path = lib.index_path
    lib.close()
    if damage == "delete":
        index_path.unlink()
    elif damage == "garbage":
        index_path.write_bytes(os.urandom(4096))
    else:
        index_path.write_bytes(index_path.read_bytes()[:100])
    damaged = index_path.read_bytes() if index_path.exists() else None
    encoder = FakeEncoder()
    reopened = open_library(home, encoder)
    assert names(reopened.search("green", limit=9)) == expected
    assert encoder.image_forward_count == 0
    # A search only reads (it may come from any thread); the rebuilt index is saved on close.
    assert (index_path.read_bytes() if index_path.exists() else None) == damaged
    reopened.close()
    again = open_library(home, FakeEncoder())
    assert again.status().index.saved_and_current and names(again.search("green", limit=9)) == expected
    again.close()


def test_models_are_never_mixed(home: Path, photos: Path) -> None:
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    paths = Paths(home)
    other = Library(paths, Settings(), lib.catalog, fake_spec("another-model"), FakeEncoder())
    assert other.status().embedded == 0 and other.status().pending == 9
    assert other.search("red").hits == ()
    lib.close()


def test_vectors_in_sqlite_match_the_index(library: Library) -> None:
    ids, vectors = library.catalog.embeddings(library.model_id)
    assert len(ids) == len(library.vector_index()) == 9
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)


def test_a_cancelled_run_keeps_its_finished_part_and_raises_cancelled_with_it(home: Path, tmp_path: Path) -> None:
    lib = open_library(home, settings=Settings(batch_size=2, decode_workers=1))
    lib.add_folder(make_colour_classes(tmp_path / "one", per_class=2))
    lib.add_folder(make_colour_classes(tmp_path / "two", per_class=2))
    cancel = CancelToken()

    def stop_after_first_folder(report: Progress) -> None:
        if report.stage == "scan" and str(tmp_path / "two") in report.message:
            cancel.cancel()

    with pytest.raises(Cancelled) as scan_stopped:
        lib.scan(progress=stop_after_first_folder, cancel=cancel)
    assert [Path(r.folder).name for r in scan_stopped.value.partial] == ["one"]
    assert lib.status().photos == 6  # the finished folder stays scanned

    cancel = CancelToken()

    def stop_after_a_batch(report: Progress) -> None:
        if report.stage == "index" and report.done >= 2:
            cancel.cancel()

    with pytest.raises(Cancelled) as index_stopped:
        lib.index(stop_after_a_batch, cancel)
    partial = index_stopped.value.partial
    assert isinstance(partial, IndexReport) and partial.cancelled and 2 <= partial.embedded < 6
    assert lib.status().embedded == partial.embedded == len(lib.vector_index())  # committed and searchable
    assert lib.index().embedded == 6 - partial.embedded
    lib.close()
