"""The one way the GUI runs library work off the GUI thread (Anki's QueryOp/CollectionOp, in small).

Reads (searches, lookups) run on a small thread pool; writes (scan, index, folder changes) run one at a
time on a single worker thread, because the library allows one writer. Whatever an op returns or raises
comes back on the GUI thread through a queued signal, to `on_done` or `on_error`: errors are never
swallowed. Call sites without a place of their own to show a failure leave `on_error` out, and the
runner's presenter shows it (the GUI installs `gui.presenter.FailurePresenter`: a sentence for a user
error, what to do for an environment fault, the crash dialog for a bug). Long ops also get a
`CancelToken` and report core `Progress` through `TaskRunner.progress`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from PySide6.QtCore import QDeadlineTimer, QObject, QRunnable, QThreadPool, Signal, Slot

from photosift.app.priority import lower_this_thread
from photosift.core.library import Library
from photosift.core.progress import CancelToken, Progress, ProgressCallback

T = TypeVar("T")
Presenter = Callable[[BaseException], None]  # shows a failure nobody else handles, on the GUI thread


def reraise(exc: BaseException) -> None:
    """The presenter until a front end installs one (tests, benchmarks): the excepthook gets the error."""
    raise exc


# Concurrent reads: searches are short and mostly wait on SQLite and FAISS; two keep the GUI responsive
# while one query is slow without letting a burst of keystrokes pile work onto a 2-core machine.
READ_THREADS = 2


class _Call(QRunnable):
    """Runs `work` on a pool thread and hands its outcome to `deliver` (which is thread-safe)."""

    def __init__(self, work: Callable[[], Any], done: Callable[[Any], None], error: Callable[[BaseException], None]):
        super().__init__()
        self._work, self._done, self._error = work, done, error

    def run(self) -> None:
        lower_this_thread()
        try:
            result = self._work()
        except BaseException as exc:  # delivered, not swallowed: on_error runs on the GUI thread
            self._error(exc)
        else:
            self._done(result)


class TaskRunner(QObject):
    """Runs `fn(library)` in the background and calls back on the GUI thread.

    Create it on the GUI thread (its queued deliveries run in the thread it lives in). Call `shutdown()`
    before closing the library: it cancels long ops and waits for every op to finish.
    """

    # A ready-to-call closure (the callback bound to its result), queued to this object's thread.
    _deliver = Signal(object)
    progress = Signal(object)  # a core.progress.Progress from the running long op
    busy_changed = Signal(bool)  # True while a write op is queued or running

    def __init__(self, library: Library, parent: QObject | None = None, present: Presenter = reraise):
        super().__init__(parent)
        self.library = library
        self._presenter = present
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(READ_THREADS)
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)  # the library's single writer
        self._writes.setExpiryTimeout(-1)  # keep that one thread for the runner's life
        self._tokens: set[CancelToken] = set()
        self._pending_writes = 0
        self._latest_progress: Progress | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._deliver.connect(self._on_deliver)

    def run_op(
        self,
        fn: Callable[[Library], T],
        on_done: Callable[[T], None],
        on_error: Presenter | None = None,
        *,
        writes: bool = False,
    ) -> None:
        """Run `fn(library)` on a read thread, or on the writer when `writes` is true. A failure goes to
        `on_error`, or to the runner's presenter (looked up when it arrives) when `on_error` is None."""
        on_error = on_error or self.present
        if writes:
            self._start_write()
            on_done, on_error = self._finishing_write(on_done), self._finishing_write(on_error)
        call = _Call(partial(fn, self.library), self._post(on_done), self._post(on_error))
        (self._writes if writes else self._reads).start(call)

    def run_long_op(
        self,
        fn: Callable[[Library, ProgressCallback, CancelToken], T],
        on_done: Callable[[T], None],
        on_error: Presenter | None = None,
        *,
        writes: bool = True,
    ) -> CancelToken:
        """Run a long op with a progress callback and a cancel token; returns the token. A long op writes
        (scan, index) unless `writes` is false: then it runs on a read thread (a duplicate search's reading
        part, which must not hold the writer)."""
        token = CancelToken()
        with self._lock:
            self._tokens.add(token)

        def work(library: Library) -> T:
            try:
                return fn(library, self._report, token)
            finally:
                with self._lock:
                    self._tokens.discard(token)

        self.run_op(work, on_done, on_error, writes=writes)
        return token

    def set_presenter(self, present: Presenter) -> None:
        """Show unhandled failures with `present` from now on (the main window installs its own)."""
        self._presenter = present

    def present(self, exc: BaseException) -> None:
        """Show `exc` with the default presenter: for call sites that handle some failures in place and
        leave the rest (an environment fault, a bug) to it."""
        self._presenter(exc)

    def cancel_all(self) -> None:
        """Ask every running or queued long op to stop at its next checkpoint."""
        with self._lock:
            tokens = list(self._tokens)
        for token in tokens:
            token.cancel()

    def shutdown(self, wait_ms: int = -1) -> bool:
        """Cancel long ops, drop reads not started yet, and wait for the rest, at most `wait_ms` (-1: as long
        as they take); returns whether every op finished. Outcomes not yet delivered are then dropped, since
        their receivers (the window) are going away."""
        self.cancel_all()
        self._reads.clear()
        deadline = QDeadlineTimer(wait_ms)
        finished = self._writes.waitForDone(deadline) and self._reads.waitForDone(deadline)
        self._closed = True
        return finished

    @property
    def busy(self) -> bool:
        return self._pending_writes > 0

    def _report(self, progress: Progress) -> None:
        # Coalesced: a scan reports every file, thousands a second, and one queued call per report would
        # flood the GUI thread's event queue (timers and painting wait behind it). At most one delivery is
        # queued at a time, and it carries the latest report; receivers run on the GUI thread.
        with self._lock:
            queued = self._latest_progress is not None
            self._latest_progress = progress
        if not queued:
            self._deliver.emit(self._emit_latest_progress)

    def _emit_latest_progress(self) -> None:
        with self._lock:
            progress, self._latest_progress = self._latest_progress, None
        if progress is not None:
            self.progress.emit(progress)

    def _post(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        return lambda value: self._deliver.emit(partial(callback, value))

    def _start_write(self) -> None:
        self._pending_writes += 1
        if self._pending_writes == 1:
            self.busy_changed.emit(True)

    def _finishing_write(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        def finish(value: Any) -> None:
            self._pending_writes -= 1
            if self._pending_writes == 0:
                self.busy_changed.emit(False)
            callback(value)

        return finish

    @Slot(object)
    def _on_deliver(self, call: Callable[[], None]) -> None:
        if not self._closed:
            call()
