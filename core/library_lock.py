"""One scan or indexing run at a time per library, across processes (the app beside `photosift index`,
or two CLI runs).

Two runs at once would each decide what to insert from the same catalog state and collide (the second
died with "UNIQUE constraint failed" and exit 4). The contract: a run takes the library's lock file
for its duration; a second run waits for it, saying so through its progress callback, and can be
cancelled while it waits. Searches, tags and albums never take it: their writes are single
`BEGIN IMMEDIATE` transactions. The operating system drops the lock when its process dies, so a
killed run never leaves the library locked.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from photosift.core.errors import EnvironmentFault
from photosift.core.progress import CancelToken, Progress, ProgressCallback

LOCK_FILE = "library.lock"
POLL_S = 0.25  # how often a waiting run tries again: short beside any scan, cheap for an idle wait
WAIT_STAGE = "wait"

if sys.platform == "win32":
    import msvcrt

    def _try_lock(f: IO[bytes]) -> bool:
        f.seek(0)  # msvcrt locks bytes from the current position: always the first one
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(f: IO[bytes]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(f: IO[bytes]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class LibraryLock:
    """The run lock of the library whose catalog lives in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE

    @contextlib.contextmanager
    def held(self, doing: str, progress: ProgressCallback, cancel: CancelToken | None) -> Iterator[None]:
        """Hold the lock for the block, waiting for another run to finish first.

        Args:
            doing: what this run does, for the message another run shows while it waits ("indexing").

        Raises:
            Cancelled: `cancel` was set while waiting.
            EnvironmentFault: the lock file cannot be opened (permissions, read-only data folder).
        """
        try:
            f = self.path.open("a+b")  # never truncates: another run's note stays readable
        except OSError as err:
            raise EnvironmentFault(f"Could not open {self.path}: {err.strerror or err}.", details=repr(err)) from err
        with f:
            self._acquire(f, progress, cancel)
            try:
                _note(f, f"{os.getpid()} {doing}")
                yield
            finally:
                _unlock(f)

    def _acquire(self, f: IO[bytes], progress: ProgressCallback, cancel: CancelToken | None) -> None:
        waiting = False
        pause = threading.Event()
        while not _try_lock(f):
            if not waiting:
                progress(Progress(WAIT_STAGE, 0, None, message=self._holder_message(f)))
                waiting = True
            if cancel is not None:
                cancel.raise_if_cancelled()
            pause.wait(POLL_S)

    @staticmethod
    def _holder_message(f: IO[bytes]) -> str:
        f.seek(0)
        pid, _, doing = f.read(200).decode("utf-8", "replace").strip().partition(" ")
        who = f"another Photosift process (pid {pid})" if pid.isdigit() else "another Photosift process"
        return f"Waiting for {who} that is {doing or 'working on'} this library to finish."


def _note(f: IO[bytes], text: str) -> None:
    """Say who holds the lock, for the message of a run that waits (best effort)."""
    with contextlib.suppress(OSError):
        f.truncate(0)
        f.write(text.encode())
        f.flush()
