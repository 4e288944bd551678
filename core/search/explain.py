"""Why a photo matched a query: each term's similarity and its share of the score, each filter with whether
the photo passes it and what of the photo decided it, the photo's tags that the query names, its place and
marks, and the query's words found in its recognised text.

The score is the one ranking used: the cosine of the photo's embedding with the normalised weighted sum of
the term vectors, plus the recognised-text bonus where its text holds a term's words (core.ocr.blend). The
cosine splits exactly into one share per term, weight x similarity / |sum|, so the shares and the bonus add
up to the score and a subtracted term shows as the part it took away.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photosift.core.catalog.marks import PhotoMarks
from photosift.core.catalog.place_rows import PlaceName, distance_km
from photosift.core.catalog.records import PhotoInfo
from photosift.core.errors import QueryError
from photosift.core.ocr.blend import TEXT_BONUS
from photosift.core.ocr.service import BLEND_MIN_LETTERS
from photosift.core.ocr.store import query_words
from photosift.core.search.query import Query, Term, parse_query
from photosift.core.search.ranking import allowed_photo_ids
from photosift.core.search.records import NearPoint, RatingBound, SearchFilters
from photosift.core.search.vectors import TermEncoders, query_vector

if TYPE_CHECKING:
    from photosift.core.library import Library

# The query key each SearchFilters field comes from; fields added later show under their own name.
_KEY_OF_FIELD = {
    "folders": "folder",
    "after": "after",
    "before": "before",
    "cameras": "camera",
    "albums": "album",
    "include_tags": "tag",
    "exclude_tags": "-tag",
    "places": "place",
    "cities": "city",
    "countries": "country",
    "near": "near",
    "favourites": "is",
    "duplicates": "is",
    "hide_duplicates": "-is",
    "ratings": "rating",
    "texts": "text",
}
_NOT_FILTERS = {"sort", "min_score"}  # how results are ordered and cut, not which photos pass
# A tag "matches" a text term whose words hold the tag's words: "beach at dusk" names the tag "beach".
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class TermScore:
    """One term: its similarity to the photo and its share of the photo's score (shares add up to it)."""

    kind: str  # text | image | photo
    value: str
    weight: float
    similarity: float
    share: float


@dataclass(frozen=True)
class FilterCheck:
    """One filter of the query: whether the photo passes it, and what of the photo decided it."""

    key: str
    value: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Explanation:
    """Why `photo_id` matched (or did not match) `query`.

    Attributes:
        score: the score ranking used (similarity plus `text_bonus`); None for a query of filters only,
            or a photo not indexed with this model.
        passes: whether the photo passes every filter (a photo shown as a result always does).
        tags: the photo's tags (accepted or automatic) that a text term or a tag: filter names.
        recognised_words: the words of the query's text terms found in the photo's recognised text; None
            when its text was not read.
        text_bonus: what the recognised text added to the score (core.ocr.blend.TEXT_BONUS, or 0).
    """

    photo_id: int
    path: str
    query: str
    score: float | None
    terms: tuple[TermScore, ...]
    filters: tuple[FilterCheck, ...]
    tags: tuple[str, ...]
    place: PlaceName | None
    marks: PhotoMarks
    recognised_words: tuple[str, ...] | None = None
    text_bonus: float = 0.0

    @property
    def passes(self) -> bool:
        return all(check.passed for check in self.filters)


@dataclass(frozen=True)
class _Prepared:
    """What explaining any photo against one query needs, computed once for a page of results."""

    query: Query
    vectors: tuple[np.ndarray, ...]  # one per term, as the ranking summed them
    norm: float  # |weighted sum of the term vectors|
    checks: tuple[tuple[str, SearchFilters, set[int] | None], ...]  # each filter alone, and who passes it
    text_ids: frozenset[int]  # photos whose recognised text earns the bonus


def explain(library: Library, text: str, photo_id: int, base: Path | None = None) -> Explanation:
    """Explain how the photo `photo_id` scores against the query `text` and which of its filters it passes
    (relative image and folder paths in the query resolve against `base`, as in a search).

    Raises:
        QueryError: the query does not parse, or there is no such photo.
    """
    return explain_hits(library, text, [photo_id], base)[0]


def explain_hits(library: Library, text: str, photo_ids: Sequence[int], base: Path | None = None) -> list[Explanation]:
    """`explain` for several photos of one query (a page of results): the query's term vectors and each
    filter's photos are computed once."""
    prepared = _prepare(library, parse_query(text, base))
    return [_explain(library, prepared, photo_id) for photo_id in photo_ids]


