"""`photosift index`, `status`, `remove` and `watch`: the library's folders and how far indexing is."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosift.app.cli.common import command_settings, emit, model_setting, open_library, unindexed_model_hint
from photosift.app.cli.quick import quick_status
from photosift.app.cli.text import read_text, text_lines, text_status, text_status_line, text_summary
from photosift.core.errors import UserError
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings, save_settings
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.core.catalog.records import FolderInfo, PhotoInfo
    from photosift.core.catalog.skipped import SkippedFile
    from photosift.core.indexer import IndexReport
    from photosift.core.library import LibraryStatus
    from photosift.core.scanner import ScanReport


def cmd_index(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.app.progress import TqdmProgress

    with open_library(args, paths, settings) as library:
        for path in args.paths:
            library.add_folder(Path(path))
        if not library.folders():
            raise UserError("There are no photo folders yet: add one with `photosift index PATH`.")
        first_model = bool(args.model) and not settings.model and not any(m.embedded for m in library.stored_models())
        with TqdmProgress(quiet=args.json) as progress:
            scans = library.scan([Path(p) for p in args.paths] or None, progress)
            if args.retry_failed:
                library.retry_failed()
                library.text.retry_failed()
            report = library.index(progress)
            text = read_text(library, args, progress)
        counts = {f.path: f.photo_count for f in library.folders()}
        lines = index_lines(scans, report, counts) + text_lines(text)
        if first_model and report.embedded:
            save_settings(paths, settings.with_changes(model=model_setting(args.model)))
            lines.append(f"This library uses {library.spec.name} from now on; `photosift models select` changes it.")
        summary: dict[str, Any] = {
            "folders": [scan_summary(s) for s in scans],
            "index": asdict(report),
            "model": library.spec.name,
        }
        summary["ocr"] = text_summary(text)
        emit(args, summary, lambda: print("\n".join(lines)))
        return EXIT_OK


def scan_summary(scan: ScanReport) -> dict[str, Any]:
    """A scan report for --json: counts, not the (possibly many thousand) missing file records."""
    fields = ("folder", "offline", "added", "changed", "moved", "unchanged")
    return {name: getattr(scan, name) for name in fields} | {"missing": len(scan.missing), "errors": list(scan.errors)}


def index_lines(scans: list[ScanReport], report: IndexReport, photo_counts: dict[str, int]) -> list[str]:
    """What a scan and an indexing run did, in sentences that agree with each other."""
    lines = [_scan_line(s, photo_counts.get(s.folder, 0)) for s in scans]
    lines += [f"  skipped {path}: {reason}" for s in scans for path, reason in s.errors[:10]]
    found = sum(s.added + s.changed for s in scans)
    if report.embedded:
        rate = f"{report.rate:.1f} photos/s" if report.elapsed_s >= 0.05 else "at once"
        line = f"Embedded {plural(report.embedded, 'photo')} in {report.elapsed_s:.1f} s ({rate})"
        earlier = report.embedded - found
        lines.append(line + (f", {earlier} of them waiting from before." if earlier > 0 else "."))
    elif not report.failed:
        lines.append("Nothing new to embed: the library is up to date.")
    if report.failed:
        failed = plural(report.failed, "photo")
        lines.append(f"{failed} could not be read: see which with `photosift status --failures`.")
    if report.missing:
        waiting = plural(report.missing, "photo")
        lines.append(f"{waiting} wait for their files (moved, or on a drive that is away): the next scan finds them.")
    if report.cancelled:
        lines.append("Stopped early: run `photosift index` again to continue.")
    return lines


def _scan_line(scan: ScanReport, photo_count: int) -> str:
    if scan.offline and photo_count == 0:
        return (
            f"{scan.folder}: not found, and none of its photos are in the library; "
            f"forget it with `photosift remove {scan.folder}`."
        )
    if scan.offline:
        return (
            f"{scan.folder}: not found (offline?); its {plural(photo_count, 'photo')} are kept until it is back "
            f"or you forget it with `photosift remove {scan.folder}`."
        )
    parts = [("new", scan.added), ("changed", scan.changed), ("moved", scan.moved), ("gone", len(scan.missing))]
    counted = [f"{n} {word}" for word, n in parts if n]
    if scan.unchanged:
        counted.append(f"{scan.unchanged} unchanged")
    return f"{scan.folder}: {', '.join(counted) or 'no photos found'}"


def cmd_status(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    quick = quick_status(args, paths, settings)  # read-only, without SQLAlchemy or numpy, where it can
    runtime = command_settings(args, settings).cpu_runtime
    if quick is not None:
        _print_status(args, paths, *quick, [], [], None, runtime)
        return EXIT_OK
    with open_library(args, paths, settings) as library:
        failures = library.failures() if args.failures else []
        skipped = library.skipped_files() if args.failures and args.all else []
        hint = unindexed_model_hint(library)
        _print_status(args, paths, library.status(), text_status(library), failures, skipped, hint, runtime)
        return EXIT_OK


def _print_status(
    args: argparse.Namespace,
    paths: Paths,
    status: LibraryStatus,
    text: dict[str, Any],
    failures: list[PhotoInfo],
    skipped: list[SkippedFile],
    hint: str | None,
    cpu_runtime: str,
) -> None:
    data = asdict(status) | {"failures": [asdict(f) for f in failures], "data_folder": str(paths.root)}
    data["cpu_runtime"] = cpu_runtime
    data["skipped"] = [asdict(f) for f in skipped]
    data["ocr"] = text
    lines = [*status_lines(status, failures, paths, skipped, cpu_runtime), text_status_line(text)]
    lines += [hint] if hint else []
    emit(args, data | {"hint": hint}, lambda: print("\n".join(lines)))


def _runtime_words(device: str, cpu_runtime: str) -> str:
    """The settings' CPU runtime where it is not the default: what was chosen, not a check that it ran
    (a refused int8 tower falls back to fp32, and says so in the log)."""
    if device != "cpu" or cpu_runtime == "auto":
        return ""
    return " (int8 image weights chosen)" if cpu_runtime == "int8" else f" ({cpu_runtime} chosen)"


def status_lines(
    status: LibraryStatus,
    failures: list[Any],
    paths: Paths,
    skipped: Sequence[SkippedFile] = (),
    cpu_runtime: str = "auto",
) -> list[str]:
    counts = f"{status.embedded} indexed, {status.pending} pending, {status.failed} failed"
    kind = "approximate" if status.index.approximate else "exact"
    health = "saved" if status.index.saved_and_current else "rebuilt from the catalog"
    lines = [
        f"Data folder: {paths.root}",
        f"Model: {status.model} on {status.device}{_runtime_words(status.device, cpu_runtime)}",
        f"Photos: {status.photos} ({plural(status.files, 'file')}): {counts}",
        f"Vector index: {plural(status.index.vectors, 'vector')}, {kind}, {health}",
    ]
    lines += [_folder_line(folder) for folder in status.folders]
    lines += [f"  failed: {p.paths[0] if p.paths else '#' + str(p.id)}: {p.error}" for p in failures]
    if failures:
        lines.append("Fixed the cause (a codec installed, a file repaired)? Retry them: photosift index --retry-failed")
    lines += [f"  {f.reason}: {f.path}" for f in skipped]
    return lines


def _folder_line(folder: FolderInfo) -> str:
    counts = f"{plural(folder.photo_count, 'photo')}, {folder.failed_count} failed"
    if folder.status == "offline" and folder.photo_count == 0:
        return f"  {folder.path}  [offline] empty: forget it with `photosift remove {folder.path}`"
    if folder.status == "offline":
        return f"  {folder.path}  [offline] {counts} kept until it is back"
    return f"  {folder.path}  [{folder.status}] {counts}"


def cmd_remove(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    with open_library(args, paths, settings) as library:
        removed = library.remove_folder(Path(args.path))
        message = f"Removed the folder; {plural(removed, 'photo')} forgotten (files untouched)."
        emit(args, {"photos_forgotten": removed}, lambda: print(message))
        return EXIT_OK


def cmd_watch(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    from photosift.app.cli.text_pass import TextPass
    from photosift.core.watcher import FolderWatcher

    library = open_library(args, paths, settings)
    lock = threading.Lock()
    text_pass = TextPass(library, enabled=not args.no_ocr)

    def refresh(folders: set[str]) -> None:
        text_pass.stop()  # new photos are embedded first; the pass resumes after
        with lock:
            scans = library.scan([Path(f) for f in folders])
            report = library.index()
            counts = {f.path: f.photo_count for f in library.folders()}
            print("\n".join(index_lines(scans, report, counts)), flush=True)
            text_pass.start()

    folders = [f.path for f in library.folders()]
    # Watch first, then catch up: a change made while the first scan runs is then seen, not lost.
    watcher = FolderWatcher(folders, refresh, polling=args.polling or settings.watch_polling)
    watcher.start()
    refresh(set(folders))
    print(f"Watching {plural(len(folders), 'folder')}; press Ctrl-C to stop.", flush=True)
    previous = _stop_on_terminate()
    try:
        threading.Event().wait()
    finally:
        watcher.stop()
        text_pass.close()
        library.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK


def _stop_on_terminate() -> signal._HANDLER | None:
    """Make SIGTERM stop `watch` as Ctrl-C does (the index saved, the library closed), and return the old
    handler. `kill`, a service manager or a logout send SIGTERM; a watch started in the background (`&`)
    ignores Ctrl-C by Unix convention, so SIGTERM is how it is stopped. Only the main thread may set one."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)
