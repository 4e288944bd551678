"""What a large library costs: open, first search, filtered searches, side panel counts, status, memory, disk.

Run on a library that benchmarks/synthetic_library.py built (100k and 1M photos):

    .venv/bin/python benchmarks/bench_scale.py HOME [--rounds 20]

No model loads: text terms get a fixed random unit vector per text (the encoder is not what is measured
here; bench_onnx.py and bench_query.py measure it). Everything else is the app's own code path:
`Library.search` with the query language, the vector index built from SQLite or loaded from its file,
`TagService.counts` for the side panel, the home view's timeline pages, and `photosift status` as a whole
process.

The first pass builds the vector index from SQLite (a library whose index file is missing or stale) and
saves it on close; a second process then measures a cold open and the first search that loads the file.
Targets at 1M (issue 17): open <= 1 s, any single-filter search p95 <= 50 ms, counts <= 200 ms,
resident memory <= 3 GB with 1152-d embeddings.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO
from synthetic_library import _embeddings, synthetic_spec, unit_rows

from photosift.core import vindex_subset
from photosift.core.catalog import Catalog
from photosift.core.library import Library
from photosift.core.search import ranking
from photosift.core.search.filter_index import FilterIndex
from photosift.core.search.query import parse_query
from photosift.core.search.ranking import allowed_photo_ids
from photosift.core.search.records import SearchFilters
from photosift.core.settings import Paths, load_settings
from photosift.core.vindex import VectorIndex
from photosift.core.vindex_subset import Subsets

QUERIES = {
    "no filter": "{q}",
    "folder:NAME": "{q} folder:2014",
    "folder:PATH": "{q} folder:/home/ann/Pictures/2014",
    "after:/before:": "{q} after:2015-03 before:2015-09",
    "tag:": "{q} tag:{tag}",
    "album:": '{q} album:"Album 07"',
    "sort:date": "{q} sort:date",
    "filters only": "folder:2014",
}
TEXTS = ("dog on a beach", "sunset", "birthday cake", "snow in the mountains", "red car", "family dinner")


class RandomTextEncoder:
    """Stands in for the model: each text maps to a fixed random unit vector (seeded by the text)."""

    device = "cpu"
    min_side = 16

    def __init__(self, dim: int) -> None:
        self.embed_dim = dim

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.embed_dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows)

    def load(self, progress: object = None, cancel: object = None) -> None:
        """No weights."""

    def prepare_bundled_tokenizer(self) -> None:
        """No tokenizer."""

    def release(self) -> None:
        """Nothing held."""


def rss_mb(field: str = "VmRSS:") -> float:
    """Resident memory now, or its peak so far with field="VmHWM:"."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_library(home: Path) -> tuple[Library, float]:
    """The library as the app's composition root builds it (no model load), and the seconds it took."""
    started = time.perf_counter()
    paths = Paths(home)
    catalog = Catalog(paths.database)
    spec = synthetic_spec()
    library = Library(paths, load_settings(paths), catalog, spec, RandomTextEncoder(spec.embed_dim))  # type: ignore[arg-type]
    return library, time.perf_counter() - started


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


class Report(dict[str, object]):
    """The figures, each also printed to stderr as it is measured: a run at a million photos takes long
    enough that a partial one must still say something."""

    def __setitem__(self, key: str, value: object) -> None:
        print(f"{key}: {json.dumps(value)}", file=sys.stderr, flush=True)
        super().__setitem__(key, value)


def first_pass(home: Path, filter_stage: bool = True) -> dict[str, object]:
    """Open, first search, then the bulk of the measurements."""
    library, open_s = open_library(home)
    out = Report()
    out["open_s"], out["rss_after_open_mb"] = open_s, rss_mb()
    out["first_search_ms"] = timed(lambda: library.search("a first search"))
    out["rss_after_first_search_mb"] = rss_mb()
    out["peak_rss_first_search_mb"] = rss_mb("VmHWM:")  # the index built from SQLite a range at a time
    out["first_filtered_search_ms"] = timed(lambda: library.search("a first search folder:2014"))  # through SQL
    # Another filter: the filter index keeps the answer to a question asked before, so folder:2014 again would
    # not read the columns.
    out["second_filtered_search_ms"] = timed(lambda: library.search("a second search folder:2015"))  # reads them
    out["rss_after_filter_columns_mb"] = rss_mb()
    counts: dict[str, int] = {}
    out["tag_counts_ms"] = [timed(lambda: counts.update(library.tags.counts())) for _ in range(3)]
    tag = max(counts, key=lambda name: counts[name])
    out["tag"], out["tag_photos"] = tag, counts[tag]
    out["queries"] = measure_queries(library, tag, ROUNDS)
    out["timeline_page_ms"] = measure_timeline(library)
    if filter_stage:
        out["filter_stage"] = measure_filter_stage(library, tag, ROUNDS)
    out["rss_end_mb"] = rss_mb()
    out["close_ms"] = timed(library.close)  # saves the index built from SQLite
    return out


