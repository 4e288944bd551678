"""The `photosift` command line: index, search, similar, status, models, albums, watch.

Errors read as sentences on stderr with meaningful exit codes, never tracebacks (except for bugs,
which are reported as such with the traceback logged).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from photosift.app.errorlog import log_exception
from photosift.app.main import build_library
from photosift.app.progress import TqdmProgress
from photosift.core.catalog.catalog import absolute_path
from photosift.core.errors import Cancelled, EnvironmentFault, UserError
from photosift.core.library import Library
from photosift.core.scanner import ScanReport
from photosift.core.search.records import SearchFilters, SearchPage
from photosift.core.settings import Paths, Settings, load_settings

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

Handler = Callable[[argparse.Namespace, Paths, Settings], int]
FILTERS_HELP = (
    "Filters may be mixed with the terms: tag:NAME -tag:NAME album:NAME folder:NAME-or-PATH camera:TEXT "
    "after:YYYY[-MM[-DD]] before:YYYY[-MM[-DD]] sort:date|oldest|relevance. Quote values with spaces "
    '(album:"Summer 2023") and the whole query in a shell. Filters alone list photos, newest first.'
)


def _emit(args: argparse.Namespace, value: Any, human: Callable[[], None]) -> None:
    if args.json:
        data = asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
        print(json.dumps(data, default=str, indent=2, ensure_ascii=False))
    else:
        human()


def _date(text: str) -> datetime:
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD")


def _open(args: argparse.Namespace, paths: Paths, settings: Settings) -> Library:
    if getattr(args, "device", None):
        settings = settings.with_changes(device=args.device)
    return build_library(paths, settings, args.model)


# Commands ----------------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with _open(args, paths, settings) as library:
        for path in args.paths:
            library.add_folder(Path(path))
        if not library.folders():
            raise UserError("There are no photo folders yet: add one with `photosift index PATH`.")
        with TqdmProgress(quiet=args.json) as progress:
            scans = library.scan([Path(p) for p in args.paths] or None, progress)
            report = library.index(progress)
        summary = {"folders": [_scan_summary(s) for s in scans], "index": asdict(report)}
        _emit(args, summary, lambda: _print_index(scans, report))
        return EXIT_OK


def _scan_summary(scan: ScanReport) -> dict[str, Any]:
    """A scan report for --json: counts, not the (possibly many thousand) missing file records."""
    fields = ("folder", "offline", "added", "changed", "moved", "unchanged")
    return {name: getattr(scan, name) for name in fields} | {"missing": len(scan.missing), "errors": list(scan.errors)}


def _print_index(scans: list[Any], report: Any) -> None:
    for s in scans:
        if s.offline:
            print(f"{s.folder}: offline (not found); its photos are kept until it is back or removed")
            continue
        counts = f"{s.added} new, {s.changed} changed, {s.moved} moved, {len(s.missing)} gone, {s.unchanged} unchanged"
        print(f"{s.folder}: {counts}")
        for path, reason in s.errors[:10]:
            print(f"  skipped {path}: {reason}", file=sys.stderr)
    print(f"Indexed {report.embedded} photos ({report.rate:.1f}/s), {report.failed} could not be read.")
    if report.failed:
        print("See which with: photosift status --failures")


def _print_page(page: SearchPage) -> None:
    if not page.hits:
        print("No matching photos.")
    for rank, hit in enumerate(page.hits, start=page.offset + 1):
        score = "" if hit.score is None else f"{hit.score:6.3f}"
        print(f"{rank:>4}  {score:>6}  #{hit.photo_id:<7} {hit.path}")


def _filters(args: argparse.Namespace) -> SearchFilters:
    return SearchFilters((absolute_path(args.folder),) if args.folder else (), args.after, args.before)


def cmd_search(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with _open(args, paths, settings) as library:
        page = library.search(" ".join(args.query), _filters(args), args.offset, args.limit)
        _emit(args, page, lambda: _print_page(page))
        return EXIT_OK


def cmd_similar(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with _open(args, paths, settings) as library:
        target: int | Path = int(args.photo.lstrip("#")) if args.photo.lstrip("#").isdigit() else Path(args.photo)
        page = library.similar(target, _filters(args), args.offset, args.limit)
        _emit(args, page, lambda: _print_page(page))
        return EXIT_OK


def cmd_status(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with _open(args, paths, settings) as library:
        status = library.status()
        failures = library.catalog.failures() if args.failures else []
        data = asdict(status) | {"failures": [asdict(f) for f in failures], "data_folder": str(paths.root)}
        _emit(args, data, lambda: _print_status(status, failures, paths))
        return EXIT_OK


def _print_status(status: Any, failures: list[Any], paths: Paths) -> None:
    print(f"Data folder: {paths.root}")
    print(f"Model: {status.model} on {status.device}")
    counts = f"{status.embedded} indexed, {status.pending} pending, {status.failed} failed"
    print(f"Photos: {status.photos} ({status.files} files): {counts}")
    kind = "approximate" if status.index.approximate else "exact"
    health = "saved" if status.index.saved_and_current else "rebuilt from the catalog"
    print(f"Vector index: {status.index.vectors} vectors, {kind}, {health}")
    for folder in status.folders:
        print(f"  {folder.path}  [{folder.status}] {folder.photo_count} photos, {folder.failed_count} failed")
    for photo in failures:
        print(f"  failed: {photo.paths[0] if photo.paths else '#' + str(photo.id)}: {photo.error}")


def cmd_remove(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with _open(args, paths, settings) as library:
        removed = library.remove_folder(Path(args.path))
        _emit(
            args,
            {"photos_forgotten": removed},
            lambda: print(f"Removed the folder; {removed} photos forgotten (files untouched)."),
        )
        return EXIT_OK


def cmd_watch(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.core.watcher import FolderWatcher

    library = _open(args, paths, settings)
    lock = threading.Lock()

    def refresh(folders: set[str]) -> None:
        with lock:
            scans = library.scan([Path(f) for f in folders])
            report = library.index()
            for s in scans:
                print(
                    f"{s.folder}: {s.added} new, {s.moved} moved, {len(s.missing)} gone; indexed {report.embedded}",
                    flush=True,
                )

    folders = [f.path for f in library.folders()]
    refresh(set(folders))
    watcher = FolderWatcher(folders, refresh, polling=args.polling or settings.watch_polling)
    watcher.start()
    print(f"Watching {len(folders)} folders; press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    finally:
        watcher.stop()
        library.close()
    return EXIT_OK


def _open_window(paths: Paths) -> int:
    """`photosift` alone opens the desktop app, where there is a screen to open it on."""
    from photosift.app.gui.app import display_available, run_gui

    if not display_available():
        print(
            "photosift: there is no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Use a command instead, such as `photosift search TEXT`; `photosift --help` lists them.",
            file=sys.stderr,
        )
        return EXIT_ENVIRONMENT
    return run_gui(paths, load_settings(paths))


# Parser and dispatch -------------------------------------------------------------------------------


def _add_search_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", help="only photos inside this folder")
    parser.add_argument("--after", type=_date, help="taken on or after this date (YYYY[-MM[-DD]])")
    parser.add_argument("--before", type=_date, help="taken before this date (YYYY[-MM[-DD]])")
    parser.add_argument("--limit", type=int, default=20, help="results per page (default 20)")
    parser.add_argument("--offset", type=int, default=0, help="skip this many results (paging)")


def build_parser() -> argparse.ArgumentParser:
    from photosift.app import eval_cli
    from photosift.app.albums_cli import add_albums_parser
    from photosift.app.models_cli import add_models_parser
    from photosift.app.tags_cli import add_tags_parser
    from photosift.app.train_cli import add_train_parser

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    common.add_argument("--model", help="model name or path to a model spec JSON (default: the selected model)")
    common.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="where to run the model")
    parser = argparse.ArgumentParser(
        prog="photosift",
        description="Search your photos by what is in them. With no command, opens the Photosift window.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    add("index", cmd_index, "add folders (if given) and index new and changed photos").add_argument(
        "paths", nargs="*", help="photo folders to add; with none, rescan all"
    )
    search = add("search", cmd_search, 'search by text and images, e.g. "2:beach" + ./me.jpg - crowd')
    search.add_argument("query", nargs="+")
    search.epilog = FILTERS_HELP
    _add_search_options(search)
    similar = add("similar", cmd_similar, "find photos similar to a photo (path or #id) or any image file")
    similar.add_argument("photo")
    _add_search_options(similar)
    add("status", cmd_status, "folders, counts, failures, model and index health").add_argument(
        "--failures", action="store_true", help="list photos that could not be read, with the reason"
    )
    add("remove", cmd_remove, "stop indexing a folder (its files are not touched)").add_argument("path")
    add("watch", cmd_watch, "keep the library up to date as folders change").add_argument(
        "--polling", action="store_true", help="poll instead of file events (network shares)"
    )
    eval_cli.add_eval_arguments(add("eval", eval_cli.cmd_eval, eval_cli.HELP))
    add_models_parser(sub, common)
    add_albums_parser(sub, common)
    add_tags_parser(sub, common)
    add_train_parser(sub)
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser()
    # The trainer's options belong to `python -m photosift.training` (see `photosift train --help`): they arrive
    # here as unknown arguments, in order, and are passed on.
    args, unknown = parser.parse_known_args(argv)
    if args.command == "train":
        args.options = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    paths = Paths.default()
    try:
        if args.command is None:
            return _open_window(paths)
        handler: Handler = args.handler
        return handler(args, paths, load_settings(paths))
    except (Cancelled, KeyboardInterrupt):
        print("Stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UserError as exc:
        print(f"photosift: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except EnvironmentFault as exc:
        print(f"photosift: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except OSError as exc:
        print(f"photosift: {exc.strerror or exc} ({exc.filename or 'no file name'})", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except Exception as exc:  # a bug: keep the traceback in the log, show a sentence
        log = log_exception(paths, exc)
        print(f"photosift: internal error ({type(exc).__name__}: {exc}). Details are in {log}.", file=sys.stderr)
        return EXIT_BUG
