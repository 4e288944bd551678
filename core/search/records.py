"""What a search is asked and what it answers, as frozen records: filters, hits and pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SortOrder = Literal["relevance", "newest", "oldest"]
Comparison = Literal["=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class NearPoint:
    """`near:LAT,LON,RADIUS`: photos whose GPS lies within `radius_km` of the point (great-circle)."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class RatingBound:
    """`rating:>=4`: the photo's stars (0 when unrated) compare so with `stars`."""

    comparison: Comparison
    stars: int


@dataclass(frozen=True)
class SearchFilters:
    """Which photos a search may return, and in what order (the query language's filters, see
    core.query_filters, parse into one of these; callers may pass another, and both must hold).

    Fields combine with AND. Within a field: every `include_tags` tag must be on the photo and no
    `exclude_tags` tag may; a photo in any of `albums`, any of `folders`, taken with any of `cameras`
    passes. Photos without a capture date are dated by their file's modification time.

    Attributes:
        folders: an absolute path (that folder and below), or a folder name matched at any depth
            below a watched folder, the watched folder's own name included ("Trips", "Trips/2023").
        after: taken at or after this time.
        before: taken strictly before this time.
        cameras: substrings of the camera's "Make Model", ignoring ASCII case.
        sort: "relevance" (best first), or date ("newest"/"oldest" first);
            sorting by time keeps only the relevant hits (see `min_score`).
        min_score: keep only hits at least this similar to the query; None keeps every hit when
            sorting by relevance, and those close to the best hit when sorting by time.
        places: place names (city, district, region or country; case and accents ignored), any of them.
        cities: city names as the Places panel lists them (case and accents ignored), any of them.
        countries: country names or ISO codes, any of them.
        near: points with a radius, any of them; photos without GPS never match a place filter.
        favourites: only the person's favourites.
        ratings: star bounds that must all hold (unrated photos have 0 stars).
        texts: words the photo's recognised text must hold, each value all its words (core.ocr.store).
        duplicates: only photos marked as near-duplicates (core.duplicates).
        hide_duplicates: leave out photos marked as near-duplicates (-is:duplicate, the window's option).
    """

    folders: tuple[str, ...] = ()
    after: datetime | None = None
    before: datetime | None = None
    cameras: tuple[str, ...] = ()
    albums: tuple[str, ...] = ()
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    sort: SortOrder = "relevance"
    min_score: float | None = None
    places: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    near: tuple[NearPoint, ...] = ()
    favourites: bool = False
    ratings: tuple[RatingBound, ...] = ()
    texts: tuple[str, ...] = ()
    duplicates: bool = False
    hide_duplicates: bool = False

    @property
    def restricts_catalog(self) -> bool:
        """Whether a plain catalog query (folders, dates, cameras) narrows the photos."""
        return bool(self.folders or self.cameras) or self.after is not None or self.before is not None


@dataclass(frozen=True)
class SearchHit:
    """One result: the photo, the path to show and open, and the cosine similarity to the query
    (None when the query has filters only, so the photos are listed rather than ranked). `aspect` is
    the upright photo's width/height, None until indexing has read its size (the GUI's justified grid
    lays out pages before their thumbnails exist)."""

    photo_id: int
    path: str
    score: float | None
    aspect: float | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of results, best first."""

    hits: tuple[SearchHit, ...]
    offset: int
    limit: int
    has_more: bool
