"""`photosift search --explain`: each result with why it matched (core.search.explain), as text or JSON."""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from photosift.app.cli.common import emit, print_page

if TYPE_CHECKING:
    from photosift.core.library import Library
    from photosift.core.search.explain import Explanation
    from photosift.core.search.records import SearchPage


def emit_explained(args: argparse.Namespace, library: Library, text: str, page: SearchPage) -> None:
    """The page, each hit followed by its explanation (one list of explanations with --json)."""
    from photosift.core.search.explain import explain

    text_of = getattr(getattr(library, "text", None), "text_of", None)  # the OCR service, where it exists
    found = [explain(library, text, hit.photo_id, Path.cwd(), text_of) for hit in page.hits]
    data = {"offset": page.offset, "has_more": page.has_more, "hits": [_as_json(e) for e in found]}
    emit(args, data, lambda: _print(page, found))


def _as_json(why: Explanation) -> dict[str, object]:
    data = asdict(why)
    data["passes"] = why.passes
    return data


def _print(page: SearchPage, found: list[Explanation]) -> None:
    if not page.hits:
        print_page(page)
    for rank, why in enumerate(found, start=page.offset + 1):
        score = "" if why.score is None or not math.isfinite(why.score) else f"{why.score:6.3f}"
        print(f"{rank:>4}  {score:>6}  #{why.photo_id:<7} {why.path}")
        for line in explanation_lines(why):
            print(f"{'':14}{line}")


def explanation_lines(why: Explanation) -> list[str]:
    """The explanation as short lines: terms, filters, tags, place, marks, recognised words."""
    lines = [
        f"{t.weight:+g} x {t.kind} {t.value!r}: similarity {t.similarity:.3f}, share {t.share:+.3f}" for t in why.terms
    ]
    for check in why.filters:
        verdict = "passes" if check.passed else "fails"
        lines.append(f"{check.key}:{check.value} {verdict}" + (f" ({check.detail})" if check.detail else ""))
    if why.tags:
        lines.append("tags named: " + ", ".join(why.tags))
    if why.place is not None:
        place = dict.fromkeys(n for n in (why.place.locality, why.place.city, why.place.country) if n)
        lines.append("taken in " + ", ".join(place))
    if why.marks.favourite or why.marks.rating:
        stars = f"{why.marks.rating} stars" if why.marks.rating else "unrated"
        lines.append(("favourite, " if why.marks.favourite else "") + stars)
    if why.recognised_words:
        lines.append("words in its text: " + ", ".join(why.recognised_words))
    return lines
