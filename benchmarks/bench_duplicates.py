"""Near-duplicate grouping: precision and recall on a ground-truth set, and the time to group 100k photos.

    .venv/bin/python benchmarks/bench_duplicates.py [--originals 100] [--distractors 200] [--library HOME]

Ground truth: held-out photos of the shared folder (hymenoptera: real photos of mixed sizes), each of
`--originals` beside five copies (resized to half, recompressed at JPEG quality 30, centre-cropped to 85%
of each side, cropped to the top-left 75% of each side, colour-shifted), and `--distractors` other photos
unchanged. Every pair of one family is a true pair; precision and recall count pairs of photos put in one
group. The rows marked "before" compare whole-photo pHashes only, as the app did before it kept the
hashes of windows inside each photo (core.duplicates.signatures.CROP_WINDOWS); one run gives both.

What the embedding figure measures: no pretrained CLIP weights can be had on these machines (the tiny
random test models embed noise), so the embedding here is a classic stand-in, a 16x16 colour thumbnail
with each channel's mean taken out, L2-normalised (Torralba's tiny images). The rows show the grouping
as it runs (range search, pHash confirmation, union-find, with the thresholds of core.duplicates.pairs)
and what each signal does alone. The pHash rows hold for any model; the embedding rows would differ with
a CLIP-family model, whose copies score higher and whose distinct photos of one scene score closer.

With --library HOME (a library benchmarks/synthetic_library.py built, random 1152-d embeddings), 1,000
near-copies are planted (a photo's embedding replaced by one at cosine 0.92-0.995 to another photo's),
and `Duplicates.find` runs on the whole library as the app runs it: the time, and how many planted
pairs the range search found. Its files do not exist, so the pHash step finds nothing to read and only
pairs at or above SURE_SIMILARITY are kept: that part measures the time of the grouping, not its quality.
With --library HOME --writer-wait (HOME left as it is), the search runs in a task runner as the window
runs it, first on the writer (as before), then on a read thread, and a mark is asked for 3 s in: how
long it waits says whether the search holds other writes up.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from _common import SHARED_DATA
from PIL import Image, ImageEnhance

from photosift.core.duplicates import pairs as dp
from photosift.core.duplicates.records import Signature
from photosift.core.duplicates.signatures import read_signature
from photosift.core.imageio import load_image
from photosift.core.settings import Paths

if TYPE_CHECKING:
    from photosift.app.tasks import TaskRunner

TRANSFORMS = ("resized", "recompressed", "cropped", "corner-cropped", "colour-shifted")
SEED = 20
PLANTED = 1000
WAIT_AFTER_S = 3.0  # --writer-wait: when the mark is asked, well after the search has started


def variant(image: Image.Image, kind: str, target: Path) -> None:
    """Write one near-duplicate of `image`."""
    w, h = image.size
    if kind == "resized":
        image.resize((w // 2, h // 2), Image.Resampling.LANCZOS).save(target, quality=90)
    elif kind == "recompressed":
        image.save(target, quality=30)
    elif kind == "cropped":
        image.crop((w * 15 // 200, h * 15 // 200, w - w * 15 // 200, h - h * 15 // 200)).save(target, quality=90)
    elif kind == "corner-cropped":
        image.crop((0, 0, w * 3 // 4, h * 3 // 4)).save(target, quality=90)
    else:
        warm = ImageEnhance.Brightness(ImageEnhance.Color(image).enhance(1.5)).enhance(1.12)
        r, g, b = warm.split()
        Image.merge("RGB", (r.point(lambda v: min(255, int(v * 1.08))), g, b.point(lambda v: int(v * 0.9)))).save(
            target, quality=90
        )


def ground_truth(folder: Path, originals: int, distractors: int) -> tuple[list[Path], list[int]]:
    """The photos to group and each one's family (distractors have families of their own)."""
    sources = sorted(p for p in (SHARED_DATA / "hymenoptera").rglob("*.jpg"))
    np.random.default_rng(SEED).shuffle(sources)  # type: ignore[arg-type]
    paths, family = [], []
    for number, source in enumerate(sources[:originals]):
        image, _ = load_image(source)
        paths.append(source)
        family.append(number)
        for kind in TRANSFORMS:
            target = folder / f"{number:03d}-{kind}.jpg"
            variant(image, kind, target)
            paths.append(target)
            family.append(number)
    for number, source in enumerate(sources[originals : originals + distractors], start=originals):
        paths.append(source)
        family.append(number)
    return paths, family


def tiny_image(path: Path) -> np.ndarray:
    """The stand-in embedding: a 16x16 colour thumbnail, channel means removed, L2-normalised."""
    image, _ = load_image(path, min_side=64)
    pixels = np.asarray(image.resize((16, 16), Image.Resampling.BOX), dtype=np.float32)
    pixels -= pixels.mean(axis=(0, 1), keepdims=True)
    vector = pixels.ravel()
    return vector / max(float(np.linalg.norm(vector)), 1e-6)


