"""Turning a parsed query into one vector: the weighted sum of its terms' embeddings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from photosift.core.errors import ImageError, QueryError
from photosift.core.search.query import Query, Term


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
        try:
            return encoders.image_file(term.value)
        except ImageError as exc:  # its message is the reason only: say which file
            raise QueryError(f"Cannot search with {term.value} (position {term.position + 1}): {exc}.") from exc
    vector = encoders.photo(term.photo_id)
    if vector is None:
        raise QueryError(
            f"Photo #{term.value} (position {term.position + 1}) is not in the library or not indexed yet."
        )
    return vector
