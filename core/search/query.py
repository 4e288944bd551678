"""The combined-query language: weighted text and image terms added and subtracted, and filters.

    beach at dusk                      one text term
    "2:beach" + ./me.jpg - crowd       beach (weight 2), plus an image file, minus "crowd"
    #1234 - people                     a library photo (by id), minus people
    beach -tag:people after:2023       a text term and two filters (see core.query_filters)

A `+` or `-` is an operator when it starts the query or follows white space, so "black-and-white"
stays one phrase. A term is an image when it looks like a path (./, ../, /, ~/, a drive letter) or
ends with a photo extension; `#N` or `photo:N` names a library photo by id. A query of filters alone
is valid: it lists the photos that pass them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from photosift.core.errors import QueryError
from photosift.core.imageio import PHOTO_EXTENSIONS
from photosift.core.search.filters import PATH_START, FilterToken, build_filters, read_filter, starts_filter
from photosift.core.search.records import SearchFilters
from photosift.core.search.references import MAX_PHOTO_ID

TermKind = Literal["text", "image", "photo"]
_WEIGHT = re.compile(r"^(\d+(?:\.\d+)?|\.\d+):(?=\S)")
_PHOTO_ID = re.compile(r"^(?:#|photo:)(\d+)$")
MAX_WEIGHT = 1000.0  # far beyond any useful emphasis; larger weights overflow the sum into NaN scores


@dataclass(frozen=True)
class Term:
    """One term of a query; `weight` is signed (negative for subtracted terms)."""

    kind: TermKind
    value: str
    weight: float
    position: int  # 0-based character offset in the query, for error messages

    @property
    def photo_id(self) -> int:
        return int(self.value)


@dataclass(frozen=True)
class Query:
    """A parsed query: its terms in order (none for a query of filters only), its filters, and the
    text it came from."""

    text: str
    terms: tuple[Term, ...]
    filters: SearchFilters


def _is_operator(text: str, i: int) -> bool:
    return text[i] in "+-" and (i == 0 or text[i - 1].isspace())


def _split_weight(raw: str) -> tuple[float, str]:
    match = _WEIGHT.match(raw)
    return (float(match.group(1)), raw[match.end() :]) if match else (1.0, raw)


def _read_term(text: str, i: int) -> tuple[float, str, bool, int]:
    """Read one term starting at i; returns (weight, raw text, was quoted, index after it)."""
    weight, _ = _split_weight(text[i:])
    match = _WEIGHT.match(text[i:])
    j = i + match.end() if match else i
    if j < len(text) and text[j] == '"':
        end = text.find('"', j + 1)
        if end < 0:
            raise QueryError(f'Unclosed quote at position {j + 1}: add a closing ".', j)
        inner_weight, inner = _split_weight(text[j + 1 : end])
        return weight * inner_weight, inner.strip(), True, end + 1
    end = j
    while end < len(text) and not (end > j and _ends_term(text, end)):
        end += 1
    return weight, text[j:end].strip(), False, end


def _ends_term(text: str, i: int) -> bool:
    """Whether an unquoted term stops before i: at an operator, a quote, or a filter after a space."""
    return _is_operator(text, i) or text[i] == '"' or (text[i - 1].isspace() and starts_filter(text, i))


def _classify(raw: str, quoted: bool, base: Path) -> tuple[TermKind, str]:
    photo = _PHOTO_ID.match(raw)
    if photo:
        return "photo", photo.group(1)
    single_token = quoted or not any(c.isspace() for c in raw)
    looks_like_path = PATH_START.match(raw) or Path(raw).suffix.lower() in PHOTO_EXTENSIONS
    if single_token and looks_like_path:
        path = Path(raw).expanduser()
        return "image", str(path if path.is_absolute() else (base / path).resolve())
    return "text", raw


def parse_query(text: str, base: Path | None = None) -> Query:
    """Parse `text` into terms and filters. Relative image and folder paths resolve against `base`
    (default: the current folder).

    Raises:
        QueryError: for an empty query, an operator with no term, an unclosed quote, a missing image
            file, a query whose terms are all subtracted, or a filter with a missing or bad value.
            The message names the position (1-based); `QueryError.position` holds it 0-based.
    """
    if "\0" in text:
        at = text.index("\0")
        raise QueryError(f"The query holds a NUL byte (\\0) at position {at + 1}: no term or file name can.", at)
    base = base or Path.cwd()
    terms: list[Term] = []
    filters: list[FilterToken] = []
    i, sign, operator_at = 0, 1.0, -1
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif _is_operator(text, i):
            if operator_at >= 0:
                raise QueryError(f"Expected a term at position {i + 1}, found another '{text[i]}'.", i)
            sign, operator_at, i = (1.0 if text[i] == "+" else -1.0), i, i + 1
        elif found := read_filter(text, i, operator_at if sign < 0 else None):
            filters.append(found[0])
            i, sign, operator_at = found[1], 1.0, -1
        else:
            weight, raw, quoted, end = _read_term(text, i)
            terms.append(_make_term(raw, quoted, sign * weight, i, base))
            i, sign, operator_at = end, 1.0, -1
    if operator_at >= 0:
        raise QueryError(f"Expected a term after the '{text[operator_at]}' at position {operator_at + 1}.", operator_at)
    if not terms and not filters:
        raise QueryError("The query is empty: type what you are looking for.")
    if terms and all(t.weight <= 0 for t in terms):
        raise QueryError("The query only subtracts: add at least one term to look for.")
    return Query(text, tuple(terms), build_filters(filters, base))


def _make_term(raw: str, quoted: bool, weight: float, i: int, base: Path) -> Term:
    if not raw:
        raise QueryError(f"Expected a term at position {i + 1}.", i)
    if not abs(weight) <= MAX_WEIGHT:  # also catches an infinite weight
        raise QueryError(f"The weight at position {i + 1} is too large: use a number up to {MAX_WEIGHT:g}.", i)
    kind, value = _classify(raw, quoted, base)
    if kind == "image" and not Path(value).is_file():
        raise QueryError(f"No image file at {raw} (position {i + 1}).", i)
    if kind == "photo" and int(value) > MAX_PHOTO_ID:
        raise QueryError(f"There is no photo #{value} in the library (position {i + 1}).", i)
    return Term(kind, value, weight, i)
