"""Atomic file writes: readers, and a crash at any moment, see the old file or the new one, never a mix.

Every file Photosift writes whole (settings, specs, the vector index, checkpoints, exports) goes through
`atomic_writer`: the content goes to a temporary file in the target's own folder (a rename is atomic only
within one file system), is flushed and fsynced, then `os.replace`d over the target, and the folder is
fsynced so the rename itself survives a power cut. The result has the permissions of the file it replaces,
or a new file's usual ones (0666 less the umask). Temporary names are unique (created exclusively, with a
random part), so two threads or processes writing the same target never share one, and they follow one
pattern, `.{target name}.{writer's pid}-{random}.tmp`, so that `remove_stale_temps` can find what a killed
process left behind. An output of several files that are only usable together (an onnx export) is written
into a temporary folder and renamed into place whole, by `atomic_folder`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from photosift.core.errors import EnvironmentFault

TEMP_SUFFIX = ".tmp"
# A temporary file untouched for this long belongs to a writer that died: even a 1 GB index streams out
# in seconds, while a concurrent writer in another process touches its file continuously.
STALE_AFTER_S = 600.0


@contextlib.contextmanager
def atomic_writer(path: Path, what: str) -> Iterator[BinaryIO]:
    """Open a temporary binary file that replaces `path` when the block ends without an exception.

    Args:
        path: the file to write; its folder is created if missing.
        what: what the file is, for the error message ("the search index", "the settings").

    Raises:
        EnvironmentFault: the file could not be written (disk full, permissions, read-only medium); the
            target is left as it was and the temporary file is removed.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = _new_temp_file(path)
        replaced_mode = _mode_of(path)
    except OSError as err:
        raise _fault(what, path, err) from err
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if replaced_mode is not None:
            os.chmod(tmp_name, replaced_mode)
        os.replace(tmp_name, path)
        _fsync_folder(path.parent)
    except OSError as err:
        Path(tmp_name).unlink(missing_ok=True)
        raise _fault(what, path, err) from err
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _new_temp_file(path: Path) -> tuple[int, str]:
    """Create a uniquely named temporary file beside `path`, open for writing: (descriptor, name).

    Created with mode 0666 less the umask, as a plain `open` creates a file: `mkstemp`'s 0600 would make
    every new file Photosift writes, exported CSVs and XMP sidecars included, readable by its owner alone.
    """
    for _ in range(100):  # a 48-bit random part: a clash is a freak, never a loop
        name = str(path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def _mode_of(path: Path) -> int | None:
    """The permission bits of the file a write replaces (kept, as an editor keeps them), or None if new."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def write_bytes(path: Path, data: bytes, what: str) -> None:
    """Replace `path` with `data` atomically (see `atomic_writer`)."""
    with atomic_writer(path, what) as f:
        f.write(data)


def write_text(path: Path, text: str, what: str) -> None:
    """Replace `path` with `text` in UTF-8 atomically (see `atomic_writer`)."""
    write_bytes(path, text.encode("utf-8"), what)


@contextlib.contextmanager
def atomic_folder(path: Path, what: str) -> Iterator[Path]:
    """Yield a new, empty temporary folder beside `path` that becomes `path` when the block ends without
    an exception (its files fsynced first), so readers see the whole output or none of it.

    On an exception the temporary folder is removed and `path` left as it was.

    Raises:
        EnvironmentFault: the folder could not be made, written or renamed into place (disk full,
            permissions, or a non-empty folder already at `path`: one folder is never renamed over another).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=TEMP_SUFFIX))
    except OSError as err:
        raise _fault(what, path, err) from err
    try:
        yield scratch
        for file in scratch.rglob("*"):
            if file.is_file():
                _fsync_file(file)
        os.rename(scratch, path)
        _fsync_folder(path.parent)
    except OSError as err:
        raise _fault(what, path, err) from err
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # gone already when renamed


def remove_stale_temps(folder: Path, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete the temporary files (and `atomic_folder`'s folders) that writers killed mid-write left in
    `folder`; returns those removed.

    One of `atomic_writer`'s pattern goes when the process named in it is gone (killed mid-write), or,
    where that cannot be told, once it is untouched for `older_than_s`; a write in progress in another
    process is never pulled from under it. Entries that vanish or cannot be removed meanwhile are skipped:
    this is tidying, never a reason to fail.
    """
    removed = []
    now = time.time()
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return []
    for candidate in candidates:
        try:
            stale = _writer_is_gone(candidate.name) or now - _last_touched(candidate) >= older_than_s
            if stale and candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate)
            elif stale and candidate.is_file():
                candidate.unlink()
            else:
                continue
            removed.append(candidate)
        except OSError:
            continue
    return removed


def _last_touched(path: Path) -> float:
    """When a temporary file, or a temporary folder or any file in it, was last written."""
    if not path.is_dir():
        return path.stat().st_mtime
    return max([path.stat().st_mtime, *(p.stat().st_mtime for p in path.rglob("*"))])


def _writer_is_gone(name: str) -> bool:
    """Whether the pid in a temporary file's name (`.target.PID-random.tmp`) is no running process."""
    pid = name.removesuffix(TEMP_SUFFIX).rpartition(".")[2].partition("-")[0]
    if not pid.isdigit() or os.name == "nt" or int(pid) == os.getpid():
        return False  # Windows has no signal 0 to ask with; our own writes are in progress
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, but another user's
        return False
    return False


def _fault(what: str, path: Path, err: OSError) -> EnvironmentFault:
    return EnvironmentFault(f"Could not save {what} to {path}: {err.strerror or err}.", details=repr(err))


def _fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    if os.name == "nt":  # Windows cannot open a folder as a file; NTFS journals the rename.
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
