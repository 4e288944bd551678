"""Reads the text in photos (core.ocr) in the background once indexing is idle, on a thread of its own.

The pass yields to everything else: it starts START_DELAY_MS after an indexing run ends (the searches a
person makes on new results come first), stops at the next photo when another indexing run starts (the
first searchable moment of new photos never waits for OCR), and resumes when that run ends. It does not
use the task runner's writer: a pass may take an hour, and every photo it reads is one short transaction
of its own, so folder and tag edits go on meanwhile. Whatever was read stays when it stops.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, SignalInstance

from photosift.app.gui.controllers.indexing import IDLE, IndexingController
from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled
from photosift.core.ocr.engine import OcrUnavailable
from photosift.core.ocr.reader import OcrReport
from photosift.core.progress import CancelToken

# How long indexing must have been idle before a pass starts (ms): the searches a person makes on the
# photos just indexed come first, and a burst of watcher events is usually over by then.
START_DELAY_MS = 10_000


class TextReading(QObject):
    """Starts, stops and restarts the OCR pass around indexing runs."""

    finished = Signal(object)  # the pass's OcrReport (also when it stopped early: its part)
    progress = Signal(object)  # the pass's core.progress.Progress for the status bar; None once it ended
    _ended = Signal(object)  # from the pass's thread: an OcrReport, or the exception that ended it

    def __init__(self, runner: TaskRunner, indexing: IndexingController, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self._indexing = indexing
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._token: CancelToken | None = None
        self._wanted = False  # start again when the pass in flight has stopped
        self._unavailable = False  # the ocr extra is missing: no pass until the app restarts
        self._timer = QTimer(self, singleShot=True, interval=START_DELAY_MS)
        self._timer.timeout.connect(self.start)
        self._ended.connect(self._on_ended)
        indexing.state_changed.connect(self._indexing_state)
        if indexing.state == IDLE:
            self._timer.start()

    @property
    def running(self) -> bool:
        return self._token is not None

    def start(self) -> None:
        """Start a pass over the photos not read yet (nothing happens when one is running)."""
        self._wanted = True
        if self._token is not None or self._unavailable:
            return
        self._wanted = False
        token = self._token = CancelToken()
        library = self.runner.library  # a model switch replaces it; the next pass reads with the new one

        def deliver(signal: SignalInstance, value: object) -> None:
            try:
                signal.emit(value)
            except RuntimeError:  # "Signal source has been deleted": the window closed under the pass
                token.cancel()  # nobody waits for it any more; it stops at the next photo

        def work() -> None:
            try:
                deliver(self._ended, library.text.read_pending(lambda p: deliver(self.progress, p), token))
            except BaseException as exc:  # delivered to the GUI thread, which presents it
                deliver(self._ended, exc)

        self._pool.start(work)

    def stop(self, wait_ms: int = 0) -> bool:
        """Ask the pass to stop after the photo in progress and wait for that at most `wait_ms` (-1: as long
        as it takes); returns whether no pass runs any more."""
        self._timer.stop()
        self._wanted = False
        if self._token is not None:
            self._token.cancel()
        return self._pool.waitForDone(wait_ms)

    def cancel(self) -> None:
        """Stop the pass in flight (the status bar's Cancel); the next indexing run's end starts another."""
        if self._token is not None:
            self._token.cancel()

    def restart(self) -> None:
        """Stop the pass in flight and start one with the library's current `ocr` setting, now if indexing
        is idle (else when it is)."""
        self.stop()
        if self._indexing.state == IDLE:
            self.start()

    def _indexing_state(self, state: str) -> None:
        if state == IDLE:
            self._timer.start()
        else:
            self.stop()

    def _on_ended(self, outcome: object) -> None:
        self._token = None
        self.progress.emit(None)
        if isinstance(outcome, Cancelled) and isinstance(outcome.partial, OcrReport):
            outcome = outcome.partial
        if isinstance(outcome, OcrReport):
            self.finished.emit(outcome)
        elif isinstance(outcome, OcrUnavailable) and self.runner.library.text.mode != "all":
            self._unavailable = True  # said in Settings' OCR choice; no dialog after every indexing run
            return
        elif isinstance(outcome, BaseException):
            self.runner.present(outcome)
        if self._wanted:
            self.start()