def pair_scores(predicted: list[list[int]], family: list[int], kinds: list[str]) -> dict[str, float]:
    """Pairwise precision and recall of `predicted` groups against the families, and recall per transform."""
    said = {pair for group in predicted for pair in itertools.combinations(sorted(group), 2)}
    members: dict[int, list[int]] = {}
    for photo, f in enumerate(family):
        members.setdefault(f, []).append(photo)
    truth = {pair for group in members.values() for pair in itertools.combinations(group, 2)}
    hits = len(said & truth)
    scores = {"precision": hits / len(said) if said else 1.0, "recall": hits / len(truth), "pairs": float(len(said))}
    for kind in TRANSFORMS:  # the original (first of its family) with this copy
        wanted = {(members[family[p]][0], p) for p, k in enumerate(kinds) if k == kind}
        scores[kind] = len(wanted & said) / len(wanted)
    return scores


def grouping_table(originals: int, distractors: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        paths, family = ground_truth(Path(tmp), originals, distractors)
        kinds = [p.stem.split("-", 1)[1] if p.parent == Path(tmp) else "original" for p in paths]
        vectors = np.stack([tiny_image(p) for p in paths]).astype(np.float32)
        signatures = {i: read_signature((str(p),)) for i, p in enumerate(paths)}
        prepared = time.perf_counter() - started
    ids = np.arange(len(paths), dtype=np.int64)
    candidates = dp.similar_pairs(ids, vectors, dp.CANDIDATE_SIMILARITY)
    whole = {i: replace(sig, crop_hashes=()) for i, sig in signatures.items()}  # before the windows
    rows = {
        f"pHash alone (<= {dp.HASH_DISTANCE} bits), before": dp.connected_groups(_hash_pairs(whole)),
        "pHash with crop windows alone": dp.connected_groups(_hash_pairs(signatures)),
        f"embedding alone (>= {dp.CANDIDATE_SIMILARITY:.2f})": dp.connected_groups(candidates),
        f"embedding alone (>= {dp.SURE_SIMILARITY:.2f})": dp.connected_groups(
            candidates.subset(candidates.similarity >= dp.SURE_SIMILARITY)
        ),
        "embedding + pHash, before": dp.connected_groups(dp.confirmed(candidates, whole)),
        "embedding + pHash with windows (app)": dp.connected_groups(dp.confirmed(candidates, signatures)),
    }
    print(
        f"{len(paths)} photos: {originals} originals x {len(TRANSFORMS) + 1} (with {len(TRANSFORMS)} copies) + "
        f"{distractors} distractors ({prepared:.0f} s to make and read); embedding: 16x16 tiny image (a stand-in, "
        "not CLIP)"
    )
    print(f"{'rule':<38} {'precision':>9} {'recall':>7} {'pairs':>6}  " + "  ".join(f"{k:>14}" for k in TRANSFORMS))
    for name, groups in rows.items():
        s = pair_scores(groups, family, kinds)
        per_kind = "  ".join(f"{s[k]:>14.2f}" for k in TRANSFORMS)
        print(f"{name:<38} {s['precision']:>9.3f} {s['recall']:>7.3f} {int(s['pairs']):>6}  {per_kind}")


def _hash_pairs(signatures: dict[int, Signature]) -> dp.Pairs:
    """Every pair whose signatures are within HASH_DISTANCE (all pairs compared: small sets only)."""
    found = []
    for a, b in itertools.combinations(sorted(signatures), 2):
        distance = dp.signature_distance(signatures[a], signatures[b])
        if distance is not None and distance <= dp.HASH_DISTANCE:
            found.append((a, b))
    first, second = (np.array(x, dtype=np.int64) for x in zip(*found, strict=True)) if found else (np.empty(0),) * 2
    return dp.Pairs(first, second, np.ones(len(found), np.float32))


def plant(home: Path) -> set[tuple[int, int]]:
    """Replace PLANTED photos' embeddings by near-copies of others' (cosine 0.92-0.995), in the catalog."""
    from sqlalchemy import select, update

    from photosift.core.catalog import schema as s
    from photosift.core.catalog.database import open_engine, write_transaction
    from photosift.core.catalog.embeddings import STORAGE_DTYPE

    engine = open_engine(Paths(home).database)
    rng = np.random.default_rng(SEED)
    with write_transaction(engine) as conn:
        ids = np.array([r[0] for r in conn.execute(select(s.embeddings.c.photo_id).order_by(s.embeddings.c.photo_id))])
        chosen = rng.choice(ids, 2 * PLANTED, replace=False)
        sources, copies = chosen[:PLANTED], chosen[PLANTED:]
        rows = dict(
            conn.execute(
                select(s.embeddings.c.photo_id, s.embeddings.c.vector).where(
                    s.embeddings.c.photo_id.in_(sources.tolist())
                )
            ).all()
        )
        for source, copy in zip(sources.tolist(), copies.tolist(), strict=True):
            v = np.frombuffer(rows[source], dtype=STORAGE_DTYPE).astype(np.float32)
            v /= np.linalg.norm(v)
            noise = rng.standard_normal(v.size).astype(np.float32)
            noise -= (noise @ v) * v
            sim = rng.uniform(0.92, 0.995)
            new = sim * v + np.sqrt(1 - sim * sim) * noise / np.linalg.norm(noise)
            conn.execute(
                update(s.embeddings)
                .where(s.embeddings.c.photo_id == copy)
                .values(vector=new.astype(STORAGE_DTYPE).tobytes())
            )
        conn.execute(update(s.models).values(generation=s.models.c.generation + 1))  # the index file is stale now
    engine.dispose()
    return {(min(a, b), max(a, b)) for a, b in zip(sources.tolist(), copies.tolist(), strict=True)}


def library_timing(home: Path) -> None:
    from bench_scale import open_library

    from photosift.core.duplicates.service import Duplicates

    planted = plant(home)
    library, _ = open_library(home)
    try:
        started = time.perf_counter()
        index = library.vector_index()
        index_s = time.perf_counter() - started
        report = Duplicates(library).find()
        ids = index.ids()
        started = time.perf_counter()
        pairs = dp.similar_pairs(ids, index.vectors(ids))
        range_s = time.perf_counter() - started
    finally:
        library.close()
    found = set(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True))
    print(
        f"{report.photos:,} photos: index from the catalog {index_s:.1f} s; Duplicates.find {report.elapsed_s:.1f} s "
        f"({report.candidate_pairs} candidate pairs, {report.confirmed_pairs} kept, {report.groups} groups)"
    )
    print(
        f"range search alone {range_s:.1f} s; planted pairs found {len(found & planted)}/{len(planted)} "
        f"(recall {len(found & planted) / len(planted):.3f}), other pairs {len(found - planted)}"
    )


