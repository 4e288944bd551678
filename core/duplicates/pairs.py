"""From embeddings to groups: a range search for pairs above a similarity, a rule that keeps the pairs the
embedding settles or the perceptual hash confirms, and union-find over the kept pairs.

The range search runs over a FAISS index built for this pass from the vectors of the library's index: the
library's own index is tuned for top-k queries (an exact scan, or 128 probed lists when approximate), and
asking it for every photo's neighbours would cost n full scans (about 2.3e13 multiply-adds at 100,000
1152-d photos, tens of minutes on 2 cores). Near-duplicates are so close that they almost always share an
inverted list, so beyond `EXACT_LIMIT` photos an inverted file probing a few lists finds them in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from photosift.core.duplicates.records import Signature
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from photosift.core.vindex_file import faiss

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

# Pairs at or above this cosine similarity are looked at. Resized and recompressed copies score above 0.95
# with CLIP-family models, edits and bursts from about 0.9; distinct photos of one scene reach 0.85-0.9.
CANDIDATE_SIMILARITY = 0.90
# At or above this the embedding alone decides: photos this close differ in little but encoding.
SURE_SIMILARITY = 0.97
# Below SURE_SIMILARITY a pair is kept when its 64-bit pHashes differ in at most this many bits. Resized,
# recompressed and colour-shifted copies stay within about 6 (benchmarks/bench_duplicates.py); unrelated
# photos sit near 32, and different shots of one scene rarely come under 16.
HASH_DISTANCE = 12
# Up to this many photos the range search is exact (a 20,000-photo scan is 4.6e11 multiply-adds, ~10 s).
EXACT_LIMIT = 20_000
# Inverted lists probed per query beyond EXACT_LIMIT: near-duplicates fall in the same list or the next
# best (recall of planted pairs in benchmarks/bench_duplicates.py).
PROBES = 6
# Queries per range-search call: the unit of progress and of cancelling.
QUERY_BATCH = 2048
# k-means points per list, FAISS's floor for a warning-free training.
_TRAIN_POINTS_PER_LIST = 40
_SEED = 0


@dataclass(frozen=True, eq=False)
class Pairs:
    """Pairs of photos (`first[i]` < `second[i]`, by id) with the cosine similarity of their embeddings."""

    first: IdArray
    second: IdArray
    similarity: FloatArray

    def __len__(self) -> int:
        return len(self.first)

    def subset(self, keep: npt.NDArray[np.bool_]) -> Pairs:
        return Pairs(self.first[keep], self.second[keep], self.similarity[keep])


def similar_pairs(
    ids: IdArray,
    vectors: FloatArray,
    min_similarity: float = CANDIDATE_SIMILARITY,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Pairs:
    """Every pair of photos whose (L2-normalised) vectors have at least `min_similarity`, each pair once.

    Raises:
        Cancelled: `cancel` was set; nothing is kept.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = _range_index(vectors)
    parts: list[tuple[IdArray, IdArray, FloatArray]] = []
    for start in range(0, len(ids), QUERY_BATCH):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(Progress("duplicates", start, len(ids), message="Comparing photos"))
        limits, scores, found = index.range_search(vectors[start : start + QUERY_BATCH], min_similarity)
        counts = np.diff(limits.astype(np.int64))  # FAISS gives size_t offsets
        queries = np.repeat(np.arange(start, start + len(counts), dtype=np.int64), counts)
        later = found > queries  # each pair once, and never a photo with itself
        parts.append((queries[later], found[later].astype(np.int64), scores[later].astype(np.float32)))
    progress(Progress("duplicates", len(ids), len(ids), message="Comparing photos"))
    if not parts:
        return Pairs(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    rows, cols, sims = (np.concatenate(p) for p in zip(*parts, strict=True))
    a, b = ids[rows], ids[cols]
    return Pairs(np.minimum(a, b), np.maximum(a, b), sims)


def _range_index(vectors: FloatArray) -> Any:
    """An exact inner-product index up to EXACT_LIMIT vectors, else an inverted file over them."""
    n, dim = vectors.shape
    if n <= EXACT_LIMIT:
        flat = faiss.IndexFlatIP(dim)
        flat.add(vectors)
        return flat
    nlist = max(1, int(math.sqrt(n)))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.spherical = True
    sample = np.random.default_rng(_SEED).choice(n, min(n, nlist * _TRAIN_POINTS_PER_LIST), replace=False)
    ivf.train(vectors[np.sort(sample)])
    ivf.add(vectors)
    ivf.nprobe = min(nlist, PROBES)
    return ivf


def confirmed(pairs: Pairs, signatures: dict[int, Signature]) -> Pairs:
    """The pairs the embedding settles (SURE_SIMILARITY) or whose perceptual hashes agree (HASH_DISTANCE).

    A pair below SURE_SIMILARITY with a photo that could not be read stays unconfirmed.
    """
    keep = pairs.similarity >= SURE_SIMILARITY
    for i in np.flatnonzero(~keep):
        a, b = signatures.get(int(pairs.first[i])), signatures.get(int(pairs.second[i]))
        if a is not None and b is not None and a.phash is not None and b.phash is not None:
            keep[i] = hash_distance(a.phash, b.phash) <= HASH_DISTANCE
    return pairs.subset(keep)


def hash_distance(a: int, b: int) -> int:
    """Bits in which two 64-bit hashes differ."""
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


def connected_groups(pairs: Pairs) -> list[list[int]]:
    """The groups that the pairs join (union-find with path halving), each sorted, largest group first."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs.first.tolist(), pairs.second.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for x in parent:
        groups.setdefault(root(x), []).append(x)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


def best_first(members: list[int], rank: Callable[[int], tuple[float, ...]]) -> list[int]:
    """`members` with the copy to keep first: the one with the largest `rank` (ties keep id order)."""
    return sorted(members, key=lambda m: tuple(-x for x in rank(m)))
