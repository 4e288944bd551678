"""Counts in sentences, for every message the library, the command line and the window write: a count with
its noun, so none of them says "1 photos"."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """'1 photo', '1,204 photos', '2 classes' (our nouns are all regular)."""
    if count == 1:
        return f"{count:,} {noun}"
    return f"{count:,} {noun}{'es' if noun.endswith(('s', 'x', 'ch', 'sh')) else 's'}"