def _prepare(library: Library, query: Query) -> _Prepared:
    encoders = library.term_encoders()
    texts = [t.value for t in query.terms if t.kind == "text"]
    encoded = dict(zip(texts, encoders.text(texts), strict=True)) if texts else {}
    cached = dataclasses.replace(encoders, text=lambda values: np.stack([encoded[v] for v in values]))
    vectors = tuple(_vector(term, cached) for term in query.terms)
    total = sum((term.weight * v for term, v in zip(query.terms, vectors, strict=True)), np.zeros(1, np.float32))
    norm = float(np.linalg.norm(total)) if vectors else 0.0
    if vectors and norm < 1e-6:
        query_vector(query, cached)  # raises the search's own error for terms that cancel out
    engine = library.catalog.engine
    checks = tuple(
        (f, alone, allowed_photo_ids(engine, library, (alone,))) for f, alone in single_filters(query.filters)
    )
    positive = [t.value for t in query.terms if t.kind == "text" and t.weight > 0]
    return _Prepared(query, vectors, norm, checks, frozenset(library.text.blended_ids(positive)))


def _explain(library: Library, prepared: _Prepared, photo_id: int) -> Explanation:
    info = library.photo(photo_id)
    if info is None or not info.paths:
        raise QueryError(f"There is no photo #{photo_id} in the library.")
    place = library.places.of_photo(photo_id)
    score, terms = _term_scores(library, prepared, photo_id)
    words, bonus = _text_match(library, prepared, photo_id)
    checks = (
        FilterCheck(
            _KEY_OF_FIELD.get(field, field),
            _written(field, _item(alone, field)),
            allowed is None or photo_id in allowed,
            _detail(library, info, place, field, _item(alone, field)),
        )
        for field, alone, allowed in prepared.checks
    )
    return Explanation(
        photo_id=photo_id,
        path=info.paths[0],
        query=prepared.query.text,
        score=None if score is None else score + bonus,
        terms=terms,
        filters=tuple(checks),
        tags=_named_tags(library, photo_id, prepared.query),
        place=place,
        marks=library.marks.of([photo_id])[photo_id],
        recognised_words=words,
        text_bonus=bonus if score is not None else 0.0,
    )


def _term_scores(library: Library, prepared: _Prepared, photo_id: int) -> tuple[float | None, tuple[TermScore, ...]]:
    """The photo's similarity to the query and each term's part of it (see the module's docstring)."""
    ids, stored = library.catalog.embeddings(library.model_id, [photo_id])
    if not prepared.vectors or not len(ids):
        return None, ()
    photo = np.asarray(stored[0], dtype=np.float32)
    pairs = list(zip(prepared.query.terms, prepared.vectors, strict=True))
    terms = tuple(
        TermScore(t.kind, t.value, t.weight, float(photo @ _unit(v)), t.weight * float(photo @ v) / prepared.norm)
        for t, v in pairs
    )
    return sum(t.share for t in terms), terms


