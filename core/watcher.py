"""Keep the catalog live: watch photo folders and report which ones changed, after a quiet period.

Native file-system events (inotify, FSEvents, ReadDirectoryChangesW) through watchdog, or a polling
observer for network shares, where native events do not fire. Events are coalesced per folder and
delivered once the folder has been quiet for `debounce_s`, so copying 1,000 photos triggers one scan.
One long-lived thread waits out the quiet period and calls back; a file event only moves its deadline.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from photosift.core.imageio import PHOTO_EXTENSIONS

# Seconds of quiet before a changed folder is rescanned: long enough to coalesce a bulk copy.
DEBOUNCE_S = 2.0
# Seconds between polls of network shares: a full listing each time, so not too often.
POLL_INTERVAL_S = 30.0
# File systems whose changes made on other machines never raise local events, so they are polled.
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "9p", "fuse.sshfs", "fuse.rclone", "davfs", "ncpfs", "glusterfs"}
)


def mount_types(mounts_file: Path = Path("/proc/mounts")) -> dict[str, str]:
    """Mount point -> file-system type, from the Linux mount table (empty where there is none)."""
    try:
        lines = mounts_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 3:
            found[parts[1].replace("\\040", " ")] = parts[2]
    return found


def is_network_folder(folder: str, mounts: dict[str, str] | None = None) -> bool:
    """Whether `folder` lives on a network share: a Windows UNC path, or (on Linux) a mount whose file
    system is a network one. Elsewhere this cannot be told cheaply; the settings' polling mode covers it."""
    if folder.startswith(("\\\\", "//")):
        return True
    mounts = mount_types() if mounts is None else mounts
    best = max((m for m in mounts if folder == m or folder.startswith(m.rstrip("/") + "/")), key=len, default=None)
    return best is not None and mounts[best] in NETWORK_FILESYSTEMS


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
    """Calls `on_change(folders)` on a background thread when watched folders change.

    Folders on network shares are always polled (remote changes raise no local events); `polling`
    polls every folder, for shares this cannot detect.
    """

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
        self._native: BaseObserver = Observer()
        self._polling: BaseObserver = PollingObserver(timeout=poll_interval_s)
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._deadline: float | None = None  # when the dirty folders have been quiet long enough
        self._stopping = False
        self._caller = threading.Thread(target=self._call_back_when_quiet, name="folder-watcher", daemon=True)
        mounts = mount_types()
        for folder in folders:
            if os.path.isdir(folder):
                remote = polling or is_network_folder(folder, mounts)
                (self._polling if remote else self._native).schedule(
                    _Handler(folder, self._mark), folder, recursive=True
                )

    def start(self) -> None:
        self._caller.start()
        self._native.start()
        self._polling.start()

    def stop(self) -> None:
        """Stop watching; returns once a callback in progress has finished (none starts after)."""
        for observer in (self._native, self._polling):
            observer.stop()
            observer.join()
        with self._lock:
            self._stopping = True
            self._wake.notify()
        if self._caller.is_alive() and threading.current_thread() is not self._caller:
            self._caller.join()

    def _mark(self, folder: str) -> None:
        with self._lock:
            self._dirty.add(folder)
            self._deadline = time.monotonic() + self._debounce_s
            self._wake.notify()

    def _call_back_when_quiet(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (self._deadline is None or time.monotonic() < self._deadline):
                    self._wake.wait(None if self._deadline is None else self._deadline - time.monotonic())
                if self._stopping:
                    return
                dirty, self._dirty, self._deadline = self._dirty, set(), None
            self._on_change(dirty)
