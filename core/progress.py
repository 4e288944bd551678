"""Progress reporting and cancellation for long core operations.

Core functions never print or draw bars: they call a `ProgressCallback` with `Progress` snapshots and
poll a `CancelToken`. The CLI adapts these to tqdm, the GUI to Qt signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from photosift.core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """A snapshot of a long operation.

    Attributes:
        stage: short name of what is happening ("scan", "index", "download", ...).
        done: units finished so far.
        total: units expected in all, or None while unknown.
        rate: units per second over the recent past, or None before it can be measured.
        eta_s: estimated seconds left, or None when unknown.
        message: optional detail for a status line (a file name, a model name).
    """

    stage: str
    done: int
    total: int | None = None
    rate: float | None = None
    eta_s: float | None = None
    message: str = ""


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """A progress callback that ignores every report."""


class CancelToken:
    """A thread-safe flag that asks a long operation to stop at its next checkpoint."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise `Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled()