def measure_queries(library: Library, tag: str, rounds: int) -> dict[str, dict[str, float]]:
    results = {}
    for label, template in QUERIES.items():
        warm = template.format(q=TEXTS[0], tag=tag)
        first = timed(lambda: library.search(warm))  # noqa: B023 (called at once) warms a tag's or album's ids
        texts = [template.format(q=TEXTS[r % len(TEXTS)], tag=tag) for r in range(rounds)]
        times = sorted(timed(lambda text=text: library.search(text)) for text in texts)  # type: ignore[misc]
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        results[label] = {"first": first, "p50": statistics.median(times), "p95": p95}
    return results


def measure_timeline(library: Library, page: int = 200) -> dict[str, float]:
    """The home view's pages (newest first): the first, one in the middle, the last (End); median of 3."""
    _, total = library.timeline_page(0, 1)
    offsets = {"first": 0, "middle": total // 2, "last": max(0, total - page)}
    return {
        name: statistics.median(timed(lambda o=offset: library.timeline_page(o, page)) for _ in range(3))  # type: ignore[misc]
        for name, offset in offsets.items()
    }


def measure_filter_stage(library: Library, tag: str, rounds: int) -> dict[str, dict[str, float]]:
    """The filters alone, paired: the SQL path's set of ids against the filter index's masks (medians, ms;
    the tag's and album's ids cached by the filter index after its first round, as in a search)."""
    index = FilterIndex(library.catalog.engine, library.catalog.path, library)
    index.columns()  # a search reads them on the second filtered search in a row; not what is timed here
    results = {}
    for label, template in QUERIES.items():
        filters = (parse_query(template.format(q=TEXTS[0], tag=tag)).filters, SearchFilters())
        if index.allowed(filters) is None:  # no filter, or sort: only
            continue
        sql = [timed(lambda: allowed_photo_ids(library.catalog.engine, library, filters)) for _ in range(rounds)]  # noqa: B023
        masks = [timed(lambda: index.allowed(filters)) for _ in range(rounds)]  # noqa: B023
        results[label] = {"sql_ms": statistics.median(sql), "masks_ms": statistics.median(masks)}
    index.close()
    return results


def reopen(home: Path) -> dict[str, object]:
    """A fresh process: cold open and the first search, which loads the saved index file."""
    library, open_s = open_library(home)
    out: dict[str, object] = {"open_s": open_s, "rss_after_open_mb": rss_mb()}
    out["first_search_ms"] = timed(lambda: library.search("a first search"))
    out["rss_after_first_search_mb"] = rss_mb()
    out["status_in_process_ms"] = timed(library.status)
    library.catalog.close()
    return out


def status_command(home: Path) -> float:
    env = {**os.environ, "PHOTOSIFT_HOME": str(home)}
    started = time.perf_counter()
    subprocess.run([str(REPO / ".venv" / "bin" / "photosift"), "status"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def disk_mb(home: Path) -> dict[str, float]:
    paths = Paths(home)
    catalog = sum(f.stat().st_size for f in paths.database.parent.glob(paths.database.name + "*"))
    index = sum(f.stat().st_size for f in paths.indexes.glob("*.faiss"))
    return {"catalog_mb": catalog / 1e6, "index_mb": index / 1e6}


def ivf_recall(n: int, queries: int = 200) -> dict[str, float]:
    """The approximate index's build time, recall@10 against an exact pass, and per-query times, on `n`
    synthetic_library-like embeddings held in memory (no catalog): what its list count trades."""
    rng = np.random.default_rng(1)
    topics = unit_rows(rng, 462, 1152)
    popularity = 1.0 / np.arange(1, len(topics) + 1) ** 0.9
    popularity = rng.permutation(popularity / popularity.sum())
    vectors = np.concatenate([_embeddings(rng, min(50_000, n - a), topics, popularity) for a in range(0, n, 50_000)])
    q = _embeddings(rng, queries, topics, popularity)
    exact = np.concatenate([q @ vectors[a : a + 100_000].T for a in range(0, n, 100_000)], axis=1)
    truth = np.argpartition(-exact, 10, axis=1)[:, :10]
    del exact
    started = time.perf_counter()
    index = VectorIndex.build(vectors.shape[1], np.arange(n), vectors)
    build_s = time.perf_counter() - started
    times, found = [], 0
    for row, expected in zip(q, truth, strict=True):
        started = time.perf_counter()
        [hits] = index.search(row, 10)
        times.append((time.perf_counter() - started) * 1000)
        found += len(set(hits.ids.tolist()) & set(expected.tolist()))
    times.sort()
    p95 = times[int(0.95 * len(times))]
    return {
        "n": n,
        "build_s": build_s,
        "recall_at_10": found / (10 * queries),
        "p50_ms": times[len(times) // 2],
        "p95_ms": p95,
    }


class _Forgetful(dict[object, object]):
    """A FilterIndex answer cache that keeps nothing: every search computes its filter again."""

    def __setitem__(self, key: object, value: object) -> None:
        pass


@contextlib.contextmanager
def previous_paths(library: Library) -> Iterator[None]:
    """Searches as they ran before the subset index (c178d36) and the larger first round (43d108e): FAISS's
    id selector for every filter, the filter's ids computed per search, 256 hits in a first round. Reaches
    into two private caches to swap them out, and puts them back."""
    index, filters = library.vector_index(), library._filters
    kept = (vindex_subset.SUBSET_MAX_SHARE, ranking.FIRST_POOL, index._subsets, filters._answers)
    vindex_subset.SUBSET_MAX_SHARE, ranking.FIRST_POOL = 0.0, 256
    index._subsets, filters._answers = Subsets(), _Forgetful()
    try:
        yield
    finally:
        vindex_subset.SUBSET_MAX_SHARE, ranking.FIRST_POOL, index._subsets, filters._answers = kept


def previous_counts(library: Library) -> dict[int, int]:
    """The side panel's counts query before the score bins (cbcef02): every score at or above a threshold."""
    tags, store = library.tags, library.tags.store
    calibrations = store.calibrations(tags.model_id)
    thresholds = {t.id: calibrations[t.id].threshold(t.sensitivity) for t in tags.tags() if t.id in calibrations}
    rows = ", ".join(["(?, ?)"] * len(thresholds))
    sql = (
        f"WITH wanted(tag_id, threshold) AS (VALUES {rows}) SELECT tag_id, (SELECT count(*) FROM tag_scores"
        " WHERE model_id = ? AND tag_id = wanted.tag_id AND score >= wanted.threshold) FROM wanted"
    )
    params = (*(v for pair in thresholds.items() for v in pair), tags.model_id)
    with store.engine.connect() as conn:
        return {int(r[0]): int(r[1]) for r in conn.exec_driver_sql(sql, params) if r[1]}


def paired(home: Path, rounds: int) -> dict[str, object]:
    """This session's changes against the paths they replaced, in one process, round by round in turn, so
    both see the same load (a loaded shared machine moved unpaired medians 2-3x between runs)."""
    out = Report()
    started = time.perf_counter()
    Catalog(Paths(home).database).close()  # applies pending migrations (0012 fills the score bins)
    out["open_and_migrate_s"] = time.perf_counter() - started
    library, _ = open_library(home)
    out["first_search_ms"] = timed(lambda: library.search("a first search"))
    out["columns_s"] = timed(library._filters.columns) / 1000
    previous, now = [], []
    for _ in range(3):
        previous.append(timed(lambda: previous_counts(library)))
        now.append(timed(library.tags.counts))
    out["tag_counts_ms"] = {"previous": previous, "now": now}
    counts = library.tags.counts()
    tag = max(counts, key=lambda name: counts[name])
    results = {}
    for label, template in QUERIES.items():
        texts = [template.format(q=TEXTS[r % len(TEXTS)], tag=tag) for r in range(rounds)]
        times: dict[str, list[float]] = {"previous": [], "now": []}
        firsts = {}
        for text in [texts[0], *texts]:
            with previous_paths(library):
                times["previous"].append(timed(lambda text=text: library.search(text)))  # type: ignore[misc]
            times["now"].append(timed(lambda text=text: library.search(text)))  # type: ignore[misc]
        for mode, found in times.items():
            firsts[mode] = found.pop(0)
            found.sort()
        results[label] = {
            mode: {"first": firsts[mode], "p50": statistics.median(found), "p95": found[int(0.95 * len(found))]}
            for mode, found in times.items()
        }
        out[label] = results[label]
    library.close()
    return out


ROUNDS = 20


def main(argv: list[str] | None = None) -> None:
    global ROUNDS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument(
        "--ivf-recall", type=int, metavar="N", help="only measure ivf_recall on N vectors (no HOME read)"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--reopen", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-filter-stage", action="store_true", help="skip the SQL-against-masks pairing (minutes at 1M)"
    )
    parser.add_argument("--status-runs", type=int, default=3, help="whole `photosift status` commands timed")
    parser.add_argument(
        "--paired", action="store_true", help="only this session's search and count paths against the previous ones"
    )
    args = parser.parse_args(argv)
    ROUNDS = args.rounds
    if args.ivf_recall:
        print(json.dumps(ivf_recall(args.ivf_recall)))
        return
    if args.paired:
        print(json.dumps(paired(args.home, ROUNDS), indent=1))
        return
    if args.reopen:
        print(json.dumps(reopen(args.home)))
        return
    report: dict[str, object] = {"first_pass": first_pass(args.home, not args.no_filter_stage)}
    child = subprocess.run([sys.executable, __file__, str(args.home), "--reopen"], capture_output=True, text=True)
    report["reopen"] = json.loads(child.stdout) if child.returncode == 0 else child.stderr[-2000:]
    report["status_command_s"] = [status_command(args.home) for _ in range(args.status_runs)]
    report["disk"] = disk_mb(args.home)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
