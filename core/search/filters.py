"""Filters in the query language: restrictions and an order written among the weighted terms.

    beach tag:family -tag:people after:2023-06 before:2024
    album:"Summer 2023" folder:Trips camera:"Pixel 7" sort:date

A filter is KEY:VALUE with one of the keys below (in any letter case), where a term could start: at
the start of the query, after white space or after a + or - operator. Any other word with a colon
(`foo:bar`, `photo:12`, `2:beach`) keeps its old meaning, and a filter in quotes is text: "before:sunrise".
The value runs to the next white space, or is "quoted" to hold spaces. A known key with no value or a
bad value is an error naming the position.

    tag:NAME      the photo carries the tag; -tag:NAME: it does not (only tags and is:duplicate can be excluded)
    album:NAME    the photo is in the album, manual or smart (names ignore case)
    folder:NAME   a folder of that name holds the photo, at any depth below a watched folder or the
                  watched folder itself; ASCII case ignored; NAME may span levels: folder:Trips/2023
    folder:PATH   a path (/, ./, ../, ~/ or a drive letter first): that folder and everything below
    camera:TEXT   the camera's "Make Model" contains TEXT, ignoring ASCII case
    after:DATE    taken at or after the start of DATE (YYYY, YYYY-MM or YYYY-MM-DD)
    before:DATE   taken before the start of DATE, so after:2023 before:2024 is the year 2023
    sort:date     newest first (also sort:newest); sort:oldest; sort:relevance (the default)
    place:NAME    taken in a place of that name: district, city, region or country (case, accents ignored)
    country:NAME  taken in that country, by name or ISO code (country:Portugal, country:PT)
    city:NAME     taken in that city exactly as the Places panel lists it (place: also matches districts
                  and regions: place:Lisbon finds Sintra, in the region of Lisbon; city:Lisbon does not)
    near:LAT,LON,RADIUS   taken within RADIUS (5km, 800m; a bare number is km) of a point
    is:favourite  one of the person's favourites (also is:favorite)
    is:duplicate  marked as a near-duplicate of a copy kept (photosift duplicates); -is:duplicate: not
    rating:N      rated N stars (0-5; unrated is 0); also rating:>=N, >N, <=N, <N, =N
    text:WORDS    the text read from the photo (OCR) holds every word, ignoring ASCII case, also
                  inside a longer run: OCR often joins words, so text:"invoice 2023" finds INVOICE2023

Repeated filters: every tag: must hold and no -tag: may; several album:, folder: or camera: filters
let a photo through if any matches, and so do several place:, city:, country: or near: filters; every
rating: and every text: must hold (rating:>=2 rating:<=4); repeated after:/before: keep the tightest;
the last sort: wins.
Photos without GPS match no place:, city:, country: or near: filter.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from photosift.core.errors import QueryError
from photosift.core.ocr.store import query_words
from photosift.core.search.records import Comparison, NearPoint, RatingBound, SearchFilters, SortOrder

KEYS = (
    "tag",
    "album",
    "folder",
    "after",
    "before",
    "camera",
    "sort",
    "place",
    "city",
    "country",
    "near",
    "is",
    "rating",
    "text",
)
_KEY = re.compile(rf"({'|'.join(KEYS)}):", re.IGNORECASE)
PATH_START = re.compile(r"^(?:\.{1,2}[/\\]|[/\\]|~[/\\]|[A-Za-z]:[/\\])")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_SORTS: dict[str, SortOrder] = {"date": "newest", "newest": "newest", "oldest": "oldest", "relevance": "relevance"}
_EXPECTED = {
    "tag": "a tag name",
    "album": "an album name",
    "folder": "a folder name or path",
    "after": "a date (YYYY, YYYY-MM or YYYY-MM-DD)",
    "before": "a date (YYYY, YYYY-MM or YYYY-MM-DD)",
    "camera": "a camera name",
    "sort": "date, oldest or relevance",
    "place": "a place name",
    "city": "a city name",
    "country": "a country name or code",
    "near": "a point and radius (LAT,LON,RADIUS as in 38.72,-9.14,5km)",
    "is": "favourite or duplicate",
    "rating": "stars from 0 to 5 (as in 4, >=4, <3)",
    "text": "words to find in the photo's text",
}
# The values of is:, each naming the SearchFilters flag it sets.
_IS_VALUES = {"favourite": "favourites", "favorite": "favourites", "duplicate": "duplicates"}
_NEAR = re.compile(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(km|m)?", re.IGNORECASE)
_RATING = re.compile(r"(>=|<=|=|<|>)?([0-5])")


@dataclass(frozen=True)
class FilterToken:
    """One filter as written: its key (lower case), raw value, and where they are (0-based)."""

    key: str
    value: str
    position: int  # of the value, where a bad value is reported
    negated_at: int | None = None  # position of a '-' in front of it


def starts_filter(text: str, i: int) -> bool:
    return _KEY.match(text, i) is not None


def read_filter(text: str, i: int, negated_at: int | None) -> tuple[FilterToken, int] | None:
    """The filter starting at `i` and the index after it, or None when no filter starts there."""
    match = _KEY.match(text, i)
    if match is None:
        return None
    key, j = match.group(1).lower(), match.end()
    if j < len(text) and text[j] == '"':
        close = text.find('"', j + 1)
        if close < 0:
            raise QueryError(f'Unclosed quote at position {j + 1}: add a closing ".', j)
        value, end = text[j + 1 : close].strip(), close + 1
    else:
        end = j
        while end < len(text) and not text[end].isspace():
            end += 1
        value = text[j:end]
    if not value:
        raise QueryError(f"Expected {_EXPECTED[key]} after '{key}:' at position {j + 1}.", j)
    return FilterToken(key, value, j, negated_at), end


def build_filters(tokens: Sequence[FilterToken], base: Path) -> SearchFilters:
    """Check each filter's value and gather them into one SearchFilters (see the module's rules)."""
    lists: dict[str, list[str]] = {
        key: [] for key in ("tag", "-tag", "album", "folder", "camera", "place", "city", "country", "text")
    }
    near: list[NearPoint] = []
    ratings: list[RatingBound] = []
    flags: set[str] = set()
    hidden: set[str] = set()  # the -is: values
    after: datetime | None = None
    before: datetime | None = None
    sort: SortOrder = "relevance"
    for token in tokens:
        if token.negated_at is not None and not _excludable(token):
            raise QueryError(
                f"Only tag: and is:duplicate filters can be excluded with '-' (position {token.negated_at + 1}).",
                token.negated_at,
            )
        if token.key == "after":
            after = _date(token) if after is None else max(after, _date(token))
        elif token.key == "before":
            before = _date(token) if before is None else min(before, _date(token))
        elif token.key == "sort":
            sort = _sort(token)
        elif token.key == "folder":
            lists["folder"].append(_folder(token, base))
        elif token.key == "near":
            near.append(_near(token))
        elif token.key == "rating":
            ratings.append(_rating(token))
        elif token.key == "text" and not query_words(token.value):
            raise _bad_value(token)
        elif token.key == "is":
            (hidden if token.negated_at is not None else flags).add(_is_value(token))
        else:
            lists[("-" if token.negated_at is not None else "") + token.key].append(token.value)
    unique = {key: tuple(dict.fromkeys(values)) for key, values in lists.items()}
    return SearchFilters(
        folders=unique["folder"],
        after=after,
        before=before,
        cameras=unique["camera"],
        albums=unique["album"],
        include_tags=unique["tag"],
        exclude_tags=unique["-tag"],
        sort=sort,
        places=unique["place"],
        cities=unique["city"],
        countries=unique["country"],
        near=tuple(dict.fromkeys(near)),
        favourites="favourites" in flags,
        duplicates="duplicates" in flags,
        hide_duplicates="duplicates" in hidden,
        ratings=tuple(dict.fromkeys(ratings)),
        texts=unique["text"],
    )


def _bad_value(token: FilterToken) -> QueryError:
    return QueryError(
        f"Expected {_EXPECTED[token.key]} after '{token.key}:' at position {token.position + 1}, "
        f"found '{token.value}'.",
        token.position,
    )


# The catalog compares file times as 64-bit nanoseconds since 1970, which reach from 1677 to 2262. A date
# outside that span means "before every photo" or "after every photo" alike, so it is brought inside.
EARLIEST_DATE, LATEST_DATE = datetime(1678, 1, 1), datetime(2262, 1, 1)


def within_catalog_span(when: datetime) -> datetime:
    """`when`, moved inside the span of dates the catalog can compare (see EARLIEST_DATE)."""
    return min(max(when, EARLIEST_DATE), LATEST_DATE)


def _date(token: FilterToken) -> datetime:
    """The start of the year, month or day written (naive local time, as the catalog stores capture times)."""
    match = _DATE.fullmatch(token.value)
    try:
        if match:
            day = datetime(int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1))
            return within_catalog_span(day)
    except ValueError:  # month 13, February 30, year 0
        pass
    raise _bad_value(token)


def _sort(token: FilterToken) -> SortOrder:
    order = _SORTS.get(token.value.lower())
    if order is None:
        raise _bad_value(token)
    return order


def _near(token: FilterToken) -> NearPoint:
    match = _NEAR.fullmatch(token.value.replace(" ", ""))
    if match is None:
        raise _bad_value(token)
    lat, lon, radius = (float(match.group(i)) for i in (1, 2, 3))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius <= 0:
        raise _bad_value(token)
    return NearPoint(lat, lon, radius / 1000 if (match.group(4) or "km").lower() == "m" else radius)


def _rating(token: FilterToken) -> RatingBound:
    match = _RATING.fullmatch(token.value)
    if match is None:
        raise _bad_value(token)
    return RatingBound(cast(Comparison, match.group(1) or "="), int(match.group(2)))


def _excludable(token: FilterToken) -> bool:
    """Whether a '-' may stand before the filter: -tag:NAME, and -is:duplicate (the marked copies left out)."""
    return token.key == "tag" or (token.key == "is" and _IS_VALUES.get(token.value.lower()) == "duplicates")


def _is_value(token: FilterToken) -> str:
    flag = _IS_VALUES.get(token.value.lower())
    if flag is None:
        raise _bad_value(token)
    return flag


def _folder(token: FilterToken, base: Path) -> str:
    """An absolute path for a path-like value (relative ones resolve against `base`, links kept as
    the catalog keeps them), else the folder name with its levels joined by the platform's separator
    (a value of separators only is path-like, so a name always keeps at least one level)."""
    if PATH_START.match(token.value):
        return os.path.abspath(base / Path(token.value).expanduser())
    return os.sep.join(part for part in re.split(r"[/\\]", token.value) if part)
