"""The vector index: nearest-neighbour search over photo embeddings, keyed by photo id.

The index is derived data. SQLite holds every embedding; this module keeps them in FAISS so a query is
answered in tens of milliseconds, and saves the index so a restart need not rebuild it. Whenever the saved
file cannot be trusted (missing, stale, another model's dimension, damaged) `VectorIndex.load` returns
None and the caller rebuilds from SQLite with `VectorIndex.build`.

Vectors are expected L2-normalised float32, so inner product is cosine similarity; the index does not
renormalise them (that would copy every batch).

The index takes one of two shapes, by size:

- up to `APPROXIMATE_THRESHOLD` vectors, exact: `IndexFlatIP` inside `IndexIDMap2`;
- beyond it, approximate: an inverted file with 8-bit scalar quantisation (`IVF{nlist},SQ8`), trained
  on a sample of its own vectors. At 1M vectors SQ8 takes 1.2 GB against 2.3 GB for fp16 and 4.6 GB for
  float32, at the same speed and a recall@10 within 0.01 of fp16. A flat index that grows past
  the threshold through `add` converts itself; an approximate one retrains once it holds
  `RETRAIN_GROWTH` times the vectors it was trained on. Shrinking never retrains: searches probe more
  lists instead, in proportion to how many fewer vectors can match (the same rule serves filters).

A filtered search scores only the photos the filter lets through (core.vindex_subset): an exact index
gathers their rows; an approximate one copies their codes into a subset index kept for the next search
with the same filter, instead of walking every list with an id selector.

Thread-safety: a read-write lock. `add` and `remove` are writers; searches, `save` and the other reads
are readers, so searches may come from any thread while another thread adds or removes, and go on while
the file is written (about 3 s per GB, 1.3 s for 1M vectors approximate). Searches do not overlap each
other (FAISS already spreads one search over the cores).

Where FAISS reports a GPU, unfiltered searches run on a GPU copy of the index, made again lazily after
each change; the CPU index stays the one that is saved and mutated, so faiss-cpu needs no other path.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from photosift.core.vindex_file import APPROXIMATE_THRESHOLD as APPROXIMATE_THRESHOLD
from photosift.core.vindex_file import faiss, read_index_file, write_index_file
from photosift.core.vindex_gpu import GpuMirror
from photosift.core.vindex_lock import ReadWriteLock
from photosift.core.vindex_subset import Subsets, selector

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

# Retrain the coarse quantiser once the index has grown this much since training: the lists grow long
# and their centroids stale, but retraining costs minutes, so it must stay rare (at 150k, 600k, 2.4M...).
RETRAIN_GROWTH = 4
# Lists per sqrt(n). The usual rule is 4, but training k-means costs lists x sample x dimensions, so at
# a million 1152-d vectors 4000 lists on 200,000 points had not finished in 15 minutes on 2 loaded cores;
# sqrt(n) lists train on 16 times less work, and the lists hold no more vectors than a probe can scan.
LISTS_PER_SQRT_N = 1
# k-means points per list: FAISS warns below 39; training time grows with the sample.
TRAIN_POINTS_PER_LIST = 40
# Share of the lists probed per query (never fewer than MIN_PROBES), so a search scans the same share
# of the vectors whatever the list count. On synthetic_library's embeddings at 300k (two topics and heavy
# noise, so the ten nearest are near-ties) recall@10 against exact was 0.80, 0.82 and 0.85 at 1/32, 1/16
# and 1/8 of sqrt(n) = 547 lists, and 0.90 / 0.91 at 1/64 and 1/32 of 2 * sqrt(n) lists (8-bit codes of
# residuals: smaller lists code more finely), whose build took 250 s against 45 s (README, Scale). At 1M,
# sqrt(n) lists and 32 probes: recall@10 0.91, build 194 s (bench_scale.py --ivf-recall).
PROBE_SHARE = 1 / 32
MIN_PROBES = 32
# Vectors read from the catalog at a time when building: 200 MB of float32 at 1152-d.
READ_RANGE = 50_000
# Fixed, so that rebuilding from the same vectors trains the same lists.
_TRAINING_SEED = 0
# FAISS GPU k-selection supports k up to 2048 (GPU_MAX_SELECTION_K); larger k searches on the CPU.
_GPU_MAX_K = 2048


@dataclass(frozen=True, eq=False)
class SearchHits:
    """The neighbours of one query, best first.

    Attributes:
        ids: photo ids, by descending score; never FAISS's -1 filler, so it may be shorter than k.
        scores: inner products (cosine similarities for normalised vectors), aligned with `ids`.
    """

    ids: IdArray
    scores: FloatArray

    def __len__(self) -> int:
        return len(self.ids)


class VectorIndex:
    """A FAISS index of photo embeddings keyed by int64 photo id; see the module docstring."""

    def __init__(self, dim: int, *, approximate_threshold: int = APPROXIMATE_THRESHOLD) -> None:
        """Make an empty exact index.

        Args:
            dim: length of every vector, fixed by the embedding model.
            approximate_threshold: size beyond which the index becomes approximate; tests make it small.
        """
        if dim < 1:
            raise ValueError(f"dimension must be positive, got {dim}")
        self._dim = dim
        self._threshold = approximate_threshold
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ids: IdArray = np.empty(0, np.int64)  # sorted, to answer membership without FAISS
        self._trained_size = 0
        self._lock = ReadWriteLock()
        self._search_lock = threading.Lock()  # also guards the GPU mirror
        self._gpu = GpuMirror()
        self._subsets = Subsets()  # filtered searches' lookups, under the search lock

    @classmethod
    def build(
        cls, dim: int, ids: npt.ArrayLike, vectors: npt.ArrayLike, *, approximate_threshold: int = APPROXIMATE_THRESHOLD
    ) -> VectorIndex:
        """Build an index from scratch, choosing its shape from the number of vectors.

        Args:
            dim: length of every vector.
            ids: photo ids, shape (n,); a repeated id keeps its last vector.
            vectors: L2-normalised vectors, shape (n, dim).
            approximate_threshold: size beyond which the index is approximate.
        """
        index = cls(dim, approximate_threshold=approximate_threshold)
        index.add(ids, vectors)
        return index

    @classmethod
    def build_in_ranges(
        cls,
        dim: int,
        ids: IdArray,
        read: Callable[[int, int], FloatArray],
        *,
        approximate_threshold: int = APPROXIMATE_THRESHOLD,
    ) -> VectorIndex:
        """`build` from sorted, unique `ids` whose vectors `read(start, stop)` gives a range at a time, so
        memory holds the index, one range and the training sample rather than every vector as float32
        (4.6 GB at a million). Trains on the same sample as `build`, so the two make the same index."""
        index = cls(dim, approximate_threshold=approximate_threshold)
        if len(ids) <= approximate_threshold:
            for start in range(0, len(ids), READ_RANGE):
                index.add(ids[start : start + READ_RANGE], read(start, min(start + READ_RANGE, len(ids))))
            return index
        nlist, sample = _training_sample(len(ids))
        ranges = [(start, min(start + READ_RANGE, len(ids))) for start in range(0, len(ids), READ_RANGE)]
        picked = [(a, sample[(sample >= a) & (sample < b)] - a) for a, b in ranges]
        training = np.concatenate([read(a, a + int(rows[-1]) + 1)[rows] for a, rows in picked if rows.size])
        index._index = _trained(dim, nlist, training)
        del training
        for a, b in ranges:
            index._index.add_with_ids(read(a, b), ids[a:b])
        index._ids, index._trained_size = ids.copy(), len(ids)
        return index

    @classmethod
    def load(
        cls, path: Path, expected_stamp: str, dim: int, *, approximate_threshold: int = APPROXIMATE_THRESHOLD
    ) -> VectorIndex | None:
        """Load a saved index, or return None when it must be rebuilt.

        None means the file is missing, was saved with another stamp (the library changed since), holds
        vectors of another dimension, or is damaged. The caller then rebuilds from SQLite.

        Raises:
            EnvironmentFault: the file exists but cannot be read (permissions, I/O error).
        """
        loaded = read_index_file(path, expected_stamp, dim)
        if loaded is None or loaded[0].d != dim or not _is_known_shape(loaded[0]):
            return None
        index = cls(dim, approximate_threshold=approximate_threshold)
        index._index, index._trained_size = loaded
        index._ids = _stored_ids(index._index)
        return index

    def save(self, path: Path, stamp: str) -> None:
        """Write the index and `stamp` to `path` atomically: readers see the old file or the new one.

        Raises:
            EnvironmentFault: the file could not be written (disk full, permissions).
        """
        with self._lock.reading():
            write_index_file(path, self._index, stamp, self._trained_size)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def is_approximate(self) -> bool:
        with self._lock.reading():
            return self._approximate()

    def _approximate(self) -> bool:
        return not isinstance(self._index, faiss.IndexIDMap2)

    def __len__(self) -> int:
        with self._lock.reading():
            return len(self._ids)

    def ids(self) -> IdArray:
        """Every stored photo id, sorted; a copy, so the caller can diff it against the database."""
        with self._lock.reading():
            return self._ids.copy()

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Add vectors; an id already present has its vector replaced, and a repeated id keeps its last one.

        May convert an exact index to an approximate one, or retrain an approximate one (see the module
        docstring); that takes minutes at a million vectors, so call it from a worker thread.
        """
        new_ids, new_vectors = _unique_last(*self._checked_batch(ids, vectors))
        if new_ids.size == 0:
            return
        with self._lock.writing():
            self._remove_present(new_ids)
            if self._needs_training(len(self._ids) + len(new_ids)):
                if self._ids.size:  # else train on the batch itself, without a copy (4.6 GB at 1M)
                    new_vectors = np.concatenate([self._reconstruct(self._ids), new_vectors])
                    new_ids = np.concatenate([self._ids, new_ids])
                self._train(new_ids, new_vectors)
            else:
                self._index.add_with_ids(new_vectors, new_ids)
                self._ids = np.union1d(self._ids, new_ids)
            self._changed()

    def remove(self, ids: npt.ArrayLike) -> None:
        """Remove vectors by id; ids not in the index are ignored."""
        with self._lock.writing():
            self._remove_present(np.asarray(ids, dtype=np.int64).ravel())
            self._changed()

    def vectors(self, ids: npt.ArrayLike) -> FloatArray:
        """The stored vectors of `ids`, shape (len(ids), dim), e.g. to find photos similar to one.

        An approximate index returns its reconstruction, each component rounded to 8 bits; SQLite has
        the exact vector.

        Raises:
            KeyError: an id is not in the index.
        """
        wanted = np.asarray(ids, dtype=np.int64).ravel()
        with self._lock.reading():
            missing = wanted[~_isin_sorted(wanted, self._ids)]
            if missing.size:
                raise KeyError(f"not in the vector index: {missing[:5].tolist()}")
            return self._reconstruct(wanted)

    def search(self, queries: npt.ArrayLike, k: int, allowed_ids: npt.ArrayLike | None = None) -> list[SearchHits]:
        """Find the k stored vectors with the largest inner product with each query.

        Args:
            queries: L2-normalised vectors, shape (n, dim), or one of shape (dim,).
            k: neighbours wanted per query; fewer come back when fewer vectors (or allowed ids) exist.
            allowed_ids: when given, only these photo ids may be returned (folder and date filters).
                Unknown ids are ignored. An approximate index probes more lists the fewer ids pass.

        Returns:
            One `SearchHits` per query, in query order.
        """
        q = self._checked_queries(queries)
        if k < 1:
            raise ValueError(f"k must be positive, got {k}")
        with self._lock.reading(), self._search_lock:
            if allowed_ids is None:
                return self._search_all(q, k) if self._ids.size else _no_hits(len(q))
            # Unknown ids are left in: FAISS skips them for free, while intersecting took ~8 ms at 200k ids.
            allowed = _sorted_unique(np.asarray(allowed_ids, dtype=np.int64).ravel())
            if allowed.size == 0:
                return _no_hits(len(q))
            return self._search_subset(q, k, allowed)

    def _search_all(self, q: FloatArray, k: int) -> list[SearchHits]:
        k = min(k, len(self._ids))
        gpu = self._gpu.get(self._index)
        if gpu is not None and k <= _GPU_MAX_K:
            return _hits(*gpu.search(q, k))
        if not self._approximate() and len(q) < faiss.cvar.distance_compute_blas_threshold:
            # Below its BLAS threshold FAISS scans with one thread per query; numpy's matrix-vector
            # product over the same memory uses every core (measured 2x faster on 2 cores).
            vectors, ids = _flat_views(self._index)
            return _top_k((vectors @ q.T).T, ids, k)
        if not self._approximate():
            return _hits(*self._index.search(q, k))
        params = faiss.SearchParametersIVF(nprobe=self._probes(len(self._ids)))
        return _hits(*self._index.search(q, k, params=params))

    def _search_subset(self, q: FloatArray, k: int, allowed: IdArray) -> list[SearchHits]:
        """Search among `allowed` only (core.vindex_subset says how and why)."""
        k = min(k, allowed.size)
        if not self._approximate():
            scores, ids = self._subsets.flat(self._index).scores(q, allowed)
            return _top_k(scores, ids, k) if ids.size else _no_hits(len(q))
        nprobe = self._probes(allowed.size)
        ivf = faiss.downcast_index(self._index)
        subset = self._subsets.ivf(ivf, allowed) if isinstance(ivf, faiss.IndexIVFScalarQuantizer) else None
        if subset is not None:
            return _hits(*subset.search(q, k, params=faiss.SearchParametersIVF(nprobe=nprobe)))
        sel, _buffer = selector(allowed)  # the selector points into the buffer: keep both alive
        return _hits(*self._index.search(q, k, params=faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)))

    def _probes(self, candidates: int) -> int:
        """Lists to probe so a search meets about as many candidates as a fresh index probing `PROBE_SHARE`.

        When fewer vectors can match than at training (after removals, or through a filter) the lists
        hold fewer candidates each, and the true neighbours are spread over more of them.
        """
        nlist = int(faiss.extract_index_ivf(self._index).nlist)
        probes = _base_probes(nlist)
        return min(nlist, max(probes, math.ceil(probes * self._trained_size / max(candidates, 1))))

    def _needs_training(self, total: int) -> bool:
        if not self._approximate():
            return total > self._threshold
        return total > RETRAIN_GROWTH * self._trained_size

    def _train(self, ids: IdArray, vectors: FloatArray) -> None:
        self._index = _train_approximate(self._dim, ids, vectors)
        self._ids = np.sort(ids)
        self._trained_size = len(ids)

    def _changed(self) -> None:
        """Drop what was derived from the index as it was (called under the write lock)."""
        self._gpu.invalidate()
        self._subsets.clear()

    def _remove_present(self, ids: IdArray) -> None:
        present = np.unique(ids[_isin_sorted(ids, self._ids)])
        if present.size == 0:
            return
        # A hashtable direct map can only remove through an IDSelectorArray (faiss DirectMap::remove_ids).
        selector = faiss.IDSelectorArray(present) if self._approximate() else faiss.IDSelectorBatch(present)
        self._index.remove_ids(selector)
        self._ids = np.setdiff1d(self._ids, present, assume_unique=True)

    def _reconstruct(self, ids: IdArray) -> FloatArray:
        if ids.size == 0:
            return np.empty((0, self._dim), np.float32)
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    def _checked_batch(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> tuple[IdArray, FloatArray]:
        id_array = np.asarray(ids, dtype=np.int64)
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if id_array.ndim != 1 or matrix.shape != (len(id_array), self._dim):
            raise ValueError(f"expected ids (n,) and vectors (n, {self._dim}), got {id_array.shape} and {matrix.shape}")
        if id_array.size and id_array.min() < 0:
            raise ValueError("photo ids must be non-negative: FAISS uses -1 for 'no result'")
        return id_array, matrix

    def _checked_queries(self, queries: npt.ArrayLike) -> FloatArray:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[np.newaxis, :]
        if q.ndim != 2 or q.shape[1] != self._dim:
            raise ValueError(f"expected queries of shape (n, {self._dim}) or ({self._dim},), got {q.shape}")
        return q


def _train_approximate(dim: int, ids: IdArray, vectors: FloatArray) -> Any:
    """An IVF-SQ8 index trained on a sample of `vectors`, holding all of them."""
    nlist, sample = _training_sample(len(ids))
    index = _trained(dim, nlist, vectors[sample])
    index.add_with_ids(vectors, ids)
    return index


def _training_sample(n: int) -> tuple[int, npt.NDArray[np.int64]]:
    """The number of lists for `n` vectors, and the sorted positions of the vectors to train them on."""
    nlist = max(1, min(int(LISTS_PER_SQRT_N * math.sqrt(n)), n // TRAIN_POINTS_PER_LIST))
    rng = np.random.default_rng(_TRAINING_SEED)
    return nlist, np.sort(rng.choice(n, min(n, nlist * TRAIN_POINTS_PER_LIST), replace=False))


def _trained(dim: int, nlist: int, training: FloatArray) -> Any:
    """An empty IVF-SQ8 index with `nlist` lists trained on `training`."""
    index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.spherical = True  # unit-length centroids, since vectors are compared by inner product
    index.train(training)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by arbitrary photo id
    ivf.nprobe = min(nlist, _base_probes(nlist))  # what a GPU copy probes
    return index


def _base_probes(nlist: int) -> int:
    return max(MIN_PROBES, math.ceil(nlist * PROBE_SHARE))


def _is_known_shape(index: Any) -> bool:
    return isinstance(index, (faiss.IndexIDMap2, faiss.IndexIVF)) and index.metric_type == faiss.METRIC_INNER_PRODUCT


def _stored_ids(index: Any) -> IdArray:
    """Every id in a loaded index, sorted."""
    if isinstance(index, faiss.IndexIDMap2):
        return np.sort(faiss.vector_to_array(index.id_map).astype(np.int64))
    lists = faiss.extract_index_ivf(index).invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
        for i in range(lists.nlist)
        if lists.list_size(i)
    ]
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.empty(0, np.int64)


def _flat_views(index: Any) -> tuple[FloatArray, IdArray]:
    """Zero-copy views of an exact index's vectors and ids; valid only while the lock is held."""
    n = int(index.ntotal)
    flat = faiss.downcast_index(index.index)
    vectors = faiss.rev_swig_ptr(flat.get_xb(), n * int(flat.d)).reshape(n, int(flat.d))
    ids = faiss.rev_swig_ptr(index.id_map.data(), n)
    return np.asarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)


def _sorted_unique(values: IdArray) -> IdArray:
    """np.unique without its cost: numpy 2's hashing unique took 40 ms on 200k ids, a sort takes 2, and
    ids that come sorted and unique (core.search.filter_index) only need a check, a fraction of that."""
    if values.size and bool(np.all(values[1:] > values[:-1])):
        return values
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


def _isin_sorted(values: IdArray, sorted_ids: IdArray) -> npt.NDArray[np.bool_]:
    """Membership of each value in a sorted array, in O(len(values) log n) rather than a sort of both."""
    if sorted_ids.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_ids, values), sorted_ids.size - 1)
    return np.asarray(sorted_ids[pos] == values)


