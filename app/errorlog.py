"""The log: one rotating file in the data folder's log folder, for every process of the app.

The entry point configures it once (`configure_logging`); from then on warnings of ours and of libraries
(open_clip's "No pretrained weights loaded", say) go to the file rather than onto the terminal's progress
bars, and a bug's traceback (`log_exception`) or an error's details (`log_details`) land there too. Code
that runs without the entry point (tests, embedding) still gets its tracebacks written, through a
handler opened for that one record.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

from photosift.core.settings import Paths

LOG_FILE = "photosift.log"
MAX_BYTES, BACKUPS = 2_000_000, 3  # at most 8 MB of log on disk
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_log = logging.getLogger("photosift")


def log_file(paths: Paths) -> Path:
    return paths.logs / LOG_FILE


def configure_logging(paths: Paths) -> Path:
    """Send warnings (of any library) and our own info to the log file, and nothing to the terminal.
    Call once, from the entry point; returns the log file."""
    handler = _file_handler(paths)
    if handler is None:
        return Path("(the log could not be opened)")
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    _log.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return Path(handler.baseFilename)


def log_exception(paths: Paths, exc: BaseException) -> Path:
    """Write a bug's traceback to the log; returns the log file's path for the message that points to it."""
    with _writing(paths) as log:
        _log.error("Internal error: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
    return log


def log_details(paths: Paths, message: str, details: str) -> Path:
    """Write an error's details (URLs tried, the OS error) under its one-line message."""
    with _writing(paths) as log:
        _log.warning("%s\n%s", message, details)
    return log


@contextlib.contextmanager
def _writing(paths: Paths) -> Iterator[Path]:
    """The log file, with a handler on it for the records written inside: the configured one if this
    process has one for `paths`, else one opened for these records only."""
    log = log_file(paths)
    handlers = logging.getLogger().handlers
    configured = any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == log.absolute() for h in handlers)
    handler = None if configured else _file_handler(paths)
    if handler is not None:
        _log.addHandler(handler)
    try:
        yield log if configured or handler is not None else Path("(the log could not be written)")
    finally:
        if handler is not None:
            _log.removeHandler(handler)
            handler.close()


def _file_handler(paths: Paths) -> RotatingFileHandler | None:
    log = log_file(paths)
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(log, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    return handler
