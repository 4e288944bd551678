"""Text in photos on the command line: the OCR pass that `photosift index` runs after the embeddings,
and `photosift text PHOTO`, which prints what was read from one photo."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from photosift.app.cli.common import emit, open_library
from photosift.core.protocol import EXIT_OK
from photosift.core.search.references import resolve_photo
from photosift.core.settings import Paths, Settings
from photosift.core.wording import plural

if TYPE_CHECKING:
    from photosift.core.library import Library
    from photosift.core.ocr.reader import OcrReport
    from photosift.core.progress import ProgressCallback


def read_text(library: Library, args: argparse.Namespace, progress: ProgressCallback) -> OcrReport | None:
    """The OCR pass after indexing, unless `--no-ocr` or the `ocr` setting is "off". An interrupt (Ctrl-C)
    keeps what was read: each photo is stored as it is read, and the next run continues."""
    if args.no_ocr or library.text.mode == "off":
        return None
    from photosift.core.ocr.engine import OcrUnavailable

    try:
        return library.text.read_pending(progress)
    except OcrUnavailable as exc:
        if library.text.mode == "all":  # asked for by name: an error
            raise
        print(f"Text in photos was not read. {exc}", file=sys.stderr)
        return None


def text_lines(report: OcrReport | None) -> list[str]:
    """What the OCR pass did, in a sentence or two (nothing when it had nothing to do)."""
    if report is None or not (report.read or report.failed or report.unlikely):
        return []
    lines = []
    if report.read:
        rate = f"{report.rate:.2f} photos/s" if report.elapsed_s >= 0.05 else "at once"
        found = f"{report.with_text} with text"
        lines.append(f"Read the text of {plural(report.read, 'photo')} ({found}) in {report.elapsed_s:.1f} s ({rate}).")
    if report.unlikely:
        lines.append(f"Skipped {plural(report.unlikely, 'photo')} that do not look like they hold text.")
    if report.failed:
        lines.append(f"{plural(report.failed, 'photo')} could not be read for text.")
    return lines


def text_summary(report: OcrReport | None) -> dict[str, Any] | None:
    return None if report is None else asdict(report)


def text_status(library: Library) -> dict[str, Any]:
    """How far reading the text in photos is: photos per outcome, and how many the next pass looks at."""
    return text_status_of(library.text.mode, library.text.counts(), library.text.pending())


def text_status_of(mode: str, counts: dict[str, int], pending: int) -> dict[str, Any]:
    """`text_status` from the `ocr` setting, the photos per OCR outcome and the count still to read."""
    return {"mode": mode, "pending": pending} | {
        status: counts.get(status, 0) for status in ("text", "none", "unlikely", "failed")
    }


def text_status_line(status: dict[str, Any]) -> str:
    read = status["text"] + status["none"]
    line = (
        f"Text in photos (ocr: {status['mode']}): {read} read, {status['text']} with text, {status['pending']} pending"
    )
    if status["unlikely"]:
        line += f", {status['unlikely']} skipped as unlikely to hold text"
    return line + (f", {status['failed']} failed" if status["failed"] else "")


NOT_READ = {
    "unlikely": "it does not look like it holds text, and reading costs about a second a photo. To read every "
    'photo, set "ocr": "all" in settings.json (in the window: Settings, Read text in), then run `photosift index`.',
    "failed": "reading it failed; it is tried again when its file changes, or with `photosift index --retry-failed`.",
}


def _not_read(library: Library, photo_id: int) -> str:
    """Why the photo's text is not known, and what would read it."""
    photo = library.photo(photo_id)
    if photo is not None and photo.status == "failed":
        return f"Photo #{photo_id} could not be read at all, so its text could not be either: {photo.error}."
    status = library.text.status_of(photo_id)
    if status in NOT_READ:
        reason = NOT_READ[status]
    elif library.settings.ocr == "off":
        reason = 'reading text in photos is off ("ocr": "off" in settings.json).'
    else:
        reason = "it has not been looked at yet: `photosift index` reads new photos' text after embedding them."
    return f"Photo #{photo_id} has not been read for text: {reason}"


def cmd_text(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    """Print the text read from a photo (`#12`, `12` or its path)."""
    with open_library(args, paths, settings) as library:
        photo_id = resolve_photo(library, args.photo)
        found = library.text.text_of(photo_id)
        nothing = f"No text was found in photo #{photo_id}."
        message = _not_read(library, photo_id) if found is None else found or nothing
        emit(args, {"photo_id": photo_id, "text": found}, lambda: print(message))
        return EXIT_OK
