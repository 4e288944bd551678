"""`photosift tag`: list, add, remove and tune tags; re-tag; review suggestions; export and import.

Tags live in the catalog; nothing here writes into a photo folder (exports refuse to).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosift.app.cli.common import PHOTO_HELP, emit, open_library, page_size, photo_id
from photosift.app.cli.quick import quick_tags
from photosift.core.errors import UserError
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings
from photosift.core.tags.records import in_group
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.core.library import Library
    from photosift.core.tags.records import ExchangeReport, PhotoTag, ReviewItem, TagInfo

PAIR_HELP = "PHOTO:TAG pairs, PHOTO being #id or a file's path, e.g. #12:beach"


def add_tags_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    tag = sub.add_parser("tag", parents=[common], help="automatic and custom tags: list, add, review, export")
    actions = tag.add_subparsers(dest="action", metavar="ACTION")
    tag.set_defaults(handler=cmd_list, group=None, counts=False)

    def action(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            name, parents=[common], help=help_text, description=help_text
        )
        parser.set_defaults(handler=handler)
        return parser

    listing = action("list", cmd_list, "list the tags by group")
    listing.add_argument("--group", help="only this group's tags")
    listing.add_argument("--counts", action="store_true", help="with how many photos carry each tag")
    add = action("add", cmd_add, "add a custom tag described by one or more prompts")
    add.add_argument("name")
    add.add_argument("--prompt", action="append", required=True, help='a phrase that describes it ("a red kayak")')
    add.add_argument("--example", action="append", default=[], metavar="PHOTO", help="a photo that shows it")
    add.add_argument("--group", help="the group to list it under (default: Custom)")
    action("remove", cmd_remove, "remove a custom tag and its labels").add_argument("name")
    sensitivity = action("sensitivity", cmd_sensitivity, "tag fewer (-2) or more (+2) photos automatically")
    sensitivity.add_argument("name")
    sensitivity.add_argument("level", type=int, help="-2, -1, 0 (the calibrated default), +1 or +2")
    action("retag", cmd_retag, "re-score every indexed photo against every tag (no image model work)")
    review = action("review", cmd_review, "list automatic tags waiting to be accepted or rejected, clearest first")
    review.add_argument("--tag", help="only this tag's suggestions")
    review.add_argument("--limit", type=page_size, default=30, help="suggestions to list (default 30)")
    for name, handler, verb in (("accept", cmd_accept, "accept"), ("reject", cmd_reject, "reject")):
        parser = action(name, handler, f"{verb} tags of photos (stored as your labels; re-tagging never changes them)")
        parser.add_argument("pairs", nargs="*", metavar="PHOTO:TAG", help=PAIR_HELP)
        parser.add_argument("--suggested", metavar="TAG", help=f"{verb} every current suggestion of this tag")
        parser.add_argument("--limit", type=page_size, default=1000, help="with --suggested: at most this many")
    show = action("show", cmd_show, "a photo's tags: labels, automatic tags and near misses")
    show.add_argument("photo", help=PHOTO_HELP)
    export = action("export", cmd_export, "write custom tags and labels to JSON, or tags as XMP sidecars")
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("file", nargs="?", help="the JSON file to write (outside your photo folders)")
    target.add_argument("--xmp", metavar="FOLDER", help="write one .xmp sidecar per photo under this folder")
    export.add_argument("--accepted-only", action="store_true", help="XMP: only the tags you accepted")
    action("import", cmd_import, "add tags and labels from a JSON export").add_argument("file")


# Commands ----------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    every = None if args.counts else quick_tags(paths)  # read-only, without SQLAlchemy or numpy, where it can
    if every is None:
        with open_library(args, paths, settings) as library:
            every = library.tags.tags()
            counts = library.tags.counts() if args.counts else {}
    else:
        counts = {}
    tags = in_group(every, args.group)
    if args.group and not tags:
        groups = sorted({t.group for t in every})
        raise UserError(f"There is no tag group {args.group!r}; the groups are: {', '.join(groups)}.")
    rows = [asdict(t) | ({"photos": counts[t.name]} if counts else {}) for t in tags]
    emit(args, rows, lambda: _print_tags(tags, counts))
    return EXIT_OK


def _print_tags(tags: list[TagInfo], counts: dict[str, int]) -> None:
    group = None
    for tag in tags:
        if tag.group != group:
            group = tag.group
            print(f"{group}:")
        count = f"  {plural(counts[tag.name], 'photo')}" if counts else ""
        tuned = f"  sensitivity {tag.sensitivity:+d}" if tag.sensitivity else ""
        custom = "" if tag.builtin else f"  (custom: {'; '.join(tag.prompts)})"
        print(f"  {tag.name}{count}{tuned}{custom}")


def cmd_add(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.app.progress import TqdmProgress

    with open_library(args, paths, settings) as library:
        examples = [photo_id(library, e) for e in args.example]
        with TqdmProgress(quiet=args.json) as progress:
            tag = library.tags.add(args.name, args.prompt, args.group, examples, progress)
        count = len(library.tagged_photo_ids(tag.name))
        message = f"Added the tag {tag.name!r}: {plural(count, 'photo')}."
        emit(args, asdict(tag) | {"photos": count}, lambda: print(message))
        return EXIT_OK


def cmd_remove(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        labels = library.tags.remove(args.name)
        emit(args, {"removed": args.name, "labels": labels}, lambda: print(f"Removed it and {labels} labels."))
        return EXIT_OK


def cmd_sensitivity(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        tag = library.tags.set_sensitivity(args.name, args.level)
        count = len(library.tagged_photo_ids(tag.name))
        message = f"{tag.name}: sensitivity {tag.sensitivity:+d}, {plural(count, 'photo')}."
        emit(args, asdict(tag) | {"photos": count}, lambda: print(message))
        return EXIT_OK


def cmd_retag(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.app.progress import TqdmProgress

    with open_library(args, paths, settings) as library, TqdmProgress(quiet=args.json) as progress:
        report = library.retag(progress)
        message = (
            f"Re-tagged {plural(report.photos, 'photo')} with {plural(report.tags, 'tag')} in {report.elapsed_s:.1f} s."
        )
        emit(args, report, lambda: print(message))
        return EXIT_OK


def cmd_review(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        items = library.tags.review_queue(args.limit, args.tag)
        emit(args, [asdict(i) for i in items], lambda: _print_review(items))
        return EXIT_OK


def _print_review(items: list[ReviewItem]) -> None:
    if not items:
        print("Nothing to review.")
    for item in items:
        print(f"  #{item.photo_id}:{item.tag:<24} {item.score:6.3f} ({item.confidence:4.1f})  {item.path}")
    if items:
        print("Accept or reject with `photosift tag accept #ID:TAG ...` or `photosift tag reject #ID:TAG ...`.")


def cmd_accept(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    return _label(args, paths, settings, accepted=True)


def cmd_reject(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    return _label(args, paths, settings, accepted=False)


def _label(args: argparse.Namespace, paths: Paths, settings: Settings, accepted: bool) -> int:
    if not args.pairs and not args.suggested:
        raise UserError("Name PHOTO:TAG pairs, or a tag with --suggested to take all its suggestions.")
    with open_library(args, paths, settings) as library:
        pairs = [_pair(library, p) for p in args.pairs]
        if args.suggested:
            pairs += [(i.photo_id, i.tag) for i in library.tags.review_queue(args.limit, args.suggested)]
        stored = library.tags.accept(pairs) if accepted else library.tags.reject(pairs)
        verb = "Accepted" if accepted else "Rejected"
        emit(args, {"accepted" if accepted else "rejected": stored}, lambda: print(f"{verb} {plural(stored, 'tag')}."))
        return EXIT_OK


def cmd_show(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        tags = library.tags.photo_tags(photo_id(library, args.photo))
        emit(args, [asdict(t) for t in tags], lambda: _print_photo_tags(tags))
        return EXIT_OK


def _print_photo_tags(tags: list[PhotoTag]) -> None:
    if not tags:
        print("No tags (is the photo indexed?).")
    for tag in tags:
        score = "" if tag.score is None else f"{tag.score:6.3f}"
        print(f"  {tag.state:<9} {tag.name:<24} {score}")


def cmd_export(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.core.catalog.catalog import absolute_path
    from photosift.core.tags.exchange import export_json, export_xmp

    with open_library(args, paths, settings) as library:
        if args.xmp:
            report = export_xmp(library.tags, Path(absolute_path(args.xmp)), args.accepted_only)
            message = f"Wrote {plural(report.files, 'XMP sidecar')} ({plural(report.labels, 'tag')}) under {args.xmp}."
        else:
            report = export_json(library.tags, Path(absolute_path(args.file)))
            message = f"Wrote {plural(report.tags, 'tag')} and {plural(report.labels, 'label')} to {args.file}."
        emit(args, report, lambda: print(message))
        return EXIT_OK


def cmd_import(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.core.tags.exchange import import_json

    with open_library(args, paths, settings) as library:
        report = import_json(library.tags, Path(args.file))
        emit(args, report, lambda: print(import_line(report)))
        return EXIT_OK


def import_line(report: ExchangeReport) -> str:
    """'Imported 3 tags and 1 label; 1 entry names a photo not in this library.' Labels and examples both
    name a photo: "entries" covers the two."""
    counts = f"{plural(report.tags, 'tag')} and {plural(report.labels, 'label')}"
    if not report.unmatched:
        return f"Imported {counts}."
    entries = "entry names a photo" if report.unmatched == 1 else "entries name photos"
    return f"Imported {counts}; {report.unmatched:,} {entries} not in this library."


def _pair(library: Library, text: str) -> tuple[int, str]:
    photo, sep, tag = text.rpartition(":")
    if not sep or not photo or not tag:
        raise UserError(f"{text!r} is not PHOTO:TAG, e.g. #12:beach.")
    return photo_id(library, photo), tag
