"""Tests of the vector index against numpy brute force, with real FAISS in tmp_path."""

from __future__ import annotations

import json
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from photosift.core import vindex, vindex_subset
from photosift.core.vindex import SearchHits, VectorIndex

DIM = 32


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def random_vectors(n: int, seed: int = 0) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal((n, DIM)))


def clustered_vectors(n: int, seed: int = 0) -> np.ndarray:
    """Gaussian clusters around shared centres, like photo embeddings (IVF recall is meaningless on noise)."""
    centres = np.random.default_rng(1234).standard_normal((25, DIM))
    rng = np.random.default_rng(seed)
    return unit(centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, DIM)))


def brute_force(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return ids[order], scores[order]


def recall_at_10(
    index: VectorIndex, ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None = None
) -> float:
    """Recall of `index` against brute force over `ids` and `vectors`, the photos a search may return."""
    found = index.search(queries, 10, allowed_ids=allowed)
    hits = [len(set(h.ids) & set(brute_force(ids, vectors, q, 10)[0])) for h, q in zip(found, queries, strict=True)]
    return sum(hits) / (10 * len(queries))


@pytest.fixture(params=[0, 10**9], ids=["id-hash-set", "id-bitmap"])
def selector_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a filtering test with each of FAISS's id selectors the index may choose."""
    monkeypatch.setattr(vindex_subset, "BITMAP_MAX_SPAN", request.param)


@pytest.fixture
def library() -> tuple[np.ndarray, np.ndarray]:
    """500 photos with sparse, unordered ids, as SQLite rowids become after deletions."""
    ids = np.random.default_rng(5).choice(10_000, 500, replace=False).astype(np.int64)
    return ids, random_vectors(500)


def test_exact_search_equals_numpy_brute_force(library: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = library
    index = VectorIndex.build(DIM, ids, vectors)
    queries = random_vectors(25, seed=1)  # 25 > FAISS's BLAS threshold of 20: the batch path
    for batch in (queries[:1], queries[:3], queries):
        for hits, query in zip(index.search(batch, 10), batch, strict=True):
            want_ids, want_scores = brute_force(ids, vectors, query, 10)
            np.testing.assert_array_equal(hits.ids, want_ids)
            np.testing.assert_allclose(hits.scores, want_scores, rtol=1e-5, atol=1e-6)
    assert not index.is_approximate
    assert len(index) == 500


def test_single_vector_query_gives_one_result(library: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = library
    [hits] = VectorIndex.build(DIM, ids, vectors).search(vectors[7], 3)
    assert hits.ids[0] == ids[7]
    assert hits.scores[0] == pytest.approx(1.0, abs=1e-5)


def test_add_replaces_an_existing_id(library: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = library
    index = VectorIndex.build(DIM, ids, vectors)
    replacement = random_vectors(1, seed=9)
    index.add(ids[:1], replacement)
    assert len(index) == 500
    np.testing.assert_allclose(index.vectors(ids[:1]), replacement)
    [hits] = index.search(replacement[0], 500)
    assert list(hits.ids).count(ids[0]) == 1
    assert hits.ids[0] == ids[0]


def test_a_repeated_id_in_one_batch_keeps_its_last_vector() -> None:
    vectors = random_vectors(3)
    index = VectorIndex.build(DIM, [4, 4, 5], vectors)
    assert len(index) == 2
    np.testing.assert_allclose(index.vectors([4]), vectors[1:2])


def test_remove_drops_ids_and_ignores_unknown_ones(library: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = library
    index = VectorIndex.build(DIM, ids, vectors)
    index.remove(np.concatenate([ids[:100], [10_001, 10_002]]))
    assert len(index) == 400
    np.testing.assert_array_equal(index.ids(), np.sort(ids[100:]))
    [hits] = index.search(vectors[0], 400)
    assert not set(hits.ids) & set(ids[:100])
    with pytest.raises(KeyError):
        index.vectors(ids[:1])


@pytest.mark.usefixtures("selector_kind")
def test_allowed_ids_restrict_results(library: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = library
    index = VectorIndex.build(DIM, ids, vectors)
    subset = np.arange(0, 500, 7)
    allowed = np.concatenate([ids[subset], [99_999]])  # an unknown id is ignored
    query = random_vectors(1, seed=3)[0]
    [hits] = index.search(query, 10, allowed_ids=allowed)
    want_ids, want_scores = brute_force(ids[subset], vectors[subset], query, 10)
    np.testing.assert_array_equal(hits.ids, want_ids)
    np.testing.assert_allclose(hits.scores, want_scores, rtol=1e-5, atol=1e-6)


@pytest.mark.usefixtures("selector_kind")
def test_allowed_ids_outside_the_index_give_no_results(library: tuple[np.ndarray, np.ndarray]) -> None:
    index = VectorIndex.build(DIM, *library)
    assert [len(h) for h in index.search(random_vectors(2), 5, allowed_ids=[20_000, 20_001])] == [0, 0]
    assert [len(h) for h in index.search(random_vectors(1), 5, allowed_ids=[])] == [0]


def test_an_empty_index_searches_to_empty_results() -> None:
    index = VectorIndex(DIM)
    [hits] = index.search(random_vectors(1)[0], 10)
    assert isinstance(hits, SearchHits)
    assert len(hits) == 0
    assert hits.ids.dtype == np.int64


def test_k_larger_than_the_index_returns_everything_sorted() -> None:
    vectors = random_vectors(6)
    index = VectorIndex.build(DIM, np.arange(6), vectors)
    for batch in (vectors[:1], random_vectors(30, seed=2)):
        for hits in index.search(batch, 100):
            assert sorted(hits.ids) == list(range(6))
            assert np.all(np.diff(hits.scores) <= 0)


def test_bad_arguments_raise_value_error() -> None:
    index = VectorIndex(DIM)
    with pytest.raises(ValueError):
        index.add([1, 2], random_vectors(3))
    with pytest.raises(ValueError):
        index.add([-1], random_vectors(1))
    with pytest.raises(ValueError):
        index.search(np.zeros(DIM + 1, np.float32), 5)
    with pytest.raises(ValueError):
        index.search(random_vectors(1), 0)


def test_grows_into_an_approximate_index_with_high_recall() -> None:
    vectors, queries = clustered_vectors(3000), clustered_vectors(50, seed=1)
    ids = np.arange(3000, dtype=np.int64) * 3
    index = VectorIndex.build(DIM, ids[:900], vectors[:900], approximate_threshold=1000)
    assert not index.is_approximate
    index.add(ids[900:], vectors[900:])
    assert index.is_approximate
    assert len(index) == 3000
    assert recall_at_10(index, ids, vectors, queries) >= 0.95
    np.testing.assert_allclose(index.vectors(ids[:5]), vectors[:5], atol=0.02)  # 8-bit reconstruction


def test_approximate_index_replaces_and_removes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vindex, "MIN_PROBES", 10_000)  # every list, so the last search can return every vector
    vectors = clustered_vectors(3000)
    ids = np.arange(3000, dtype=np.int64)
    index = VectorIndex.build(DIM, ids, vectors, approximate_threshold=1000)
    index.add(ids[:10], vectors[10:20])
    index.remove(ids[2000:])
    assert len(index) == 2000
    np.testing.assert_allclose(index.vectors(ids[:10]), vectors[10:20], atol=0.02)
    [hits] = index.search(vectors[5], 2000)
    assert sorted(hits.ids) == list(range(2000))


@pytest.mark.usefixtures("selector_kind")
def test_approximate_search_probes_more_lists_when_fewer_vectors_can_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """With few probes, a 1% filter or a 90% removal would miss most true neighbours without scaling."""
    monkeypatch.setattr(vindex, "MIN_PROBES", 2)
    monkeypatch.setattr(vindex, "PROBE_SHARE", 0.0)
    vectors, queries = clustered_vectors(3000), clustered_vectors(30, seed=1)
    ids = np.arange(3000, dtype=np.int64)
    index = VectorIndex.build(DIM, ids, vectors, approximate_threshold=1000)
    allowed = ids[::100]
    assert recall_at_10(index, allowed, vectors[allowed], queries, allowed) >= 0.95
    index.remove(ids[300:])
    assert recall_at_10(index, ids[:300], vectors[:300], queries) >= 0.95


def test_approximate_index_retrains_after_growing(monkeypatch: pytest.MonkeyPatch) -> None:
    trained_sizes: list[int] = []
    original = vindex._train_approximate

    def spy(dim: int, ids: np.ndarray, vectors: np.ndarray) -> object:
        trained_sizes.append(len(ids))
        return original(dim, ids, vectors)

    monkeypatch.setattr(vindex, "_train_approximate", spy)
    vectors = clustered_vectors(5000)
    index = VectorIndex.build(DIM, np.arange(1200), vectors[:1200], approximate_threshold=1000)
    index.add(np.arange(1200, 4800), vectors[1200:4800])  # exactly 4x: no retraining yet
    index.add(np.arange(4800, 5000), vectors[4800:])
    assert trained_sizes == [1200, 5000]
    assert len(index) == 5000


@pytest.mark.parametrize("approximate", [False, True], ids=["exact", "approximate"])
def test_save_and_load_round_trip(tmp_path: Path, approximate: bool) -> None:
    vectors, queries = clustered_vectors(2000), clustered_vectors(10, seed=1)
    ids = np.arange(2000, dtype=np.int64) + 100
    index = VectorIndex.build(DIM, ids, vectors, approximate_threshold=1000 if approximate else 10_000)
    path = tmp_path / "vectors.faiss"
    index.save(path, "stamp-1")
    index.save(path, "stamp-1")  # over an existing file
    loaded = VectorIndex.load(path, "stamp-1", DIM)
    assert loaded is not None
    assert loaded.is_approximate == approximate
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    for before, after in zip(index.search(queries, 10), loaded.search(queries, 10), strict=True):
        np.testing.assert_array_equal(before.ids, after.ids)
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.faiss"]  # no temporary file left


def test_an_empty_index_round_trips(tmp_path: Path) -> None:
    VectorIndex(DIM).save(tmp_path / "v", "s")
    loaded = VectorIndex.load(tmp_path / "v", "s", DIM)
    assert loaded is not None
    assert len(loaded) == 0


def test_load_returns_none_when_the_file_cannot_be_used(tmp_path: Path) -> None:
    path = tmp_path / "vectors.faiss"
    assert VectorIndex.load(path, "s", DIM) is None  # missing
    VectorIndex.build(DIM, np.arange(50), random_vectors(50)).save(path, "s")
    assert VectorIndex.load(path, "other", DIM) is None  # stale
    assert VectorIndex.load(path, "s", DIM * 2) is None  # another model's dimension
    data = path.read_bytes()
    damaged = {
        "garbage": np.random.default_rng(0).bytes(len(data)),
        "truncated": data[: len(data) // 2],
        "trailer only lost": data[:-1],
        "flipped payload byte": bytes([data[0] ^ 0xFF]) + data[1:],
        "empty": b"",
    }
    for name, content in damaged.items():
        path.write_bytes(content)
        assert VectorIndex.load(path, "s", DIM) is None, name


def test_load_returns_none_when_faiss_cannot_parse_a_consistent_file(tmp_path: Path) -> None:
    """A file whose checksum matches but whose payload FAISS rejects, as from a future FAISS version."""
    path = tmp_path / "vectors.faiss"
    VectorIndex.build(DIM, np.arange(50), random_vectors(50)).save(path, "s")
    data = path.read_bytes()
    (trailer_length,) = struct.unpack("<Q", data[-16:-8])
    trailer = json.loads(data[-16 - trailer_length : -16])
    payload = b"not a faiss index".ljust(trailer["payload_bytes"], b"\0")
    trailer["crc32"] = zlib.crc32(payload)
    encoded = json.dumps(trailer).encode()
    path.write_bytes(payload + encoded + struct.pack("<Q", len(encoded)) + data[-8:])
    assert VectorIndex.load(path, "s", DIM) is None


def test_searches_during_writes_see_consistent_results() -> None:
    vectors = random_vectors(2000)
    index = VectorIndex.build(DIM, np.arange(200), vectors[:200])

    def writer() -> None:
        for start in range(200, 2000, 100):
            index.add(np.arange(start, start + 100), vectors[start : start + 100])
            index.remove(np.arange(start - 200, start - 150))

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        [hits] = index.search(vectors[0], 20)
        assert np.all(hits.ids >= 0)
        assert np.all(np.diff(hits.scores) <= 0)
        # A breath between searches, as a person's are: back to back, this loop took the index's lock again
        # the moment it let it go, and in one CI run the writer waited 126 s for its turn.
        time.sleep(0.001)
    thread.join()
    assert len(index) == 2000 - 1800 // 100 * 50
