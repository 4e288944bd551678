"""From embeddings to groups: a range search for pairs above a similarity, a rule that keeps the pairs the
embedding settles or the perceptual hash confirms, and union-find over the kept pairs.

The range search runs over a FAISS index built for this pass from the vectors of the library's index: the
library's own index is tuned for top-k queries (an exact scan, or 128 probed lists when approximate), and
asking it for every photo's neighbours would cost n full scans (about 1.2e13 multiply-adds at 100,000
1152-d photos, most of an hour on 2 busy cores). So the pass searches a seeded random orthogonal projection
of the vectors to PROJECTED_DIM dimensions at a threshold lowered by PROJECTION_MARGIN (a projection keeps
cosines within about (1 - c^2) / sqrt(k) of the true ones), exactly up to EXACT_LIMIT photos and in an
inverted file probing a few lists beyond (near-duplicates are so close that they share a list or the next
best), and then checks every candidate pair on the full vectors, so a pair is kept only at its true cosine.
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
from photosift.core.vindex import FloatArray, IdArray
from photosift.core.vindex_file import faiss

# Pairs at or above this cosine similarity are looked at. Resized and recompressed copies score above 0.95
# with CLIP-family models, edits and bursts from about 0.9; distinct photos of one scene reach 0.85-0.9.
CANDIDATE_SIMILARITY = 0.90
# At or above this the embedding alone decides: photos this close differ in little but encoding.
SURE_SIMILARITY = 0.97
# Below SURE_SIMILARITY a pair is kept when its 64-bit pHashes differ in at most this many bits, or one
# photo's hash and a window of the other's (a crop: signatures.CROP_WINDOWS) do. Resized, recompressed and
# colour-shifted copies stay within about 6 (benchmarks/bench_duplicates.py); unrelated photos sit near 32,
# and different shots of one scene rarely come under 16.
HASH_DISTANCE = 12
# The search space: 128 dimensions make a range search about 9x cheaper than 1152 (2.7 s against 19 s for
# 4,096 queries over 20,000 photos on 2 busy cores), and a pair at cosine 0.90 projects to 0.90 +- 0.017.
PROJECTED_DIM = 128
# Candidates are searched this far below the threshold: 3.5 standard deviations of the projection's error
# at cosine 0.90, so about 1 pair in 4,000 at exactly the threshold is missed, and none far above it.
PROJECTION_MARGIN = 0.06
# Up to this many photos the projected range search is exact (10,000 photos: about 3 s on 2 busy cores).
EXACT_LIMIT = 10_000
# Inverted lists per sqrt(n), lists probed per query, and k-means rounds, beyond EXACT_LIMIT. On 100,000
# random 128-d vectors with 1,000 planted pairs (cosine 0.86-0.99) on 2 busy cores: 4 lists per sqrt(n),
# 8 probes and FAISS's 25 rounds trained in 101 s and searched in 31 s (recall 0.987); 2, 12 and 10 rounds
# in 6 s and 39 s (recall 0.993). Near-duplicates share a list or the next best, so few probes suffice.
LISTS_PER_SQRT_N = 2
PROBES = 12
KMEANS_ITERATIONS = 10
# Neighbours looked at per photo: a burst rarely holds more shots, and union-find still joins larger
# groups through their members; the cap bounds the pairs (and memory) whatever the embedding.
MAX_NEIGHBOURS = 32
# Random pairs whose median similarity says whether the embedding tells photos apart at all.
TYPICAL_PAIRS = 4096
# Queries per range-search call: the unit of progress and of cancelling.
QUERY_BATCH = 2048
# k-means points per list, FAISS's floor for a warning-free training.
_TRAIN_POINTS_PER_LIST = 40
_SEED = 0


@dataclass(frozen=True, eq=False)
class Pairs:
    """Pairs of photos (`first[i]` < `second[i]`, by id) with the cosine similarity of their embeddings.

    `typical_similarity` is the median similarity of random pairs of the library's photos: at or above
    CANDIDATE_SIMILARITY the embedding does not tell photos apart (a random-weight model embeds every photo
    alike), and then only the perceptual hash can confirm a pair.
    """

    first: IdArray
    second: IdArray
    similarity: FloatArray
    typical_similarity: float = 0.0

    def __len__(self) -> int:
        return len(self.first)

    def subset(self, keep: npt.NDArray[np.bool_]) -> Pairs:
        return Pairs(self.first[keep], self.second[keep], self.similarity[keep], self.typical_similarity)


def similar_pairs(
    ids: IdArray,
    vectors: FloatArray,
    min_similarity: float = CANDIDATE_SIMILARITY,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Pairs:
    """The pairs of photos whose (L2-normalised) vectors have at least `min_similarity`, each pair once,
    among each photo's MAX_NEIGHBOURS nearest (a range search with a cap, so memory stays bounded whatever
    the embedding).

    Raises:
        Cancelled: `cancel` was set; nothing is kept.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    searched, threshold = _projected(vectors), min_similarity
    if searched is not vectors:
        threshold -= PROJECTION_MARGIN
    index = _range_index(searched)
    k = min(MAX_NEIGHBOURS + 1, len(ids))  # + 1: a photo finds itself
    parts: list[tuple[IdArray, IdArray]] = []
    for start in range(0, len(ids), QUERY_BATCH):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(Progress("duplicates", start, len(ids), message="Comparing photos"))
        scores, found = index.search(searched[start : start + QUERY_BATCH], k)
        queries = np.arange(start, start + len(found), dtype=np.int64)[:, None]
        other = (found >= 0) & (found != queries)
        close = other & (scores >= threshold)
        rows, cols = np.broadcast_to(queries, found.shape)[close], found[close].astype(np.int64)
        parts.append((np.minimum(rows, cols), np.maximum(rows, cols)))
    progress(Progress("duplicates", len(ids), len(ids), message="Comparing photos"))
    rows = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    cols = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
    if rows.size:  # a pair found from both of its photos is one pair
        rows, cols = np.unique(np.stack([rows, cols], axis=1), axis=0).T
    sims = _cosines(vectors, rows, cols)
    keep = sims >= min_similarity  # the true cosine decides, not the projected one
    a, b = ids[rows[keep]], ids[cols[keep]]
    return Pairs(np.minimum(a, b), np.maximum(a, b), sims[keep], _typical_similarity(vectors))