def writer_wait(home: Path) -> None:
    """How long a short write (a mark) asked WAIT_AFTER_S into the window's duplicate search waits, with the
    search on the task runner's writer (as before) and on its read pool (as the window runs it now)."""
    from bench_scale import open_library
    from PySide6.QtCore import QCoreApplication

    from photosift.app.tasks import TaskRunner

    app = QCoreApplication.instance() or QCoreApplication([])
    library, _ = open_library(home)
    library.vector_index()  # the window has it loaded already
    runner = TaskRunner(library, app)
    try:
        for on_writer in (True, False):
            search_s, wait_s = _search_and_mark(runner, on_writer)
            where = "the writer (before)" if on_writer else "a read thread (now)"
            print(f"search on {where}: {search_s:.1f} s; a mark asked {WAIT_AFTER_S:.0f} s in waited {wait_s:.2f} s")
    finally:
        runner.shutdown()
        library.close()


def _search_and_mark(runner: TaskRunner, on_writer: bool) -> tuple[float, float]:
    """Seconds the search took, and seconds the mark asked meanwhile waited."""
    from PySide6.QtCore import QEventLoop, QTimer

    from photosift.core.duplicates.service import Duplicates

    loop, times, started = QEventLoop(), {}, time.perf_counter()

    def finished(name: str, since: float) -> None:
        times[name] = time.perf_counter() - since
        if len(times) == 2:
            loop.quit()

    def mark() -> None:
        asked = time.perf_counter()
        runner.run_op(lambda lib: Duplicates(lib).mark([], False), lambda _: finished("mark", asked), writes=True)

    runner.run_long_op(
        lambda lib, progress, cancel: Duplicates(lib).search(progress, cancel),
        lambda _: finished("search", started),
        writes=on_writer,
    )
    QTimer.singleShot(int(WAIT_AFTER_S * 1000), mark)
    loop.exec()
    return times["search"], times["mark"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=100)
    parser.add_argument("--distractors", type=int, default=200)
    parser.add_argument("--library", type=Path, help="a synthetic library's HOME to time the grouping on")
    parser.add_argument("--skip-ground-truth", action="store_true")
    parser.add_argument(
        "--writer-wait", action="store_true", help="with --library: time a write during the search instead"
    )
    args = parser.parse_args()
    if not args.skip_ground_truth:
        grouping_table(args.originals, args.distractors)
    if args.library and args.writer_wait:
        writer_wait(args.library)
    elif args.library:
        library_timing(args.library)


if __name__ == "__main__":
    main()
