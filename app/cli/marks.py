"""`photosift favourite`, `photosift rate` and `photosift places`: the person's favourites and star
ratings (kept in the catalog, never in the photo files) and the places the photos were taken."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from photosift.app.cli.common import PHOTO_HELP, emit, open_library, photo_id
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings
from photosift.core.wording import plural


def add_marks_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    def add(name: str, handler: Any, help_text: str, aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(
            name, parents=[common], help=help_text, description=help_text, aliases=list(aliases)
        )
        parser.set_defaults(handler=handler)
        return parser

    favourite = add("favourite", cmd_favourite, "mark photos as favourites (is:favourite finds them)", ("favorite",))
    favourite.add_argument("photos", nargs="+", metavar="PHOTO", help=PHOTO_HELP)
    favourite.add_argument("--remove", action="store_true", help="unmark them instead")
    rate = add("rate", cmd_rate, "rate photos 0 to 5 stars (0 clears; rating:>=4 finds them)")
    rate.add_argument("stars", type=_stars, help="0 to 5")
    rate.add_argument("photos", nargs="+", metavar="PHOTO", help=PHOTO_HELP)
    add("places", cmd_places, "the countries and cities the photos were taken in, with counts")


def _stars(text: str) -> int:
    if text.strip() not in {str(n) for n in range(6)}:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rating; use a whole number from 0 to 5")
    return int(text)


def cmd_favourite(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        ids = [photo_id(library, text) for text in args.photos]
        changed = library.marks.set_favourite(ids, not args.remove)
        done = "Removed from favourites" if args.remove else "Marked as favourite"
        emit(args, {"photos": ids, "favourite": not args.remove}, lambda: print(f"{done}: {plural(changed, 'photo')}."))
        return EXIT_OK


def cmd_rate(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        ids = [photo_id(library, text) for text in args.photos]
        changed = library.marks.set_rating(ids, args.stars)
        rating = "unrated" if args.stars == 0 else f"rated {plural(args.stars, 'star')}"
        emit(args, {"photos": ids, "rating": args.stars}, lambda: print(f"{plural(changed, 'photo')} {rating}."))
        return EXIT_OK


def cmd_places(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    """Countries, most photos first, each with its cities indented below."""
    with open_library(args, paths, settings) as library:
        counts, unnamed = library.places.counts(), library.places.unnamed()
        lines = [f"{'  ' if c.city else ''}{c.city or c.country}  ({c.photos})" for c in counts]
        if unnamed:
            lines.append(f"{plural(unnamed, 'photo')} with GPS not named yet: `photosift index` names them.")
        empty = "No places yet: photos with GPS get theirs when they are indexed (`photosift index`)."
        emit(args, [asdict(c) for c in counts], lambda: print("\n".join(lines) or empty))
        return EXIT_OK