def _unique_last(ids: IdArray, vectors: FloatArray) -> tuple[IdArray, FloatArray]:
    """Drop all but the last occurrence of each id, as if the batch were applied in order."""
    _, first_in_reversed = np.unique(ids[::-1], return_index=True)
    keep = np.sort(len(ids) - 1 - first_in_reversed)
    if keep.size == ids.size:
        return ids, vectors
    return ids[keep], vectors[keep]


def _top_k(scores: FloatArray, ids: IdArray, k: int) -> list[SearchHits]:
    """The k best of each row of `scores` (queries x candidates), best first."""
    k = min(k, scores.shape[1])
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    best_scores = np.take_along_axis(scores, best, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)
    return [SearchHits(ids[row], s[row].astype(np.float32)) for row, s in zip(best, scores, strict=True)]


def _hits(scores: FloatArray, ids: IdArray) -> list[SearchHits]:
    """Per-query results from a FAISS search, without the -1 fillers for missing neighbours."""
    return [
        SearchHits(row_ids[row_ids >= 0], row_scores[row_ids >= 0])
        for row_scores, row_ids in zip(scores, ids, strict=True)
    ]


def _no_hits(count: int) -> list[SearchHits]:
    return [SearchHits(np.empty(0, np.int64), np.empty(0, np.float32)) for _ in range(count)]
