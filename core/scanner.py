"""Reconcile a folder tree with the catalog: new, changed, moved, copied and deleted files.

Unchanged files cost one stat (no read): the walk's (size, mtime) is compared with the catalog's.
New and changed files are fingerprinted (head and tail of the file); a fingerprint that matches a
photo whose old file is gone is a move, so the photo keeps its identity and its embeddings.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from photosift.core.catalog import Catalog, FolderInfo
from photosift.core.catalog.records import FileRecord, FileState, KnownPhoto, NewPhoto, ScanChanges
from photosift.core.catalog.skipped import SkippedFile, record_skipped
from photosift.core.errors import ImageError
from photosift.core.fingerprint import content_hash, fingerprint
from photosift.core.imageio import PHOTO_EXTENSIONS
from photosift.core.parallel import map_ahead
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress

# Folders that hold system or application data, not photos (NAS thumbnails, recycle bins, ...).
SKIPPED_FOLDER_NAMES = frozenset(
    {"@eaDir", "$RECYCLE.BIN", "System Volume Information", "lost+found", "__MACOSX", "node_modules"}
)
# Fingerprinting is I/O-bound; a few threads hide latency on network shares and spinning disks.
FINGERPRINT_THREADS = 4
FINGERPRINT_LOOKAHEAD = 64  # files submitted ahead of the one being recorded: keeps every thread busy


@dataclass(frozen=True)
class ScanReport:
    """What one folder scan found."""

    folder: str
    offline: bool = False
    added: int = 0
    changed: int = 0
    moved: int = 0
    unchanged: int = 0
    errors: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (path, reason)
    # Files gone from this folder. Deleted only after every folder was scanned (`Catalog.delete_missing`),
    # so a photo moved into another watched folder is found there as a move, not deleted and re-embedded.
    missing: tuple[FileRecord, ...] = field(default_factory=tuple)
    deleted_photo_ids: tuple[int, ...] = field(default_factory=tuple)  # photos whose only file changed content


def _is_hidden(name: str, entry_stat: os.stat_result | None) -> bool:
    if name.startswith(".") or name in SKIPPED_FOLDER_NAMES:
        return True
    attributes = getattr(entry_stat, "st_file_attributes", 0) if entry_stat else 0
    hidden_or_system = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 2) | getattr(stat, "FILE_ATTRIBUTE_SYSTEM", 4)
    return bool(attributes & hidden_or_system)


def walk_photos(
    root: Path,
    excluded: frozenset[str] = frozenset(),
    errors: list[tuple[str, str]] | None = None,
    skipped: list[SkippedFile] | None = None,
) -> Iterator[FileState]:
    """Yield every photo file under `root`, skipping hidden/system folders and `excluded` paths.

    Directory symlinks are followed, but each real directory is entered once, so symlink loops end.
    Entries named like photos that are not files to read (pipes, sockets, devices, links that lead
    nowhere) are added to `skipped` with the reason.
    """
    seen_dirs: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen_dirs:
                continue
            seen_dirs.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(folder))
        except OSError as exc:
            if errors is not None and folder != str(root):
                errors.append((folder, f"cannot read the folder: {exc.strerror or exc}"))
            if folder == str(root):
                raise
            continue
        for entry in entries:
            named_like_a_photo = os.path.splitext(entry.name)[1].lower() in PHOTO_EXTENSIONS
            try:
                entry_stat = entry.stat()
            except OSError as exc:  # a dangling or looping symlink, or a file deleted during the walk
                if skipped is not None and named_like_a_photo and entry.is_symlink():
                    skipped.append(SkippedFile(entry.path, _broken_link(exc)))
                continue
            if _is_hidden(entry.name, entry_stat):
                continue
            if stat.S_ISDIR(entry_stat.st_mode):
                if entry.path not in excluded:
                    stack.append(entry.path)
            elif named_like_a_photo and stat.S_ISREG(entry_stat.st_mode):
                yield FileState(entry.path, entry_stat.st_size, entry_stat.st_mtime_ns)
            elif named_like_a_photo and skipped is not None:
                skipped.append(SkippedFile(entry.path, _not_a_file(entry_stat.st_mode)))


def _broken_link(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "skipped: a link that loops back on itself"
    return "skipped: a link to a file that does not exist"


def _not_a_file(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "skipped: a named pipe, not a file"
    if stat.S_ISSOCK(mode):
        return "skipped: a socket, not a file"
    return "skipped: a device, not a file"


class _Matcher:
    """Decides, for fingerprinted files, whether each is a move, a copy, or a new photo."""

    def __init__(self, known: dict[str, list[KnownPhoto]], missing: dict[str, FileRecord], changes: ScanChanges):
        self.known = known
        self.missing = missing
        self.changes = changes
        self.claimed: set[int] = set()  # file rows already re-pointed by a move in this scan

    def place(self, state: FileState, fp: str, new_by_fp: dict[str, list[NewPhoto]]) -> str:
        """Record what `state` is; returns "moved", "copy" or "added"."""
        for photo in self.known.get(fp, []):
            stale = self._stale_file(photo)
            if stale is not None:
                self.claimed.add(stale.id)
                self.missing.pop(stale.path, None)
                self.changes.moved_files.append((stale.id, state))
                return "moved"
            if self._same_content(photo, state):
                self.changes.new_files.append((photo.id, state))
                return "copy"
        for index, fresh in enumerate(new_by_fp.get(fp, [])):
            if content_hash(Path(fresh.files[0].path)) == content_hash(Path(state.path)):
                new_by_fp[fp][index] = NewPhoto(fp, fresh.size, (*fresh.files, state))
                return "copy"
        new_by_fp.setdefault(fp, []).append(NewPhoto(fp, state.size, (state,)))
        return "added"

    def _stale_file(self, photo: KnownPhoto) -> FileRecord | None:
        """A file of `photo` that is gone from disk (so the new file is that photo, moved)."""
        for record in photo.files:
            if record.id in self.claimed:
                continue
            if record.path in self.missing or not os.path.exists(record.path):
                return record
        return None

    def _same_content(self, photo: KnownPhoto, state: FileState) -> bool:
        """Settle a fingerprint match against a photo whose files all still exist, by full hash."""
        expected = photo.content_hash or self.changes.content_hashes.get(photo.id)
        if expected is None:
            expected = content_hash(Path(photo.files[0].path))
            self.changes.content_hashes[photo.id] = expected
        return content_hash(Path(state.path)) == expected


def _fingerprint_all(
    states: list[FileState], progress: ProgressCallback, cancel: CancelToken | None
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Fingerprint files in parallel; returns ({path: fingerprint}, [(path, error)])."""

    def one(state: FileState) -> tuple[str, str | None, str | None]:
        try:
            return state.path, fingerprint(Path(state.path), state.size), None
        except ImageError as exc:
            return state.path, None, str(exc)

    result: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    fingerprints = map_ahead(one, states, FINGERPRINT_THREADS, FINGERPRINT_LOOKAHEAD, name="fingerprint")
    with closing(fingerprints):  # on cancel, only the files in flight are finished
        for done, (path, fp, error) in enumerate(fingerprints, start=1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if fp is not None:
                result[path] = fp
            else:
                errors.append((path, error or "cannot read the file"))
            if done % 256 == 0 or done == len(states):
                progress(Progress("fingerprint", done, len(states)))
    return result, errors


def scan_folder(
    catalog: Catalog,
    folder: FolderInfo,
    excluded: frozenset[str] = frozenset(),
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ScanReport:
    """Bring the catalog in line with what is on disk under `folder`.

    A folder that is missing (unplugged drive, unmounted share) is marked offline and its photos are
    kept; nothing is deleted until the folder is back or the user removes it.
    """
    catalog.merge_nested_folders()
    if folder.id not in {f.id for f in catalog.folders()}:  # folded into a folder above it, or removed
        return ScanReport(folder.path)
    root = Path(folder.path)
    walk_errors: list[tuple[str, str]] = []
    skipped: list[SkippedFile] = []
    try:
        on_disk = {state.path: state for state in walk_photos(root, excluded, walk_errors, skipped)}
    except OSError:
        catalog.set_folder_status(folder.id, "offline")
        return ScanReport(folder.path, offline=True)
    progress(Progress("scan", len(on_disk), len(on_disk), message=folder.path))
    known_files = catalog.files_in_folder(folder.id)
    missing = {path: record for path, record in known_files.items() if path not in on_disk}
    unchanged, touched_or_new = 0, []
    for path, state in on_disk.items():
        record = known_files.get(path)
        if record is not None and record.size == state.size and record.mtime_ns == state.mtime_ns:
            unchanged += 1
        else:
            touched_or_new.append(state)
    fingerprints, fp_errors = _fingerprint_all(touched_or_new, progress, cancel)
    changes, counts = _decide(catalog, known_files, missing, touched_or_new, fingerprints, cancel)
    if not root.is_dir():  # vanished during the scan: keep everything rather than delete it all
        catalog.set_folder_status(folder.id, "offline")
        return ScanReport(folder.path, offline=True)
    deleted = catalog.apply_scan(folder.id, changes)
    record_skipped(catalog.engine, folder.id, skipped)
    catalog.set_folder_status(folder.id, "ok", scanned=True)
    return ScanReport(
        folder.path,
        added=counts["added"] + counts["copy"],
        changed=counts["changed"],
        moved=counts["moved"],
        unchanged=unchanged + counts["touched"],
        errors=tuple(walk_errors + fp_errors),
        missing=tuple(missing.values()),
        deleted_photo_ids=tuple(deleted),
    )


def _decide(
    catalog: Catalog,
    known_files: dict[str, FileRecord],
    missing: dict[str, FileRecord],
    states: list[FileState],
    fingerprints: dict[str, str],
    cancel: CancelToken | None,
) -> tuple[ScanChanges, dict[str, int]]:
    """Classify fingerprinted files into touched, changed, moved, copied and added."""
    changes = ScanChanges.empty()
    counts = dict.fromkeys(("added", "copy", "moved", "changed", "touched"), 0)
    matcher = _Matcher(catalog.photos_by_fingerprint(fingerprints.values()), missing, changes)
    own_fingerprints = {r.id: fp for r, fp in _current_fingerprints(matcher.known, known_files)}
    new_by_fp: dict[str, list[NewPhoto]] = {}
    for state in states:
        if cancel is not None:
            cancel.raise_if_cancelled()
        fp = fingerprints.get(state.path)
        if fp is None:
            continue
        record = known_files.get(state.path)
        if record is not None and own_fingerprints.get(record.id) == fp:
            changes.touched_files.append((record.id, state))
            counts["touched"] += 1
            continue
        if record is not None:  # same path, new content: the old file row goes, the content is placed anew
            changes.deleted_file_ids.append(record.id)
            matcher.claimed.add(record.id)
            counts["changed"] += 1
        kind = _place_safely(matcher, state, fp, new_by_fp)
        if record is None and kind is not None:
            counts[kind] += 1
    changes.new_photos.extend(photo for group in new_by_fp.values() for photo in group)
    return changes, counts


def _place_safely(matcher: _Matcher, state: FileState, fp: str, new_by_fp: dict[str, list[NewPhoto]]) -> str | None:
    try:
        return matcher.place(state, fp, new_by_fp)
    except ImageError:  # the file vanished between fingerprint and full hash; the next scan sees it
        return None


def _current_fingerprints(
    known: dict[str, list[KnownPhoto]], known_files: dict[str, FileRecord]
) -> Iterator[tuple[FileRecord, str]]:
    """(file, fingerprint of its photo) for known files of this folder whose photo matched a fingerprint."""
    for fp, photos in known.items():
        for photo in photos:
            for record in photo.files:
                if record.path in known_files:
                    yield record, fp
