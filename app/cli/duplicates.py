"""`photosift duplicates`: find near-duplicate photos, list the groups, keep a copy, export the list.

Photosift never deletes or moves a photo: the groups and marks live in the catalog, and `--export` writes
the list (refused inside a photo folder) for the person to act on.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosift.app.cli.common import PHOTO_HELP, emit, open_library, page_size, photo_id
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.core.duplicates.records import DuplicateGroup, DuplicateReport
    from photosift.core.duplicates.service import Duplicates
    from photosift.core.library import Library

HELP = "find near-duplicate photos (resized, recompressed, edited copies, bursts) and review them"


def add_duplicates_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("duplicates", parents=[common], help=HELP, description=HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(handler=cmd_list, export=None, limit=20, all=False)

    def action(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = actions.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    action("find", cmd_find, "search the whole library for near-duplicates (the person's marks are kept)")
    listing = action("list", cmd_list, "list the groups found, the copy to keep first (the default action)")
    listing.add_argument("--limit", type=page_size, default=20, help="groups to list (default 20)")
    listing.add_argument("--all", action="store_true", help="list every group")
    listing.add_argument("--export", metavar="FILE", help="write every group to a JSON file (not in a photo folder)")
    keep = action("keep", cmd_keep, "keep one photo of a group; the others are marked as duplicates")
    keep.add_argument("group", type=int, help="the group's number, as `photosift duplicates list` shows it")
    keep.add_argument("photo", help=PHOTO_HELP)
    for name, handler, verb in (("mark", cmd_mark, "mark"), ("unmark", cmd_unmark, "unmark")):
        marking = action(name, handler, f"{verb} photos as duplicates (your word, kept by later searches)")
        marking.add_argument("photos", nargs="+", metavar="PHOTO", help=PHOTO_HELP)


def _service(library: Library) -> Duplicates:
    from photosift.core.duplicates.service import Duplicates

    return Duplicates(library)


def cmd_find(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.app.progress import TqdmProgress

    with open_library(args, paths, settings) as library:
        with TqdmProgress(quiet=args.json) as progress:
            report = _service(library).find(progress)
        emit(args, report, lambda: print(find_summary(report)))
        return EXIT_OK


def find_summary(report: DuplicateReport) -> str:
    if not report.groups:
        return report.summary()
    return f"{report.summary()} Review them with `photosift duplicates list` (nothing is deleted or moved)."


def cmd_list(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        service = _service(library)
        if args.export:
            count = service.export(Path(args.export))
            emit(
                args,
                {"groups": count, "file": args.export},
                lambda: print(f"Wrote {plural(count, 'group')} to {args.export}."),
            )
            return EXIT_OK
        groups = service.groups()
        shown = groups if args.all else groups[: args.limit]
        emit(args, [asdict(g) | {"reviewed": g.reviewed} for g in shown], lambda: print(_listing(shown, len(groups))))
        return EXIT_OK


def _listing(groups: list[DuplicateGroup], total: int) -> str:
    if not total:
        return "No duplicate groups: run `photosift duplicates find` first (or there are none)."
    lines: list[str] = []
    for group in groups:
        state = "reviewed" if group.reviewed else "suggested"
        lines.append(f"Group {group.id} ({plural(len(group.members), 'photo')}, {state}):")
        for m in group.members:
            role = "duplicate" if m.duplicate else "keep"
            size = f"{m.width}x{m.height}" if m.width and m.height else "size unknown"
            lines.append(f"  {role:<9}  #{m.photo_id:<7} {m.similarity:5.3f}  {size:>11}  {m.path}")
    if total > len(groups):
        lines.append(f"... and {plural(total - len(groups), 'more group')}: add --all to list every one.")
    return "\n".join(lines)


def cmd_keep(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        kept = photo_id(library, args.photo)
        _service(library).keep(args.group, kept)
        message = f"Keeping #{kept} in group {args.group}; its other photos are marked as duplicates."
        emit(args, {"group": args.group, "keep": kept}, lambda: print(message))
        return EXIT_OK


def _mark(args: argparse.Namespace, paths: Paths, settings: Settings, duplicate: bool) -> int:
    with open_library(args, paths, settings) as library:
        count = _service(library).mark([photo_id(library, p) for p in args.photos], duplicate)
        what = "as duplicates" if duplicate else "as not duplicates"
        emit(
            args,
            {"marked": count},
            lambda: print(f"Marked {plural(count, 'photo')} {what} (photos in no group are left)."),
        )
        return EXIT_OK


def cmd_mark(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    return _mark(args, paths, settings, True)


def cmd_unmark(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    return _mark(args, paths, settings, False)
