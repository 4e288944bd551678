"""`photosift albums`: list, create, fill, show, rename, delete and export albums.

Albums live in the catalog; nothing here writes into a photo folder (export refuses to).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosift.app.cli.common import PHOTO_HELP, add_paging, emit, open_library, photo_id, print_page
from photosift.app.cli.quick import quick_albums
from photosift.core.errors import UserError
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.core.albums.store import AlbumInfo
    from photosift.core.library import Library

SMART_HELP = "the search that fills the album, in the full query language, e.g. 'beach -tag:people after:2023'"


def add_albums_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    albums = sub.add_parser("albums", parents=[common], help="list, create and fill albums (manual or smart)")
    actions = albums.add_subparsers(dest="action", metavar="ACTION")
    albums.set_defaults(handler=cmd_list)

    def action(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            name, parents=[common], help=help_text, description=help_text
        )
        parser.set_defaults(handler=handler)
        return parser

    action("list", cmd_list, "list the albums with their photo counts")
    create = action("create", cmd_create, "create a manual album, or a smart album with --smart")
    create.add_argument("name")
    create.add_argument("--smart", metavar="QUERY", help=SMART_HELP)
    create.add_argument(
        "--threshold", type=float, help="smart albums: the least similarity a photo needs (default: near the best hit)"
    )
    for name, handler, verb in (("add", cmd_add, "put photos in"), ("remove", cmd_remove, "take photos out of")):
        parser = action(name, handler, f"{verb} a manual album")
        parser.add_argument("name")
        parser.add_argument("photos", nargs="+", metavar="PHOTO", help=PHOTO_HELP)
    show = action("show", cmd_show, "list an album's photos")
    show.add_argument("name")
    add_paging(show, 50, "photos")
    action("delete", cmd_delete, "delete an album (its photos are not touched)").add_argument("name")
    rename = action("rename", cmd_rename, "rename an album")
    rename.add_argument("name")
    rename.add_argument("new_name")
    action("export", cmd_export, "write every album (with its photos' paths) to a JSON file").add_argument("file")
    autotag = action("autotag", cmd_autotag, "suggest the tags an album's photos share; --accept labels them all")
    autotag.add_argument("name")
    autotag.add_argument("--top", type=int, default=10, help="how many suggestions (default 10)")
    autotag.add_argument("--accept", nargs="+", metavar="TAG", default=[], help="accept these tags for every photo")


def cmd_list(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    albums = quick_albums(paths)  # read-only, without SQLAlchemy or numpy, where no album is smart
    if albums is None:
        with open_library(args, paths, settings) as library:
            albums = library.albums.list_all()
    lines = [album_line(a) for a in albums] or ["No albums yet: create one with `photosift albums create NAME`."]
    emit(args, [asdict(a) for a in albums], lambda: print("\n".join(lines)))
    return EXIT_OK


def album_line(album: AlbumInfo) -> str:
    count = plural(album.photo_count, "photo") if album.photo_count is not None else f"search fails: {album.problem}"
    if album.kind == "manual":
        return f"{album.name}  ({count})"
    threshold = "" if album.threshold is None else f", similarity >= {album.threshold:g}"
    return f"{album.name}  ({count}; smart: {album.query}{threshold})"


def cmd_create(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    if args.threshold is not None and args.smart is None:
        raise UserError("--threshold applies to smart albums only: add --smart QUERY.")
    with open_library(args, paths, settings) as library:
        if args.smart is None:
            album = library.albums.create(args.name)
        else:
            album = library.albums.create_smart(args.name, args.smart, args.threshold)
        emit(args, album, lambda: print(f"Created {album_line(album)}"))
        return EXIT_OK


def _photo_ids(library: Library, photos: list[str]) -> list[int]:
    return [photo_id(library, photo) for photo in photos]


def cmd_add(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        added = library.albums.add(args.name, _photo_ids(library, args.photos))
        emit(args, {"added": added}, lambda: print(f"Added {plural(added, 'photo')} to {args.name}."))
        return EXIT_OK


def cmd_remove(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        removed = library.albums.remove(args.name, _photo_ids(library, args.photos))
        emit(args, {"removed": removed}, lambda: print(f"Took {plural(removed, 'photo')} out of {args.name}."))
        return EXIT_OK


def cmd_show(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        page = library.albums.page(args.name, args.offset, args.limit)
        emit(args, page, lambda: print_page(page))
        return EXIT_OK


def cmd_delete(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        library.albums.delete(args.name)
        emit(args, {"deleted": args.name}, lambda: print(f"Deleted the album {args.name} (photos untouched)."))
        return EXIT_OK


def cmd_rename(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        album = library.albums.rename(args.name, args.new_name)
        emit(args, album, lambda: print(f"Renamed {args.name} to {album.name}."))
        return EXIT_OK


def cmd_export(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        count = library.albums.export(Path(args.file))
        message = f"Wrote {plural(count, 'album')} to {args.file}."
        emit(args, {"albums": count, "file": args.file}, lambda: print(message))
        return EXIT_OK


def cmd_autotag(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    """Suggest an album's tags from its photos' tags; accepting one stores it as a user label on each photo."""
    with open_library(args, paths, settings) as library:
        ids = sorted(library.albums.photo_ids(args.name))
        if args.accept:
            for tag in args.accept:
                library.tags.tag(tag)  # an unknown name fails before anything is written
            stored = library.tags.accept([(photo_id, tag) for tag in args.accept for photo_id in ids])
            message = f"Accepted {', '.join(args.accept)} for {plural(len(ids), 'photo')}."
            emit(args, {"accepted": stored}, lambda: print(message))
            return EXIT_OK
        suggestions = library.suggest_tags(ids, args.top)
        lines = [f"{s.name}  {plural(s.photos, 'photo')} ({100 * s.share:.0f}%)" for s in suggestions]
        emit(args, suggestions, lambda: print("\n".join(lines) or f"No tags to suggest for {args.name} yet."))
        return EXIT_OK
