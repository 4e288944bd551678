"""What must not grow with the library: `status` loading the whole vector index, date lookups reading
every photo, tag counts reading every score (issue 17, benchmarks/bench_scale.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import make_colour_classes
from test_library import open_library

from photosift.core import vindex
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


@pytest.mark.parametrize("threshold", [10_000, 1_000])  # exact, approximate
def test_an_index_built_a_range_at_a_time_is_the_index_built_whole(
    threshold: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((3_000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(5, 6_005, 2, dtype=np.int64)
    reads: list[int] = []

    def read(start: int, stop: int) -> np.ndarray:
        reads.append(stop - start)
        return vectors[start:stop]

    monkeypatch.setattr(vindex, "READ_RANGE", 700)
    whole = VectorIndex.build(16, ids, vectors, approximate_threshold=threshold)
    ranged = VectorIndex.build_in_ranges(16, ids, read, approximate_threshold=threshold)
    assert max(reads) <= 700 and ranged.is_approximate == (threshold < 3_000)
    assert np.array_equal(ranged.ids(), whole.ids())
    queries = vectors[:20] + 0.1 * rng.standard_normal((20, 16)).astype(np.float32)
    for a, b in zip(whole.search(queries, 10), ranged.search(queries, 10), strict=True):
        assert np.array_equal(a.ids, b.ids) and np.allclose(a.scores, b.scores)


def test_status_counts_ocr_pending_as_the_pass_lists_them(home: Path, photos: Path) -> None:
    """`photosift status` counts in SQL what the OCR pass lists (it listed a million rows to count them)."""
    from sqlalchemy import delete, func, select

    from photosift.core.catalog import schema as s
    from photosift.core.catalog.database import write_transaction
    from photosift.core.ocr import store

    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    engine = lib.catalog.engine
    with engine.connect() as conn:
        one_file = select(s.files.c.photo_id).group_by(s.files.c.photo_id).having(func.count() == 1)
        first, second, third, fileless = conn.execute(one_file.order_by(s.files.c.photo_id).limit(4)).scalars()
    store.save(
        engine, [store.TextRow(first, "text", "hi"), store.TextRow(second, "unlikely"), store.TextRow(third, "none")]
    )
    with write_transaction(engine) as conn:
        conn.execute(delete(s.files).where(s.files.c.photo_id == fileless))
    for with_unlikely in (False, True):
        listed = [photo_id for photo_id, _ in store.pending(engine, lib.model_id, with_unlikely)]
        assert store.count_pending(engine, lib.model_id, with_unlikely) == len(listed)
        assert first not in listed and third not in listed and fileless not in listed and len(listed) >= 5
    lib.close()
