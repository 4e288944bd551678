"""Turning a parsed query into one vector, and search results into frozen records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import numpy as np

from core.errors import QueryError

if TYPE_CHECKING:  # core.query builds SearchFilters from a query's filters, so it imports this module
    from core.query import Query, Term

SortOrder = Literal["relevance", "newest", "oldest"]


@dataclass(frozen=True)
class SearchFilters:
    """Which photos a search may return, and in what order (the query language's filters, see
    core.query_filters, parse into one of these; callers may pass another, and both must hold).

    Fields combine with AND. Within a field: every `include_tags` tag must be on the photo and no
    `exclude_tags` tag may; a photo in any of `albums`, any of `folders`, taken with any of `cameras`
    passes. Photos without a capture date fail `after` and `before`.

    Attributes:
        folders: an absolute path (that folder and below), or a folder name matched at any depth
            below a watched folder, the watched folder's own name included ("Trips", "Trips/2023").
        after: taken at or after this time.
        before: taken strictly before this time.
        cameras: substrings of the camera's "Make Model", ignoring ASCII case.
        sort: "relevance" (best first), or capture time ("newest"/"oldest" first, undated last);
            sorting by time keeps only the relevant hits (see `min_score`).
        min_score: keep only hits at least this similar to the query; None keeps every hit when
            sorting by relevance, and those close to the best hit when sorting by time.
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

    @property
    def restricts_catalog(self) -> bool:
        """Whether a plain catalog query (folders, dates, cameras) narrows the photos."""
        return bool(self.folders or self.cameras) or self.after is not None or self.before is not None


@dataclass(frozen=True)
class SearchHit:
    """One result: the photo, the path to show and open, and the cosine similarity to the query
    (None when the query has filters only, so the photos are listed rather than ranked)."""

    photo_id: int
    path: str
    score: float | None


@dataclass(frozen=True)
class SearchPage:
    """One page of results, best first."""

    hits: tuple[SearchHit, ...]
    offset: int
    limit: int
    has_more: bool


@dataclass(frozen=True)
class TermEncoders:
    """How each kind of term becomes a vector: text through the text tower, an image file through
    the image tower, a library photo from its stored embedding (no model work)."""

    text: Callable[[list[str]], np.ndarray]
    image_file: Callable[[str], np.ndarray]
    photo: Callable[[int], np.ndarray | None]


def query_vector(query: Query, encoders: TermEncoders) -> np.ndarray:
    """The L2-normalised weighted sum of the query's term vectors (texts encoded in one batch)."""
    texts = [t for t in query.terms if t.kind == "text"]
    text_vectors = (
        dict(zip((t.position for t in texts), encoders.text([t.value for t in texts]), strict=True)) if texts else {}
    )
    total: np.ndarray | None = None
    for term in query.terms:
        vector = text_vectors[term.position] if term.kind == "text" else _non_text_vector(term, encoders)
        contribution = term.weight * np.asarray(vector, dtype=np.float32)
        total = contribution if total is None else total + contribution
    assert total is not None  # parse_query guarantees at least one term
    norm = float(np.linalg.norm(total))
    if norm < 1e-6:
        raise QueryError("The terms of this query cancel each other out: change a weight or a term.")
    return total / norm


def _non_text_vector(term: Term, encoders: TermEncoders) -> np.ndarray:
    if term.kind == "image":
        return encoders.image_file(term.value)
    vector = encoders.photo(term.photo_id)
    if vector is None:
        raise QueryError(
            f"Photo #{term.value} (position {term.position + 1}) is not in the library or not indexed yet."
        )
    return vector
