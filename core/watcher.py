"""Keep the catalog live: watch photo folders and report which ones changed, after a quiet period.

Native file-system events (inotify, FSEvents, ReadDirectoryChangesW) through watchdog, or a polling
observer for network shares, where native events do not fire. Events are coalesced per folder and
delivered once the folder has been quiet for `debounce_s`, so copying 1,000 photos triggers one scan.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from core.imageio import PHOTO_EXTENSIONS

# Seconds of quiet before a changed folder is rescanned: long enough to coalesce a bulk copy.
DEBOUNCE_S = 2.0
# Seconds between polls of network shares: a full listing each time, so not too often.
POLL_INTERVAL_S = 30.0


class _Handler(FileSystemEventHandler):
    def __init__(self, root: str, notify: Callable[[str], None]) -> None:
        self.root = root
        self.notify = notify

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory:
            # A folder's "modified" event only echoes a change inside it, which has its own event.
            if event.event_type != "modified":
                self.notify(self.root)
            return
        paths = [os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", "") or "")]
        if any(os.path.splitext(p)[1].lower() in PHOTO_EXTENSIONS for p in paths if p):
            self.notify(self.root)


class FolderWatcher:
    """Calls `on_change(folders)` on a background thread when watched folders change."""

    def __init__(
        self,
        folders: Sequence[str],
        on_change: Callable[[set[str]], None],
        polling: bool = False,
        debounce_s: float = DEBOUNCE_S,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._on_change = on_change
        self._debounce_s = debounce_s
        self._observer: BaseObserver = PollingObserver(timeout=poll_interval_s) if polling else Observer()
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        for folder in folders:
            if os.path.isdir(folder):
                self._observer.schedule(_Handler(folder, self._mark), folder, recursive=True)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        self._observer.stop()
        self._observer.join()

    def _mark(self, folder: str) -> None:
        with self._lock:
            self._dirty.add(folder)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._debounce_s, self._flush)
            self._timer.daemon = True
            self._timer.start()

    def _flush(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        if dirty:
            self._on_change(dirty)
