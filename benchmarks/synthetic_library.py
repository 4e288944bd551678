"""Build a synthetic library of N photos straight into a catalog, for measuring what grows with the library.

No photo files and no model: the catalog is created through the real schema (Alembic migrations, by
opening it like the app does), then filled with folders, photos, files, embeddings (random unit vectors,
float16 as the indexer stores them), tag scores and histograms (computed by the tagger's own scoring
functions against random tag vectors) and albums. Embeddings are drawn near one or two "topic" tags with a
Zipf-like popularity, so tags have realistic skewed counts, and dates, cameras and folders follow a
photographer's archive: one folder per event, a few watched roots, a few phones and cameras. Fixed seed.

    .venv/bin/python benchmarks/synthetic_library.py HOME --photos 100000 [--dim 1152]

HOME then opens like any library (PHOTOSIFT_HOME=HOME); its model is the 1152-d SigLIP 2 So400m spec, so
`photosift status` there needs no download. `synthetic_spec` gives the spec for a bench to open it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import open_engine, write_transaction
from photosift.core.models.spec import ModelSpec, load_spec
from photosift.core.settings import Paths, Settings, save_settings
from photosift.core.tags.scoring import Candidates
from photosift.core.tags.store import TagStore
from photosift.core.tags.tagger import TagMatrix, _by_tag, _score
from photosift.core.tags.vocabulary import load_vocabulary

SPEC_FILE = REPO / "resources" / "models" / "vit-so400m-16-siglip2-384.json"  # 1152-d, like the target
SEED = 20261205
CHUNK = 20_000  # photos written per transaction: bounded memory at 1M
PHOTOS_PER_EVENT = 120  # a day out, a holiday week: one folder each
ROOTS = ("/home/ann/Pictures", "/media/archive/Photos", "/home/ann/Phone")
CAMERAS = (
    "Apple iPhone 12",
    "Apple iPhone 15 Pro",
    "Google Pixel 7",
    "SAMSUNG SM-G991B",
    "Canon EOS 5D Mark III",
    "Canon EOS R6",
    "NIKON D750",
    "SONY ILCE-7M3",
    "FUJIFILM X-T3",
    "OLYMPUS E-M10",
)
EVENTS = ("Holiday", "Birthday", "Garden", "Hike", "Wedding", "Beach", "Christmas", "City trip", "Zoo", "Misc")
FIRST_DAY, DAYS = datetime(2003, 1, 1), 23 * 365
ALBUMS = 60  # manual albums, 20 to 5,000 photos each
TOPIC_WEIGHTS = (0.30, 0.18)  # a photo's cosine to its main and second topic before noise
SHOOTING_HOURS = (8, 20)  # capture times fall in daylight


def synthetic_spec(dim: int = 1152) -> ModelSpec:
    """The spec the synthetic library is "indexed" with: So400m's, unchanged at 1152 dimensions, so that
    `photosift status` (which resolves the selected spec file) finds the same model row; another size
    gets a spec of its own (its key differs, so only benchmarks that open it with this spec see it)."""
    spec = load_spec(SPEC_FILE)
    return spec if dim == spec.embed_dim else dataclasses.replace(spec, embed_dim=dim)


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build(home: Path, n_photos: int, dim: int = 1152, progress: bool = True) -> None:
    """Create the library in `home` (which must not hold a catalog yet)."""
    paths = Paths(home)
    paths.ensure()
    if paths.database.exists():
        raise SystemExit(f"{paths.database} exists; give an empty HOME")
    spec = synthetic_spec(dim)
    save_settings(paths, Settings().with_changes(model=str(SPEC_FILE)))
    engine = open_engine(paths.database)  # the real schema, through the migrations
    rng = np.random.default_rng(SEED)
    with write_transaction(engine) as conn:
        model_id = conn.execute(s.models.insert().values(key=spec.key, name=spec.name, dim=dim, generation=1)).lastrowid
        now = datetime(2026, 12, 1)
        conn.execute(s.folders.insert(), [{"path": r, "status": "ok", "added_at": now} for r in ROOTS])
    store = TagStore(engine)
    store.seed(load_vocabulary())
    tag_ids = np.array(sorted(t.id for t in store.tags()), dtype=np.int64)
    matrix = TagMatrix(tag_ids, unit_rows(rng, len(tag_ids), dim))
    popularity = 1.0 / np.arange(1, len(tag_ids) + 1) ** 0.9  # Zipf-like: a few tags on many photos
    popularity = rng.permutation(popularity / popularity.sum())
    _store_tag_vectors(engine, model_id, matrix)
    started = time.perf_counter()
    histograms: dict[int, np.ndarray] = {}
    for done, chunk in enumerate(_chunks(n_photos)):
        ids = np.arange(chunk.start + 1, chunk.stop + 1, dtype=np.int64)
        vectors = _embeddings(rng, len(ids), matrix.vectors, popularity)
        with write_transaction(engine) as conn:
            _write_photos(conn, rng, ids, vectors, model_id)
            candidates, counts = _score(ids, vectors, matrix)
            _write_scores(conn, model_id, candidates)
        for tag, histogram in _by_tag(tag_ids, counts).items():
            histograms[tag] = histograms.get(tag, 0) + histogram
        if progress:
            print(f"{chunk.stop:>9} photos  {time.perf_counter() - started:6.0f} s", flush=True)
        del done
    store.replace_scores(model_id, [], Candidates.concat([]), histograms)
    _write_albums(engine, rng, n_photos)
    engine.dispose()


def _chunks(n: int) -> Iterator[range]:
    return (range(start, min(start + CHUNK, n)) for start in range(0, n, CHUNK))


def _embeddings(rng: np.random.Generator, n: int, topics: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    main, second = (rng.choice(len(topics), size=n, p=popularity) for _ in range(2))
    noise = unit_rows(rng, n, topics.shape[1])
    a, b = TOPIC_WEIGHTS
    vectors = a * topics[main] + b * topics[second] + np.sqrt(1 - a * a - b * b) * noise
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _store_tag_vectors(engine: object, model_id: int, matrix: TagMatrix) -> None:
    from photosift.core.tags.calibration import BINS, encode_histogram

    empty = encode_histogram(np.zeros(BINS, dtype=np.int64))
    rows = [
        {"tag_id": int(t), "model_id": model_id, "definition": "synthetic", "vector": v.tobytes(), "histogram": empty}
        for t, v in zip(matrix.tag_ids, matrix.vectors, strict=True)
    ]
    with write_transaction(engine) as conn:  # type: ignore[arg-type]
        conn.execute(s.tag_vectors.insert(), rows)


def _write_photos(conn: object, rng: np.random.Generator, ids: np.ndarray, vectors: np.ndarray, model_id: int) -> None:
    """Photos in id order are in date order within an event folder, events spread over 23 years; 3% of
    photos have no capture date (screenshots, scans), a third of those in the phone root."""
    n = len(ids)
    events = (ids - 1) // PHOTOS_PER_EVENT
    n_events_total = 1 + int(events.max())
    event_day = (events * 7919 % max(DAYS, 1)).astype(np.int64)  # events scattered over the years
    seconds = event_day * 86400 + rng.integers(SHOOTING_HOURS[0] * 3600, SHOOTING_HOURS[1] * 3600, n)
    cameras = rng.integers(0, len(CAMERAS), n)
    undated = rng.random(n) < 0.03
    photo_rows, file_rows = [], []
    for k in range(n):
        photo_id, event = int(ids[k]), int(events[k])
        taken = FIRST_DAY + timedelta(seconds=int(seconds[k]))
        root = event % len(ROOTS) + 1
        folder = f"{taken:%Y}/{taken:%Y-%m-%d} {EVENTS[event % len(EVENTS)]} {event % 97}"
        path = f"{ROOTS[root - 1]}/{folder}/IMG_{photo_id % 10000:04d}_{photo_id}.jpg"
        size = 2_000_000 + photo_id % 3_000_000
        photo_rows.append(
            {
                "id": photo_id,
                "fingerprint": f"{photo_id:064x}",
                "size": size,
                "width": 4032,
                "height": 3024,
                "taken_at": None if undated[k] else taken,
                "camera": None if undated[k] else CAMERAS[cameras[k]],
                "status": "ok",
            }
        )
        mtime_ns = int(taken.timestamp() * 1e9) + 86400 * 10**9
        file_rows.append(
            {"id": photo_id, "photo_id": photo_id, "folder_id": root, "path": path, "size": size, "mtime_ns": mtime_ns}
        )
    del n_events_total
    for table, rows in ((s.photos, photo_rows), (s.files, file_rows)):
        conn.execute(table.insert(), rows)  # type: ignore[attr-defined]
    stored = vectors.astype(np.float16)  # as the indexer stores them
    conn.exec_driver_sql(  # type: ignore[attr-defined]
        "INSERT INTO embeddings (photo_id, model_id, vector) VALUES (?, ?, ?)",
        [(int(i), model_id, v.tobytes()) for i, v in zip(ids, stored, strict=True)],
    )


def _write_scores(conn: object, model_id: int, candidates: Candidates) -> None:
    """Straight through the driver: twelve rows a photo, 12 million at 1M, where SQLAlchemy's per-row
    work doubled the build time."""
    rows = zip(
        [model_id] * len(candidates.tag_ids),
        candidates.tag_ids.tolist(),
        candidates.photo_ids.tolist(),
        candidates.scores.astype(np.float64).tolist(),
        strict=True,
    )
    sql = "INSERT INTO tag_scores (model_id, tag_id, photo_id, score) VALUES (?, ?, ?, ?)"
    conn.exec_driver_sql(sql, list(rows))  # type: ignore[attr-defined]


def _write_albums(engine: object, rng: np.random.Generator, n_photos: int) -> None:
    """Manual albums of 20 to 5,000 photos (runs of consecutive photos, like picking from an event or
    a year), plus two smart albums."""
    now = datetime(2026, 12, 1)
    with write_transaction(engine) as conn:  # type: ignore[arg-type]
        for a in range(ALBUMS):
            album_id = conn.execute(
                s.albums.insert().values(name=f"Album {a + 1:02d}", kind="manual", created_at=now)
            ).lastrowid
            size = min(n_photos, int(20 * 250 ** rng.random()))
            start = int(rng.integers(1, n_photos - size + 2))
            members = np.unique(rng.integers(start, start + size, size))
            rows = [{"album_id": album_id, "photo_id": int(p), "added_at": now} for p in members]
            conn.execute(s.album_photos.insert(), rows)
        for name, query in (("Beach days", "beach after:2015"), ("Dogs", "dog")):
            conn.execute(s.albums.insert().values(name=name, kind="smart", query=query, created_at=now))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path, help="an empty folder: the library's PHOTOSIFT_HOME")
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1152)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    build(args.home, args.photos, args.dim)
    size = sum(f.stat().st_size for f in Paths(args.home).database.parent.glob(Paths(args.home).database.name + "*"))
    print(f"built {args.photos} photos in {time.perf_counter() - started:.0f} s; catalog {size / 1e9:.2f} GB")
    os.sync()


if __name__ == "__main__":
    main()