def _vector(term: Term, encoders: TermEncoders) -> np.ndarray:
    if term.kind == "text":
        return np.asarray(encoders.text([term.value])[0], dtype=np.float32)
    if term.kind == "image":
        return np.asarray(encoders.image_file(term.value), dtype=np.float32)
    found = encoders.photo(term.photo_id)
    if found is None:
        raise QueryError(f"Photo #{term.value} is not in the library or not indexed yet.")
    return np.asarray(found, dtype=np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def single_filters(filters: SearchFilters) -> Iterator[tuple[str, SearchFilters]]:
    """Each filter in `filters` on its own, with its field name: tag:a tag:b are two, is:favourite one."""
    for field in dataclasses.fields(SearchFilters):
        value = getattr(filters, field.name)
        if field.name in _NOT_FILTERS or value in (None, False, ()):
            continue
        for item in value if isinstance(value, tuple) else (value,):
            yield field.name, dataclasses.replace(SearchFilters(), **{field.name: _as_field(value, item)})


def _as_field(value: Any, item: Any) -> Any:
    return (item,) if isinstance(value, tuple) else item


def _item(alone: SearchFilters, field: str) -> Any:
    """The one value a single filter holds (a tuple field holds it alone)."""
    value = getattr(alone, field)
    return value[0] if isinstance(value, tuple) else value


def _written(field: str, item: Any) -> str:
    """The filter's value as a person would write it."""
    if isinstance(item, NearPoint):
        return f"{item.lat:g},{item.lon:g},{item.radius_km:g}km"
    if isinstance(item, RatingBound):
        return f"{item.comparison}{item.stars}"
    if isinstance(item, datetime):
        return item.date().isoformat()
    if isinstance(item, bool):  # is: flags name their value, not True
        return {"favourites": "favourite", "duplicates": "duplicate", "hide_duplicates": "duplicate"}.get(field, field)
    return str(item)


def _detail(library: Library, info: PhotoInfo, place: PlaceName | None, field: str, item: Any) -> str:
    """What of the photo a filter looked at, in a few words."""
    if field in ("places", "cities", "countries"):
        return place_words(place)
    if field == "near":
        if info.gps_lat is None or info.gps_lon is None:
            return "no GPS"
        km = float(distance_km(np.array([info.gps_lat]), np.array([info.gps_lon]), item.lat, item.lon)[0])
        return f"{km:.1f} km away"
    if field == "ratings":
        return f"{library.marks.of([info.id])[info.id].rating} stars"
    if field == "favourites":
        return "favourite" if library.marks.of([info.id])[info.id].favourite else "not a favourite"
    if field in ("after", "before"):
        return f"taken {info.taken_at:%Y-%m-%d}" if info.taken_at else "dated by its file"
    if field == "cameras":
        return info.camera or "no camera recorded"
    if field == "folders":
        return str(Path(info.paths[0]).parent)
    return ""


def place_words(place: PlaceName | None) -> str:
    """'Intendente, Lisbon, Portugal' (each name once), or why there is no place."""
    if place is None:
        return "no place (no GPS, or nowhere named near)"
    names = dict.fromkeys(n for n in (place.locality, place.city, place.region, place.country) if n)
    return ", ".join(names)


def _named_tags(library: Library, photo_id: int, query: Query) -> tuple[str, ...]:
    """The photo's carried tags (accepted or automatic) that a tag: filter or a text term's words name."""
    words = [set(_WORD.findall(t.value.lower())) for t in query.terms if t.kind == "text" and t.weight > 0]
    named = {tag.lower() for tag in query.filters.include_tags}
    found = []
    for tag in library.tags.photo_tags(photo_id):
        tag_words = set(_WORD.findall(tag.name.lower()))
        if tag.state in ("accepted", "auto") and (tag.name in named or any(tag_words <= w for w in words)):
            found.append(tag.name)
    return tuple(found)


def _text_match(library: Library, prepared: _Prepared, photo_id: int) -> tuple[tuple[str, ...] | None, float]:
    """The query's words found in the photo's recognised text (None: not read), and the bonus ranking gave
    it: the one `Library.matches` gives, for a text term all of whose blending words the text holds."""
    read = library.text.text_of(photo_id)
    if read is None:
        return None, 0.0
    positive = [t.value for t in prepared.query.terms if t.kind == "text" and t.weight > 0]
    words = (w.lower() for value in positive for w in query_words(value) if len(w) >= BLEND_MIN_LETTERS)
    found = tuple(dict.fromkeys(w for w in words if w in read.lower()))
    return found, TEXT_BONUS if photo_id in prepared.text_ids else 0.0


def _one_plain_term(why: Explanation) -> bool:
    """Whether the query is one term of weight 1: what it adds to the score is its similarity."""
    return len(why.terms) == 1 and why.terms[0].weight == 1


def lone_term(why: Explanation) -> bool:
    """Whether the score is one term's similarity and nothing else: a plain search for one text or photo."""
    return _one_plain_term(why) and not why.text_bonus


def _term_line(term: TermScore, plain: bool) -> str:
    """A term's similarity, and what it adds to the score unless that is its similarity (`plain`)."""
    if plain:
        return f"{term.kind} {term.value!r}: similarity {term.similarity:.3f}"
    return f"{term.weight:+g} x {term.kind} {term.value!r}: similarity {term.similarity:.3f}, adds {term.share:+.3f}"


def describe(why: Explanation) -> list[str]:
    """The explanation as short lines for a person: terms, filters, tags, place, marks, recognised text."""
    lines = [_term_line(t, plain=_one_plain_term(why)) for t in why.terms]
    if why.text_bonus:
        lines.append(f"its text holds {', '.join(why.recognised_words or ())}: {why.text_bonus:+.3f}")
    for check in why.filters:
        verdict = "passes" if check.passed else "fails"
        lines.append(f"{check.key}:{check.value} {verdict}" + (f" ({check.detail})" if check.detail else ""))
    if why.tags:
        lines.append("tags named: " + ", ".join(why.tags))
    if why.place is not None:
        lines.append("taken in " + place_words(why.place))
    if why.marks.favourite or why.marks.rating:
        stars = f"{why.marks.rating} stars" if why.marks.rating else "unrated"
        lines.append(("favourite, " if why.marks.favourite else "") + stars)
    return lines
