"""Keeps the library current while the app runs: scans and indexes after folders are added or change on
disk, pauses and resumes, and embeds the photos with a model being switched to in the background (the
switch itself is `AppState`'s, when this controller says the new model has every photo).

Every run is a long op on the task runner's single writer. Requests that arrive during a run are merged
into the next one, so a burst of watcher events costs one scan per folder. Pausing stops the run at its
next checkpoint (each finished batch is already committed, so nothing is lost) and holds further runs
until Resume; Cancel stops the run but lets later changes start new ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled
from photosift.core.indexer import IndexReport
from photosift.core.library import Library
from photosift.core.progress import CancelToken, ProgressCallback
from photosift.core.watcher import FolderWatcher

# Offline folders (unplugged drives, unmounted shares) are checked this often for their return;
# a stat per offline folder, so cheap, yet soon enough that a re-plugged drive shows up by itself.
OFFLINE_CHECK_MS = 30_000

IDLE, RUNNING, PAUSED = "idle", "running", "paused"


@dataclass(frozen=True)
class RunOutcome:
    """What one run did: the last index report, and the library switched to (None when no switch)."""

    report: IndexReport
    switched_to: Library | None = None


class IndexingController(QObject):
    """Schedules scan + index runs on the task runner and owns the folder watcher."""

    state_changed = Signal(str)  # IDLE, RUNNING or PAUSED
    run_finished = Signal(object)  # a RunOutcome, or the UserError/Cancelled that ended the run
    folders_changed = Signal()  # folders were added, removed or rescanned: counts and states may differ
    model_embedded = Signal(object)  # a Library being switched to, now with every photo embedded
    scanning = Signal(object)  # the folder path a run is scanning, or None when the run ends
    _disk_changed = Signal(object)  # from the watcher's thread: a set of folder paths

    def __init__(self, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.state = IDLE
        self._scan_all = False
        self._scan_folders: set[str] = set()
        self._index_wanted = False
        self._target: Library | None = None  # a library with another model, to embed into and switch to
        self._token: CancelToken | None = None
        self._paused = False
        self._watcher: FolderWatcher | None = None
        self._watch_lock = threading.Lock()  # `_watcher` and `_closing`, set from a worker by `watch`
        self._closing = False
        self._disk_changed.connect(self.request_scan)
        # Started by `watch`, not here: a controller that never watches (tests, the OCR pass's) must hold no
        # running timer, or one dropped by the garbage collector on a worker thread leaves Qt a timer it
        # cannot stop from there, which fires into freed memory (a test run crashed so).
        self._offline_timer = QTimer(self, interval=OFFLINE_CHECK_MS)
        self._offline_timer.timeout.connect(self._check_offline)

    # Requests ---------------------------------------------------------------------------------------

    def request_scan(self, folders: Iterable[str] | None = None) -> None:
        """Rescan these folders (all when None), then index whatever is new."""
        if folders is None:
            self._scan_all = True
        else:
            self._scan_folders.update(folders)
        self.request_index()

    def catch_up(self) -> None:
        """Rescan every folder (offline ones stay as they are): photos added, changed, moved or deleted
        while the app was closed show up without F5 or a file event. Nothing when there are no folders,
        so a first start loads no model for it."""

        def rescan(has_folders: bool) -> None:
            if has_folders:
                self.request_scan(None)

        self.runner.run_op(lambda lib: bool(lib.folders()), rescan, self.run_finished.emit)

    def request_index(self) -> None:
        self._index_wanted = True
        self._start_next()

    def embed_model(self, library: Library) -> None:
        """Embed every photo with `library`'s model in the background, then emit `model_embedded` (the app
        state switches to it). Until then the current library keeps serving, so search never goes dark."""
        self._target = library
        self.request_index()

    @property
    def switching_to(self) -> Library | None:
        return self._target

    def pause(self) -> None:
        self._paused = True
        if self._token is not None:
            self._token.cancel()
        else:
            self._set_state(PAUSED)

    def resume(self) -> None:
        self._paused = False
        self._set_state(IDLE)
        self.request_index()

    def cancel(self) -> None:
        """Stop the current run and drop what was waiting, including a model switch."""
        self._scan_all, self._scan_folders, self._index_wanted, self._target = False, set(), False, None
        if self._token is not None:
            self._token.cancel()

    # Folders and the watcher ------------------------------------------------------------------------

    def add_folder(self, path: Path) -> None:
        """Add a folder to the library, then scan and index it; errors (no such folder) go to run_finished."""

        def added(_: object) -> None:
            self.folders_changed.emit()
            self.watch()
            self.request_scan([str(path)] if not self._scan_all else None)

        self.runner.run_op(lambda lib: lib.add_folder(path), added, self.run_finished.emit, writes=True)

    def remove_folder(self, path: str) -> None:
        def removed(_: int) -> None:
            self._scan_folders.discard(path)
            self.folders_changed.emit()
            self.watch()

        self.runner.run_op(lambda lib: lib.remove_folder(Path(path)), removed, self.run_finished.emit, writes=True)

    def watch(self) -> None:
        """(Re)start watching the library's folders, natively or by polling as the settings say.

        Starting a native watch walks every sub-folder (inotify needs one watch per directory), which
        takes seconds on a large library, so it happens on a worker thread, which also swaps the new watcher
        in (and stops the old one) under `_watch_lock`."""
        polling = self.runner.library.settings.watch_polling
        if not self._closing:
            self._offline_timer.start()  # folders that come back online are rescanned and watched

        def start(lib: Library) -> None:
            started = FolderWatcher([f.path for f in lib.folders()], self._disk_changed.emit, polling=polling)
            started.start()
            # Handed over here, on the worker, not by a callback on the GUI thread: a runner shut down as the
            # window closes delivers no more callbacks, and the watcher would have run on unstopped.
            replaced: FolderWatcher | None
            with self._watch_lock:
                if self._closing:  # the window closed meanwhile
                    replaced = started
                else:
                    replaced, self._watcher = self._watcher, started
            if replaced is not None:
                replaced.stop()

        self.runner.run_op(start, lambda _: None, self.run_finished.emit)

    @property
    def watching(self) -> bool:
        """Whether a watcher reports changes on disk now (it starts on a worker thread after `watch`)."""
        return self._watcher is not None

    def stop_watching(self) -> None:
        self._offline_timer.stop()
        with self._watch_lock:
            self._closing = True
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _check_offline(self) -> None:
        def back_online(lib: Library) -> list[str]:
            return [f.path for f in lib.folders() if f.status == "offline" and Path(f.path).is_dir()]

        def rescan(paths: list[str]) -> None:
            if paths:
                self.request_scan(paths)
                self.watch()

        self.runner.run_op(back_online, rescan, self.run_finished.emit)

    # Runs -------------------------------------------------------------------------------------------

    def _start_next(self) -> None:
        if self._token is not None or self._paused or not (self._index_wanted or self._target):
            return
        scan = None if self._scan_all else sorted(self._scan_folders)
        do_scan = self._scan_all or bool(self._scan_folders)
        target = self._target
        self._scan_all, self._scan_folders, self._index_wanted = False, set(), False

        def work(lib: Library, progress: ProgressCallback, cancel: CancelToken) -> RunOutcome:
            # Build the model first: a model that cannot load (no network, a bad file) stops the run
            # before the scan does any work, and its download progress is the first thing shown.
            lib.encoder.load(progress, cancel)
            if do_scan:
                lib.scan([Path(p) for p in scan] if scan is not None else None, progress, cancel)
            try:
                report = lib.index(progress, cancel)
                return RunOutcome(report) if target is None else RunOutcome(target.index(progress, cancel), target)
            except Cancelled as stopped:  # the batches written stay: say what was done, as for a whole run
                if not isinstance(stopped.partial, IndexReport):
                    raise
                return RunOutcome(stopped.partial)

        self._token = self.runner.run_long_op(work, self._finished, self._failed)
        self._set_state(RUNNING)
        if scan:
            self.scanning.emit(scan[0])

    def _finished(self, outcome: RunOutcome) -> None:
        self._token = None
        if outcome.switched_to is not None:
            self._target = None
            self.model_embedded.emit(outcome.switched_to)  # the state switches before the next run starts
        self._after_run(outcome)

    def _failed(self, exc: BaseException) -> None:
        self._token = None
        if not isinstance(exc, Cancelled):
            self._target = None  # e.g. the new model could not be downloaded: stay on the current one
        self._after_run(exc)

    def _after_run(self, outcome: object) -> None:
        self.scanning.emit(None)
        self._set_state(PAUSED if self._paused else IDLE)
        self.folders_changed.emit()
        self.run_finished.emit(outcome)
        self._start_next()  # whatever was requested during the run

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
