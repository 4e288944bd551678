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
    from photosift.core.search.explain import explain_hits

    found = explain_hits(library, text, [hit.photo_id for hit in page.hits], Path.cwd())
    data = {"offset": page.offset, "has_more": page.has_more, "hits": [_as_json(e) for e in found]}
    emit(args, data, lambda: _print(page, found))


def _as_json(why: Explanation) -> dict[str, object]:
    data = asdict(why)
    data["passes"] = why.passes
    return data


def _print(page: SearchPage, found: list[Explanation]) -> None:
    from photosift.core.search.explain import describe

    if not page.hits:
        print_page(page)
    for rank, why in enumerate(found, start=page.offset + 1):
        score = "" if why.score is None or not math.isfinite(why.score) else f"{why.score:6.3f}"
        print(f"{rank:>4}  {score:>6}  #{why.photo_id:<7} {why.path}")
        for line in describe(why):
            print(f"{'':14}{line}")
