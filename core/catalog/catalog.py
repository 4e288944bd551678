"""The catalog API: everything the scanner, indexer and search read from and write to SQLite.

Writes happen on one thread at a time (the scanner or the indexer's writer); reads may come from
any thread. Every method opens its own short transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from photosift.core.catalog import readonly
from photosift.core.catalog import schema as s
from photosift.core.catalog.database import chunks, open_engine, write_transaction
from photosift.core.catalog.embeddings import EmbeddingRows
from photosift.core.catalog.nesting import merge_nested, refuse_inside_watched
from photosift.core.catalog.records import (
    FileRecord,
    FileState,
    FolderInfo,
    KnownPhoto,
    PhotoInfo,
    ScanChanges,
)
from photosift.core.errors import FolderNotFoundError


def absolute_path(path: Path | str) -> str:
    """The form in which the catalog stores folder and file paths: absolute, `~` expanded, symlinks
    NOT resolved, so a folder reached through a link keeps the path the user chose. Every lookup by
    path goes through here so that it matches what the scanner stored."""
    return os.path.abspath(os.path.expanduser(path))


class Catalog(EmbeddingRows):
    """The photo catalog in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine: Engine = open_engine(path)

    def close(self) -> None:
        self.engine.dispose()

    # Folders ------------------------------------------------------------------------------------

    def add_folder(self, path: Path) -> FolderInfo:
        """Register a folder to index (idempotent). Raises FolderNotFoundError if it is not a folder, and
        UserError if it lies inside a watched folder; watched folders inside it are merged into it."""
        resolved = Path(absolute_path(path))
        if not resolved.is_dir():
            raise FolderNotFoundError(f"The folder {resolved} does not exist or is not a folder.")
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(s.folders.c.id).where(s.folders.c.path == str(resolved))).first()
            if row is None:
                refuse_inside_watched(conn, str(resolved))
                conn.execute(insert(s.folders).values(path=str(resolved), status="ok", added_at=datetime.now()))
                merge_nested(conn)  # watched folders inside the new one are taken in, files and all
        return self.folder_by_path(str(resolved))

    def merge_nested_folders(self) -> list[str]:
        """Fold watched folders that lie inside others into them (catalogs from before nesting was
        refused); returns the paths folded."""
        with write_transaction(self.engine) as conn:
            return merge_nested(conn)

    def remove_folder(self, folder_id: int) -> list[int]:
        """Forget a folder and its files (never touching them on disk); returns the ids of photos deleted."""
        with write_transaction(self.engine) as conn:
            conn.execute(delete(s.files).where(s.files.c.folder_id == folder_id))
            conn.execute(delete(s.folders).where(s.folders.c.id == folder_id))
            return self._delete_orphans(conn)

    def folders(self) -> list[FolderInfo]:
        with self.engine.connect() as conn:
            return readonly.folders(conn.connection.driver_connection)  # the query `photosift status` runs too

    def folder_by_path(self, path: str) -> FolderInfo:
        for folder in self.folders():
            if folder.path == path:
                return folder
        raise FolderNotFoundError(f"The folder {path} is not in the library.")

    def set_folder_status(self, folder_id: int, status: str, scanned: bool = False) -> None:
        values: dict[str, object] = {"status": status}
        if scanned:
            values["scanned_at"] = datetime.now()
        with write_transaction(self.engine) as conn:
            conn.execute(update(s.folders).where(s.folders.c.id == folder_id).values(**values))

    # Files and photos for the scanner -------------------------------------------------------------

    def files_in_folder(self, folder_id: int) -> dict[str, FileRecord]:
        query = select(s.files).where(s.files.c.folder_id == folder_id)
        with self.engine.connect() as conn:
            return {r.path: FileRecord(r.id, r.photo_id, r.path, r.size, r.mtime_ns) for r in conn.execute(query)}

    def photos_by_fingerprint(self, fingerprints: Iterable[str]) -> dict[str, list[KnownPhoto]]:
        """Existing photos whose fingerprint is one of `fingerprints`, with all their files."""
        wanted = sorted(set(fingerprints))
        found: dict[int, tuple[str, str | None, list[FileRecord]]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                query = (
                    select(s.photos.c.id, s.photos.c.fingerprint, s.photos.c.content_hash, s.files)
                    .join(s.files, s.files.c.photo_id == s.photos.c.id)
                    .where(s.photos.c.fingerprint.in_(chunk))
                )
                for r in conn.execute(query):
                    entry = found.setdefault(r[0], (r.fingerprint, r.content_hash, []))
                    entry[2].append(FileRecord(r.id_1, r.photo_id, r.path, r.size, r.mtime_ns))
        result: dict[str, list[KnownPhoto]] = {}
        for photo_id, (fingerprint, content_hash, file_records) in found.items():
            result.setdefault(fingerprint, []).append(KnownPhoto(photo_id, content_hash, tuple(file_records)))
        return result

    def apply_scan(self, folder_id: int, changes: ScanChanges) -> list[int]:
        """Apply a folder scan's decisions atomically; returns the ids of photos deleted."""
        with write_transaction(self.engine) as conn:
            # Deletes first, then moves, then inserts: a new file may take the path a deleted or moved one had.
            for chunk in chunks(changes.deleted_file_ids):
                conn.execute(delete(s.files).where(s.files.c.id.in_(chunk)))
            for file_id, state in changes.moved_files:
                conn.execute(
                    update(s.files)
                    .where(s.files.c.id == file_id)
                    .values(path=state.path, folder_id=folder_id, size=state.size, mtime_ns=state.mtime_ns)
                )
            for file_id, state in changes.touched_files:
                conn.execute(
                    update(s.files).where(s.files.c.id == file_id).values(size=state.size, mtime_ns=state.mtime_ns)
                )
            # A failed photo whose file moved or was touched is tried again: what failed may have been fixed.
            for chunk in chunks([file_id for file_id, _ in changes.moved_files + changes.touched_files]):
                seen_again = select(s.files.c.photo_id).where(s.files.c.id.in_(chunk))
                conn.execute(
                    update(s.photos)
                    .where(s.photos.c.status == "failed", s.photos.c.id.in_(seen_again))
                    .values(status="pending", error=None)
                )
            for photo in changes.new_photos:
                values = {"fingerprint": photo.fingerprint, "size": photo.size, "content_hash": photo.content_hash}
                photo_id = conn.execute(
                    insert(s.photos).values(**values, status="pending").returning(s.photos.c.id)
                ).scalar_one()
                self._insert_files(conn, folder_id, [(photo_id, f) for f in photo.files])
            self._insert_files(conn, folder_id, changes.new_files)
            for photo_id, content_hash in changes.content_hashes.items():
                conn.execute(update(s.photos).where(s.photos.c.id == photo_id).values(content_hash=content_hash))
            return self._delete_orphans(conn)

    def delete_missing(self, records: Sequence[FileRecord]) -> list[int]:
        """Delete files that scans found gone, unless a move re-pointed them since; returns deleted photo ids."""
        with write_transaction(self.engine) as conn:
            for record in records:
                conn.execute(delete(s.files).where(s.files.c.id == record.id, s.files.c.path == record.path))
            return self._delete_orphans(conn)

    @staticmethod
    def _insert_files(conn: Connection, folder_id: int, rows: Sequence[tuple[int, FileState]]) -> None:
        if rows:
            conn.execute(
                insert(s.files),
                [
                    {"photo_id": pid, "folder_id": folder_id, "path": f.path, "size": f.size, "mtime_ns": f.mtime_ns}
                    for pid, f in rows
                ],
            )

    @staticmethod
    def _delete_orphans(conn: Connection) -> list[int]:
        """Delete photos that no file points to any more, with their embeddings."""
        orphans = select(s.photos.c.id).where(~s.photos.c.id.in_(select(s.files.c.photo_id)))
        orphan_ids = [r[0] for r in conn.execute(orphans)]
        hit_models: set[int] = set()
        for chunk in chunks(orphan_ids):
            hit = select(func.distinct(s.embeddings.c.model_id)).where(s.embeddings.c.photo_id.in_(chunk))
            hit_models.update(conn.execute(hit).scalars())
            conn.execute(delete(s.embeddings).where(s.embeddings.c.photo_id.in_(chunk)))
            conn.execute(delete(s.photos).where(s.photos.c.id.in_(chunk)))
        if hit_models:  # once per transaction, so a generation step is one transaction's change
            bump = update(s.models).where(s.models.c.id.in_(hit_models))
            conn.execute(bump.values(generation=s.models.c.generation + 1))
        return orphan_ids

    def retry_failed(self, errors: Iterable[str] | None = None) -> int:
        """Mark failed photos pending again: all, or those failed with one of `errors` (a codec installed
        since, a file that was missing); returns how many."""
        query = update(s.photos).where(s.photos.c.status == "failed")
        if errors is not None:
            query = query.where(s.photos.c.error.in_(list(errors)))
        with write_transaction(self.engine) as conn:
            return conn.execute(query.values(status="pending", error=None)).rowcount

    # Queries for search and status ------------------------------------------------------------------

    def photo(self, photo_id: int) -> PhotoInfo | None:
        found = self.photos([photo_id])
        return found.get(photo_id)

    def photos(self, photo_ids: Sequence[int]) -> dict[int, PhotoInfo]:
        rows: dict[int, PhotoInfo] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(photo_ids)):
                paths: dict[int, list[str]] = {}
                for r in conn.execute(select(s.files.c.photo_id, s.files.c.path).where(s.files.c.photo_id.in_(chunk))):
                    paths.setdefault(r.photo_id, []).append(r.path)
                for r in conn.execute(select(s.photos).where(s.photos.c.id.in_(chunk))):
                    rows[r.id] = PhotoInfo(
                        r.id,
                        tuple(sorted(paths.get(r.id, []))),
                        r.size,
                        r.width,
                        r.height,
                        r.taken_at,
                        r.camera,
                        r.gps_lat,
                        r.gps_lon,
                        r.status,
                        r.error,
                    )
        return rows

    def photo_ids(self) -> set[int]:
        """Every photo id in the catalog (caches keyed by photo drop the rest)."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(s.photos.c.id)).scalars())

    def has_photos(self) -> bool:
        """Whether the catalog holds any photo: one row looked up, where counting would read them all."""
        with self.engine.connect() as conn:
            return conn.execute(select(s.photos.c.id).limit(1)).first() is not None

    def photo_id_for_path(self, path: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(select(s.files.c.photo_id).where(s.files.c.path == path)).scalar()

    def failures(self, limit: int = 100, folder_id: int | None = None) -> list[PhotoInfo]:
        """Photos that could not be read, in the order they were found: all, or those with a file in one folder."""
        query = select(s.photos.c.id).where(s.photos.c.status == "failed")
        if folder_id is not None:
            query = query.where(s.photos.c.id.in_(select(s.files.c.photo_id).where(s.files.c.folder_id == folder_id)))
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(query.order_by(s.photos.c.id).limit(limit))]
        found = self.photos(ids)
        return [found[i] for i in ids if i in found]

    def counts(self, model_id: int | None = None) -> dict[str, int]:
        """Photo counts by status, plus `files`, and `embedded` for the given model."""
        with self.engine.connect() as conn:
            return readonly.photo_counts(conn.connection.driver_connection, model_id)
