"""Words the command line and the window share: a count with its noun, so neither says "1 photos"."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """'1 photo', '1,204 photos' (our nouns are all regular)."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"
