"""The catalog's `places` rows: storing looked-up place names, counting photos by place, and the photos
that `place:`, `country:` and `near:` filters let through.

Names are compared folded (`fold`: accents dropped, case folded) in Python over the distinct names, a few
thousand even in a large library, because SQLite's lower() knows only ASCII; the photos are then picked
with plain IN lists on the names that matched.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Engine, false, func, insert, or_, select

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import write_transaction

_NAME_COLUMNS = ("locality", "city", "region", "country")
EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG), as great-circle distances usually take it


@dataclass(frozen=True)
class PlaceName:
    """Where a photo was taken, in words (core.places)."""

    locality: str  # the nearest named place: a district, a suburb, a village
    city: str  # what people call where they were (core.places.reach_km)
    region: str
    country: str
    country_code: str


@dataclass(frozen=True)
class PlaceCount:
    """A country or, below it, one of its cities, with the number of photos taken there."""

    country: str
    city: str | None  # None: the country's own row
    photos: int


@functools.lru_cache(maxsize=65_536)  # the same few thousand names at every search
def fold(name: str) -> str:
    """A name for comparing: accents dropped and case folded, so `place:sao paulo` finds São Paulo."""
    if name.isascii():
        return name.casefold().strip()
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def unplaced_photos(engine: Engine) -> list[tuple[int, float, float]]:
    """Photos with GPS whose place is not looked up yet: (id, latitude, longitude), by id."""
    query = (
        select(s.photos.c.id, s.photos.c.gps_lat, s.photos.c.gps_lon)
        .outerjoin(s.places, s.places.c.photo_id == s.photos.c.id)
        .where(s.photos.c.gps_lat.is_not(None), s.photos.c.gps_lon.is_not(None), s.places.c.photo_id.is_(None))
        .order_by(s.photos.c.id)
    )
    with engine.connect() as conn:
        return [(int(i), float(lat), float(lon)) for i, lat, lon in conn.execute(query)]


def store_places(engine: Engine, named: Sequence[tuple[int, PlaceName | None]]) -> None:
    """Store looked-up places in one transaction (None: no named place near, stored as a row of no names
    so the photo is not looked up again). Photos deleted meanwhile, or named meanwhile by another
    process, are skipped."""
    ids = [photo_id for photo_id, _ in named]
    with write_transaction(engine) as conn:
        alive = set(conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_(ids))).scalars())
        known = set(conn.execute(select(s.places.c.photo_id).where(s.places.c.photo_id.in_(ids))).scalars())
        rows = [_row(photo_id, name) for photo_id, name in named if photo_id in alive and photo_id not in known]
        if rows:
            conn.execute(insert(s.places), rows)


def _row(photo_id: int, name: PlaceName | None) -> dict[str, Any]:
    fields = (*_NAME_COLUMNS, "country_code")
    return {"photo_id": photo_id, **{f: (getattr(name, f) or None) if name else None for f in fields}}


def photo_place(engine: Engine, photo_id: int) -> PlaceName | None:
    """The stored place of a photo, or None (no GPS, not looked up yet, or nowhere named)."""
    columns = [s.places.c[name] for name in (*_NAME_COLUMNS, "country_code")]
    with engine.connect() as conn:
        row = conn.execute(select(*columns).where(s.places.c.photo_id == photo_id)).first()
    if row is None or row.country is None:
        return None
    return PlaceName(*(str(value or "") for value in row))


def place_counts(engine: Engine) -> list[PlaceCount]:
    """Countries by photos taken there, most first, each followed by its cities, most first."""
    query = (
        select(s.places.c.country, s.places.c.city, func.count())
        .where(s.places.c.country.is_not(None))
        .group_by(s.places.c.country, s.places.c.city)
    )
    with engine.connect() as conn:
        rows = [(str(country), str(city or ""), int(n)) for country, city, n in conn.execute(query)]
    cities: dict[str, list[tuple[str, int]]] = {}
    for country, city, n in rows:
        cities.setdefault(country, []).append((city, n))
    totals = {country: sum(n for _, n in found) for country, found in cities.items()}
    counts: list[PlaceCount] = []
    for country in sorted(totals, key=lambda c: (-totals[c], c)):
        counts.append(PlaceCount(country, None, totals[country]))
        named = sorted(((city, n) for city, n in cities[country] if city), key=lambda r: (-r[1], r[0]))
        counts.extend(PlaceCount(country, city, n) for city, n in named)
    return counts


def photos_in_places(engine: Engine, names: Iterable[str], columns: Sequence[str] = _NAME_COLUMNS) -> set[int]:
    """Photos whose place has any of `names` (folded) in any of `columns` (`place:` reads the locality,
    city, region and country; `country:` the country and its code)."""
    wanted = {fold(name) for name in names}
    conditions: list[ColumnElement[bool]] = []
    with engine.connect() as conn:
        for name in columns:
            column = s.places.c[name]
            values = [v for v in conn.execute(select(column).distinct()).scalars() if v and fold(v) in wanted]
            if values:
                conditions.append(column.in_(values))
        if not conditions:
            return set()
        return set(conn.execute(select(s.places.c.photo_id).where(or_(false(), *conditions))).scalars())


def photos_near(engine: Engine, lat: float, lon: float, radius_km: float) -> set[int]:
    """Photos whose GPS lies within `radius_km` of (lat, lon), great-circle: the latitude band that can
    hold them in SQL, then exact distances in numpy (longitude bands break at the date line and poles)."""
    band = math.degrees(radius_km / EARTH_RADIUS_KM)
    query = select(s.photos.c.id, s.photos.c.gps_lat, s.photos.c.gps_lon).where(
        s.photos.c.gps_lon.is_not(None), s.photos.c.gps_lat.between(lat - band, lat + band)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return set()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    lats, lons = np.array([r[1] for r in rows], dtype=float), np.array([r[2] for r in rows], dtype=float)
    return {int(i) for i in ids[distance_km(lats, lons, lat, lon) <= radius_km]}


def distance_km(lat1: np.ndarray, lon1: np.ndarray, lat2: float, lon2: float) -> np.ndarray:
    """Great-circle distances (haversine) from many points to one."""
    p1, p2 = np.radians(lat1), math.radians(lat2)
    dphi, dlam = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dlam / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))
