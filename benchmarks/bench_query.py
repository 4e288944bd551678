"""Benchmark the vector index: build, size on disk, save/load, query latency and recall, exact vs approximate.

Usage (from the repository root):

    python benchmarks/bench_query.py [--sizes 100000 1000000] [--dim 1152] [--queries 200]

Vectors are synthetic but shaped like image embeddings: a mixture of a few thousand Gaussian clusters of
uneven weight in a low-dimensional latent space, lifted to `dim` by a fixed random map, plus isotropic
noise and a shared direction, then L2-normalised. Uniform random vectors would be unlike photos and make
any inverted file look bad. Queries come from the same distribution but are not in the index. Latency is
for single queries with k=10, as the app issues them; text encoding is not included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photosift.core.vindex import VectorIndex

K = 10
# Latent size and cluster spread tuned so that random pairs score ~0.17 and tenth neighbours ~0.67 at
# 200k, and an inverted file needs a real share of its lists to reach recall 0.95 (not 1.0 at once).
LATENT_DIM = 64
CLUSTER_SPREAD = 0.8
NOISE = 0.3
SHARED_DIRECTION = 5.0
CHUNK = 50_000


def embeddings(n: int, dim: int, centres: int, seed: int) -> np.ndarray:
    """Clustered, L2-normalised float32 vectors; the cluster layout is fixed, `seed` picks the points."""
    layout = np.random.default_rng(12345)
    lift = layout.standard_normal((LATENT_DIM, dim), dtype=np.float32) / np.sqrt(LATENT_DIM)
    means = layout.standard_normal((centres, LATENT_DIM), dtype=np.float32)
    means[:, 0] += SHARED_DIRECTION  # unrelated photos are still mildly similar
    weights = layout.lognormal(0.0, 1.0, centres)
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        latent = means[rng.choice(centres, m, p=weights)]
        latent += CLUSTER_SPREAD * rng.standard_normal((m, LATENT_DIM), dtype=np.float32)
        x = latent @ lift
        scale = np.linalg.norm(x, axis=1, keepdims=True) * NOISE / np.sqrt(dim)
        x += scale * rng.standard_normal((m, dim), dtype=np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def timed(action: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def latencies_ms(index: VectorIndex, queries: np.ndarray, allowed: np.ndarray | None) -> tuple[float, float]:
    for query in queries[:5]:  # warm caches and OpenMP threads
        index.search(query, K, allowed)
    times = [timed(lambda q=query: index.search(q, K, allowed))[1] for query in queries]
    p50, p95 = np.percentile(times, [50, 95]) * 1e3
    return float(p50), float(p95)


def recall(index: VectorIndex, queries: np.ndarray, truth: list[set[int]], allowed: np.ndarray | None) -> float:
    found = index.search(queries, K, allowed)
    return sum(len(set(h.ids.tolist()) & t) for h, t in zip(found, truth, strict=True)) / (K * len(queries))


def ground_truth(vectors: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None) -> list[set[int]]:
    """Exact top-k by numpy over the allowed rows (ids equal row numbers here)."""
    rows = np.arange(len(vectors)) if allowed is None else allowed
    candidates = vectors if allowed is None else vectors[allowed]
    truth: list[set[int]] = []
    for start in range(0, len(queries), 20):
        scores = queries[start : start + 20] @ candidates.T
        best = np.argpartition(-scores, K - 1, axis=1)[:, :K]
        truth.extend(set(rows[b].tolist()) for b in best)
    return truth


Cases = dict[str, tuple[np.ndarray | None, list[set[int]]]]


def measure(name: str, vectors: np.ndarray, threshold: int, queries: np.ndarray, cases: Cases, folder: Path) -> None:
    """Build one index shape over `vectors` and print a row per filter case."""
    ids = np.arange(len(vectors), dtype=np.int64)
    index, build_s = timed(lambda: VectorIndex.build(vectors.shape[1], ids, vectors, approximate_threshold=threshold))
    assert isinstance(index, VectorIndex)
    path = folder / "index.bin"
    _, save_s = timed(lambda: index.save(path, "bench"))
    size_mb = path.stat().st_size / 1e6
    loaded, load_s = timed(lambda: VectorIndex.load(path, "bench", index.dim))
    assert isinstance(loaded, VectorIndex) and len(loaded) == len(index)
    del loaded
    path.unlink()
    once = f"{build_s:>8.1f} {save_s:>6.1f} {load_s:>6.1f} {size_mb:>8.0f}"
    for label, (allowed, truth) in cases.items():
        p50, p95 = latencies_ms(index, queries, allowed)
        rec = recall(index, queries, truth, allowed)
        print(f"{len(index):>9,} {name:<7} {label:<7} {once} {p50:>7.1f} {p95:>7.1f} {rec:>7.3f}", flush=True)
        once = " " * len(once)  # build, save, load and size belong to the index, not the filter


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=1152)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--centres", type=int, default=3000)
    parser.add_argument("--filters", type=float, nargs="*", default=[0.002, 0.2], help="shares of photos allowed")
    args = parser.parse_args(argv)

    header = f"{'vectors':>9} {'index':<7} {'filter':<7} {'build s':>8} {'save s':>6} {'load s':>6} "
    print(header + f"{'disk MB':>8} {'p50 ms':>7} {'p95 ms':>7} {'rec@10':>7}", flush=True)
    queries = embeddings(args.queries, args.dim, args.centres, seed=1)
    for size in args.sizes:
        bench_size(embeddings(size, args.dim, args.centres, seed=0), queries, args.filters)


def bench_size(vectors: np.ndarray, queries: np.ndarray, filters: list[float]) -> None:
    size = len(vectors)
    rng = np.random.default_rng(7)
    cases: Cases = {"none": (None, ground_truth(vectors, queries, None))}
    for share in filters:
        allowed = np.sort(rng.choice(size, max(1, int(size * share)), replace=False))
        cases[f"{share:.1%}"] = (allowed, ground_truth(vectors, queries, allowed))
    with tempfile.TemporaryDirectory() as folder:
        measure("exact", vectors, size, queries, cases, Path(folder))
        measure("approx", vectors, 0, queries, cases, Path(folder))


if __name__ == "__main__":
    main()
