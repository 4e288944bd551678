"""Filtered searches through core.vindex_subset: same answers as the id selector, without its walk."""

from __future__ import annotations

import numpy as np
import pytest

from photosift.core import vindex_subset
from photosift.core.vindex import VectorIndex

DIM = 32


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def clustered_vectors(n: int, seed: int = 0) -> np.ndarray:
    centres = np.random.default_rng(1234).standard_normal((25, DIM))
    rng = np.random.default_rng(seed)
    return unit(centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, DIM)))


def top_ids(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return ids[np.argsort(-(vectors @ query), kind="stable")[:k]].tolist()


@pytest.fixture
def approximate() -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    """3,000 photos with sparse ids in an approximate index (54 lists), and a 5 % filter of them."""
    ids = np.arange(3000, dtype=np.int64) * 3
    index = VectorIndex.build(DIM, ids, clustered_vectors(3000), approximate_threshold=1000)
    assert index.is_approximate
    return index, ids, ids[::20]


def count_selectors(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = vindex_subset.selector

    def spy(allowed: np.ndarray) -> object:
        calls.append(len(allowed))
        return original(allowed)

    monkeypatch.setattr("photosift.core.vindex.selector", spy)
    return calls


def test_a_repeated_filter_is_searched_in_its_subset_with_the_selectors_results(
    approximate: tuple[VectorIndex, np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, _, allowed = approximate
    calls = count_selectors(monkeypatch)
    queries = clustered_vectors(12, seed=1)
    with_unknown = np.concatenate([allowed, [1, 4]])  # ids the index does not hold are ignored
    first = index.search(queries, 10, allowed_ids=with_unknown)  # the selector; the layout is not made yet
    assert calls == [len(with_unknown)]
    later = [index.search(queries, 10, allowed_ids=with_unknown) for _ in range(2)]  # subset made, then reused
    assert calls == [len(with_unknown)]
    for again in later:
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(a.ids, b.ids)
            np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-6)
    assert all(set(h.ids) <= set(allowed.tolist()) for h in first)


def test_a_small_filter_is_an_exact_pass_over_the_stored_codes(
    approximate: tuple[VectorIndex, np.ndarray, np.ndarray],
) -> None:
    """150 of 3,000 photos: every list is probed, so the answer is the brute-force one over the 8-bit
    reconstructions the index holds (what an approximate index can know)."""
    index, _, allowed = approximate
    stored = index.vectors(allowed)
    for _ in range(2):  # the selector, then the subset
        for query in clustered_vectors(8, seed=2):
            [hits] = index.search(query, 10, allowed_ids=allowed)
            assert hits.ids.tolist() == top_ids(allowed, stored, query, 10)


def test_a_change_to_the_index_is_seen_by_the_next_filtered_search(
    approximate: tuple[VectorIndex, np.ndarray, np.ndarray],
) -> None:
    index, _, allowed = approximate
    query = clustered_vectors(1, seed=3)[0]
    for _ in range(3):
        [hits] = index.search(query, 5, allowed_ids=allowed)
    best = int(hits.ids[0])
    index.remove([best])
    [hits] = index.search(query, 5, allowed_ids=allowed)
    assert best not in hits.ids.tolist()
    index.add([allowed[-1]], query[np.newaxis, :])  # a photo re-embedded to match the query exactly
    [hits] = index.search(query, 5, allowed_ids=allowed)
    assert int(hits.ids[0]) == int(allowed[-1])


def test_a_filter_too_large_for_a_subset_uses_the_selector(
    approximate: tuple[VectorIndex, np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, ids, _ = approximate
    calls = count_selectors(monkeypatch)
    allowed = ids[::4]  # 25 %, above SUBSET_MAX_SHARE
    for _ in range(3):
        index.search(clustered_vectors(1, seed=4), 10, allowed_ids=allowed)
    assert calls == [len(allowed)] * 3


@pytest.mark.parametrize(
    ("step", "copy_max"), [(20, 2048), (20, 0), (2, 2048)], ids=["copied", "in-place", "whole-product"]
)
def test_an_exact_index_scores_only_the_allowed_rows(step: int, copy_max: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 5 % filter copies its few rows out or has FAISS score them in place; a 50 % one takes them from a
    product over every row."""
    monkeypatch.setattr(vindex_subset, "_COPY_MAX_ROWS", copy_max)
    ids = np.random.default_rng(5).choice(10_000, 500, replace=False).astype(np.int64)
    vectors = clustered_vectors(500)
    index = VectorIndex.build(DIM, ids, vectors)
    index.remove(ids[:3])  # rows move inside FAISS: the lookup must follow
    kept = np.arange(3, 500)[::step]
    allowed = np.concatenate([ids[kept], ids[:3], [20_000]])
    queries = clustered_vectors(3, seed=6)
    for hits, query in zip(index.search(queries, 10, allowed_ids=allowed), queries, strict=True):
        assert hits.ids.tolist() == top_ids(ids[kept], vectors[kept], query, 10)
        np.testing.assert_allclose(hits.scores, np.sort(vectors[kept] @ query)[::-1][:10], rtol=1e-5, atol=1e-6)
