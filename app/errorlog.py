"""The error log: tracebacks of bugs go to a file under the data folder, and the user gets a sentence."""

from __future__ import annotations

import traceback
from datetime import datetime
from pathlib import Path

from photosift.core.settings import Paths


def log_exception(paths: Paths, exc: BaseException) -> Path:
    """Append the traceback to the log folder; returns the log file's path."""
    log = paths.logs / "photosift.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"--- {datetime.now().isoformat()}\n")
            out.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        return Path("(the log could not be written)")
    return log
