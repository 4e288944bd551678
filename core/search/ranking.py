"""From filters and a query vector to the photos a search returns, in order.

Filters become one set of allowed photo ids before ranking (folders, dates and cameras in one SQL
query; tags and albums from the library), so the vector index only ever ranks photos that pass.
A ranked search takes the nearest N; sorting by capture time, or a smart album, first keeps the hits
that are relevant enough (an absolute `min_score`, or within RELEVANCE_MARGIN of the best hit) and
then orders those.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import numpy as np
from sqlalchemy import Engine

from photosift.core.catalog.photo_filters import capture_order, matching_photo_ids
from photosift.core.duplicates.store import duplicate_photo_ids
from photosift.core.ocr.store import photos_with_words, query_words
from photosift.core.search.personal_filters import place_and_mark_sets
from photosift.core.search.records import SearchFilters
from photosift.core.vindex import VectorIndex

# How far below the best hit's cosine similarity a hit may score and still count as relevant, when
# sorting by time or filling a smart album without a threshold of its own. A margin rather than a
# fraction of the best score, because CLIP-family models add a model-specific offset to every score
# (unrelated photos sit near 0.2 for ViT-B/32 and near 0.0 for SigLIP) while the gap between the best
# hits and the related ones stays about 0.03-0.06 in both.
RELEVANCE_MARGIN = 0.05
# Hits fetched in the first round when cutting at a threshold; each further round fetches 4x more,
# so a cut costs one index search in the common case and a few for very large result sets. 1,024, not
# 256: at a million photos every sort:date search of bench_scale needed a second round, and a search's
# cost is the lists it probes, hardly the number of hits it keeps (33 ms a round, loaded).
FIRST_POOL = 1024

Match = tuple[int, float | None]  # a photo id and its similarity (None when listed, not ranked)


class FilterSources(Protocol):
    """What resolving tag and album filters needs from the library."""

    def tagged_photo_ids(self, name: str) -> set[int]: ...

    def album_photo_ids(self, name: str) -> set[int]: ...


def allowed_photo_ids(engine: Engine, sources: FilterSources, filters: Sequence[SearchFilters]) -> set[int] | None:
    """The photos that pass every one of `filters`, or None when none of them restricts anything.

    Raises:
        QueryError: a tag or album named in a filter does not exist (from `sources`).
    """
    required: list[set[int]] = []
    excluded: set[int] = set()
    for f in filters:
        if f.restricts_catalog:
            required.append(matching_photo_ids(engine, f.folders, f.after, f.before, f.cameras))
        required.extend(sources.tagged_photo_ids(tag) for tag in f.include_tags)
        if f.albums:
            required.append(set().union(*(sources.album_photo_ids(album) for album in f.albums)))
        required.extend(place_and_mark_sets(engine, f))
        if f.duplicates:
            required.append(duplicate_photo_ids(engine))
        if f.hide_duplicates:
            excluded |= duplicate_photo_ids(engine)
        required.extend(photos_with_words(engine, query_words(value)) for value in f.texts)
        for tag in f.exclude_tags:
            excluded |= sources.tagged_photo_ids(tag)
    if not required and not excluded:
        return None
    allowed = set.intersection(*required) if required else matching_photo_ids(engine)
    return allowed - excluded


def as_id_array(allowed: Collection[int] | None) -> np.ndarray | None:
    if allowed is None or isinstance(allowed, np.ndarray):  # FilterIndex.allowed's sorted ids pass through
        return allowed
    return np.fromiter(allowed, dtype=np.int64, count=len(allowed))


def nearest(
    index: VectorIndex, vector: np.ndarray, allowed: Collection[int] | None, wanted: int, exclude: Collection[int]
) -> list[Match]:
    """The `wanted` allowed photos most similar to `vector`, best first, leaving out `exclude`."""
    (result,) = index.search(vector, wanted + len(exclude), allowed_ids=as_id_array(allowed))
    return [(int(i), float(s)) for i, s in zip(result.ids, result.scores, strict=True) if int(i) not in exclude]


def relevant(
    index: VectorIndex,
    vector: np.ndarray,
    allowed: Collection[int] | None,
    min_score: float | None,
    exclude: Collection[int] = (),
) -> list[Match]:
    """Every allowed photo scoring at least `min_score` (None: the best hit's score minus
    RELEVANCE_MARGIN), best first, leaving out `exclude`."""
    ids = as_id_array(allowed)
    pool = FIRST_POOL
    while True:
        (result,) = index.search(vector, pool + len(exclude), allowed_ids=ids)
        found = [(int(i), float(s)) for i, s in zip(result.ids, result.scores, strict=True) if int(i) not in exclude]
        if not found:
            return []
        threshold = min_score if min_score is not None else found[0][1] - RELEVANCE_MARGIN
        exhausted = len(result.ids) < pool + len(exclude)
        if exhausted or found[-1][1] < threshold:
            return [(i, s) for i, s in found if s >= threshold]
        pool *= 4


def by_capture_time(engine: Engine, matches: Sequence[Match], newest_first: bool) -> list[Match]:
    """`matches` reordered by date (capture time, else the file's), keeping their scores."""
    scores = dict(matches)
    return [(i, scores[i]) for i in capture_order(engine, scores.keys(), newest_first)]
