"""The photos that place filters (`place:`, `city:`, `country:`, `near:`) and the person's marks (`is:favourite`,
`rating:`) let through, each filter as one set of ids for `core.search.ranking.allowed_photo_ids`."""

from __future__ import annotations

from sqlalchemy import Engine

from photosift.core.catalog.marks import favourite_photo_ids, rated_photo_ids
from photosift.core.catalog.place_rows import photos_in_places, photos_near
from photosift.core.search.records import SearchFilters


def place_and_mark_sets(engine: Engine, filters: SearchFilters) -> list[set[int]]:
    """One set per kind of filter given, all of which a photo must be in (repeats of one kind: any)."""
    sets: list[set[int]] = []
    if filters.places:
        sets.append(photos_in_places(engine, filters.places))
    if filters.cities:
        sets.append(photos_in_places(engine, filters.cities, ("city",)))
    if filters.countries:
        sets.append(photos_in_places(engine, filters.countries, ("country", "country_code")))
    if filters.near:
        sets.append(set().union(*(photos_near(engine, p.lat, p.lon, p.radius_km) for p in filters.near)))
    if filters.favourites:
        sets.append(favourite_photo_ids(engine))
    if filters.ratings:
        sets.append(rated_photo_ids(engine, [(b.comparison, b.stars) for b in filters.ratings]))
    return sets