def _typical_similarity(vectors: FloatArray) -> float:
    """The median cosine of TYPICAL_PAIRS random pairs of distinct photos (seeded)."""
    n = len(vectors)
    if n < 2:
        return 0.0
    rng = np.random.default_rng(_SEED)
    a = rng.integers(0, n, TYPICAL_PAIRS)
    b = (a + rng.integers(1, n, TYPICAL_PAIRS)) % n  # never a photo with itself
    return float(np.median(_cosines(vectors, a, b)))


def _projected(vectors: FloatArray) -> FloatArray:
    """`vectors` through a seeded random orthogonal projection to PROJECTED_DIM, renormalised (themselves
    when they are no longer than that)."""
    dim = vectors.shape[1]
    if dim <= PROJECTED_DIM:
        return vectors
    basis, _ = np.linalg.qr(np.random.default_rng(_SEED).standard_normal((dim, PROJECTED_DIM)))
    projected = vectors @ basis.astype(np.float32)
    projected /= np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(projected, dtype=np.float32)


def _cosines(vectors: FloatArray, rows: IdArray, cols: IdArray) -> FloatArray:
    """Inner products of the row pairs, a chunk at a time (bounded memory for millions of candidates)."""
    out = np.empty(len(rows), np.float32)
    for start in range(0, len(rows), 65_536):
        a, b = vectors[rows[start : start + 65_536]], vectors[cols[start : start + 65_536]]
        out[start : start + 65_536] = np.einsum("ij,ij->i", a, b)
    return out


def _range_index(vectors: FloatArray) -> Any:
    """An exact inner-product index up to EXACT_LIMIT vectors, else an inverted file over them."""
    n, dim = vectors.shape
    if n <= EXACT_LIMIT:
        flat = faiss.IndexFlatIP(dim)
        flat.add(vectors)
        return flat
    nlist = max(1, min(int(LISTS_PER_SQRT_N * math.sqrt(n)), n // _TRAIN_POINTS_PER_LIST))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.spherical = True
    ivf.cp.niter = KMEANS_ITERATIONS
    sample = np.random.default_rng(_SEED).choice(n, min(n, nlist * _TRAIN_POINTS_PER_LIST), replace=False)
    ivf.train(vectors[np.sort(sample)])
    ivf.add(vectors)
    ivf.nprobe = min(nlist, PROBES)
    return ivf


def confirmed(pairs: Pairs, signatures: dict[int, Signature]) -> Pairs:
    """The pairs the embedding settles (SURE_SIMILARITY) or whose perceptual hashes agree (HASH_DISTANCE,
    `signature_distance`).

    A pair below SURE_SIMILARITY with a photo that could not be read stays unconfirmed. Where the embedding
    does not tell the library's photos apart (`Pairs.typical_similarity`), every pair needs the hashes.
    """
    sure = SURE_SIMILARITY if pairs.typical_similarity < CANDIDATE_SIMILARITY else math.inf
    keep = pairs.similarity >= sure
    for i in np.flatnonzero(~keep):
        a, b = signatures.get(int(pairs.first[i])), signatures.get(int(pairs.second[i]))
        if a is not None and b is not None:
            distance = signature_distance(a, b)
            keep[i] = distance is not None and distance <= HASH_DISTANCE
    return pairs.subset(keep)


def signature_distance(a: Signature, b: Signature) -> int | None:
    """The fewest bits in which the two photos' hashes differ, whole photo against whole photo or against a
    window of the other (one photo a crop of the other); None where either could not be read."""
    if a.phash is None or b.phash is None:
        return None
    crossed = [hash_distance(a.phash, h) for h in b.crop_hashes] + [hash_distance(h, b.phash) for h in a.crop_hashes]
    return min([hash_distance(a.phash, b.phash), *crossed])


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
