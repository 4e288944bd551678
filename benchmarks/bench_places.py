"""Places and marks at scale: loading the gazetteer, naming N photos' places (lookup and catalog writes),
the side panel's counts, and the place, city, country, near, favourite and rating filters.

The catalog is built through the real schema with N photos at random points near GeoNames places (a few
kilometres of jitter, places drawn by population so cities dominate as in real archives), a tenth of them
favourites and a fifth rated. No photo files and no model: nothing here needs them. Prints JSON.

    .venv/bin/python benchmarks/bench_places.py [--photos 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, insert

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import open_engine, write_transaction
from photosift.core.catalog.marks import favourite_photo_ids, rated_photo_ids
from photosift.core.catalog.place_rows import photos_in_places, photos_near, place_counts
from photosift.core.places import Gazetteer, load_gazetteer, name_places

SEED = 20261205
JITTER_DEG = 0.03  # about 3 km: photos spread around a place, not on its centre


def sample_points(gazetteer: Gazetteer, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """N points near places drawn by population (plus one, so villages appear too)."""
    weights = gazetteer._population.astype(np.float64) + 1.0  # a benchmark may look inside
    chosen = rng.choice(len(weights), size=n, p=weights / weights.sum())
    places = [gazetteer._places[i] for i in chosen]
    lat = np.array([p["latitude"] for p in places]) + rng.normal(0, JITTER_DEG, n)
    lon = np.array([p["longitude"] for p in places]) + rng.normal(0, JITTER_DEG, n)
    return np.clip(lat, -90, 90), (lon + 180) % 360 - 180


def build(engine: Engine, lat: np.ndarray, lon: np.ndarray, rng: np.random.Generator) -> None:
    now = datetime.now()
    photos = [
        {"id": i + 1, "fingerprint": f"{i:064x}", "size": 1, "gps_lat": float(a), "gps_lon": float(o), "status": "ok"}
        for i, (a, o) in enumerate(zip(lat, lon, strict=True))
    ]
    marked = rng.random(len(photos))
    marks = [
        {"photo_id": i + 1, "favourite": bool(m < 0.1), "rating": int(rng.integers(1, 6)), "marked_at": now}
        for i, m in enumerate(marked)
        if m < 0.2
    ]
    with write_transaction(engine) as conn:
        conn.execute(insert(s.photos), photos)
        conn.execute(insert(s.photo_marks), marks)


def timed(fn: Callable[[], object], rounds: int) -> dict[str, float]:
    times, found = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        found = fn()
        times.append(time.perf_counter() - start)
    size = len(found) if isinstance(found, (set, list)) else None
    return {"median_ms": round(statistics.median(times) * 1000, 1), "found": size or 0}  # photos, or rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    start = time.perf_counter()
    gazetteer = load_gazetteer()
    load_s = time.perf_counter() - start
    lat, lon = sample_points(gazetteer, args.photos, rng)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(Path(folder) / "catalog.sqlite3")
        build(engine, lat, lon, rng)
        start = time.perf_counter()
        named = name_places(engine, lambda: gazetteer)
        naming_s = time.perf_counter() - start
        report = {
            "photos": args.photos,
            "gazetteer_load_s": round(load_s, 2),
            "naming": {"photos": named, "seconds": round(naming_s, 2), "photos_per_s": round(named / naming_s)},
            "place_counts": timed(lambda: place_counts(engine), args.rounds),
            "place:London": timed(lambda: photos_in_places(engine, ["London"]), args.rounds),
            "city:Tokyo": timed(lambda: photos_in_places(engine, ["Tokyo"], ("city",)), args.rounds),
            "country:FR": timed(lambda: photos_in_places(engine, ["FR"], ("country", "country_code")), args.rounds),
            "near:48.86,2.35,10km": timed(lambda: photos_near(engine, 48.86, 2.35, 10.0), args.rounds),
            "is:favourite": timed(lambda: favourite_photo_ids(engine), args.rounds),
            "rating:>=4": timed(lambda: rated_photo_ids(engine, [(">=", 4)]), args.rounds),
        }
        engine.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
