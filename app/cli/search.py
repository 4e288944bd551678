"""`photosift search` and `photosift similar`: ranked pages of photos, as text or --json."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from photosift.app.cli.common import emit, open_library, print_page, refuse_nul, search_filters, unindexed_model_hint
from photosift.app.cli.explain import emit_explained
from photosift.core.errors import ImageError, UserError
from photosift.core.protocol import EXIT_OK
from photosift.core.search.references import parse_reference
from photosift.core.settings import Paths, Settings

if TYPE_CHECKING:
    from photosift.core.library import Library

FILTERS_HELP = (
    "Filters may be mixed with the terms: tag:NAME -tag:NAME album:NAME folder:NAME-or-PATH camera:TEXT "
    "after:YYYY[-MM[-DD]] before:YYYY[-MM[-DD]] sort:date|oldest|relevance place:NAME country:NAME near:LAT,LON,5km "
    "is:favourite is:duplicate -is:duplicate rating:>=4 text:WORDS (the text in the photo). "
    "Quote values with spaces "
    '(album:"Summer 2023") and the whole query in a shell. Filters alone list photos, newest first. '
    "A photo whose recognised text holds all the words of a text term ranks 0.1 higher (README: Text in photos)."
)


def cmd_search(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    text = refuse_nul(" ".join(args.query), "search")
    with open_library(args, paths, settings) as library:
        _check_indexed(library)
        page = library.search(text, search_filters(args), args.offset, args.limit)
        if args.explain:
            emit_explained(args, library, text, page)
        else:
            emit(args, page, lambda: print_page(page))
        return EXIT_OK


def cmd_similar(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    """Photos like a library photo (`#12`, `12` or its path) or like any image file."""
    target = parse_reference(args.photo)
    with open_library(args, paths, settings) as library:
        if isinstance(target, int) and library.photo(target) is None:
            raise UserError(f"There is no photo #{target} in the library.")
        if isinstance(target, Path) and not target.is_file() and not _in_library(library, target):
            raise UserError(
                f"Cannot find photos like {target}: there is no such file, nor such a photo in the library."
            )
        _check_indexed(library)
        try:
            page = library.similar(target, search_filters(args), args.offset, args.limit)
        except ImageError as exc:  # its message is the reason only: say which file
            raise UserError(f"Cannot find photos like {target}: {exc}.") from exc
        emit(args, page, lambda: print_page(page))
        return EXIT_OK


def _check_indexed(library: Library) -> None:
    """Refuse a search the library cannot answer: it has no photos yet (said before the model loads, which
    on a first run would mean downloading it for nothing), or none embedded by its model but by another."""
    if not library.has_photos():
        raise UserError("The library has no photos yet: add a folder with `photosift index FOLDER`, then search.")
    hint = unindexed_model_hint(library)
    if hint:
        raise UserError(hint)


def _in_library(library: Library, path: Path) -> bool:
    return library.photo_id_for_path(path) is not None
