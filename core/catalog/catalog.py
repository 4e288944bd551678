"""The catalog API: everything the scanner, indexer and search read from and write to SQLite.

Writes happen on one thread at a time (the scanner or the indexer's writer); reads may come from
any thread. Every method opens its own short transaction.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import open_engine, read_transaction, write_transaction
from photosift.core.catalog.nesting import merge_nested, refuse_inside_watched
from photosift.core.catalog.records import (
    FileRecord,
    FileState,
    FolderInfo,
    KnownPhoto,
    PhotoInfo,
    PhotoResult,
    ScanChanges,
)
from photosift.core.errors import FolderNotFoundError, ModelMismatchError

VectorReader = Callable[[int, int], np.ndarray]  # (start, stop) -> the vectors of ids[start:stop]
_RANGE_OF_VECTORS = "SELECT vector FROM embeddings WHERE +model_id = ? AND photo_id BETWEEN ? AND ? ORDER BY photo_id"

# SQLite limits bound parameters per statement; chunk IN (...) lists well below it.
IN_CHUNK = 500


def absolute_path(path: Path | str) -> str:
    """The form in which the catalog stores folder and file paths: absolute, `~` expanded, symlinks
    NOT resolved, so a folder reached through a link keeps the path the user chose. Every lookup by
    path goes through here so that it matches what the scanner stored."""
    return os.path.abspath(os.path.expanduser(path))


def _chunks(items: Sequence[object], size: int = IN_CHUNK) -> Iterator[Sequence[object]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# float16 halves the database against float32; cosine scores move by ~1e-3, far below ranking noise.
STORAGE_DTYPE = np.float16


def as_stored(vectors: np.ndarray) -> np.ndarray:
    """Vectors rounded exactly as the catalog stores them, so an index built from fresh results ranks
    the same as one rebuilt from SQLite."""
    return np.asarray(vectors, dtype=STORAGE_DTYPE).astype(np.float32)


def _generation(conn: Connection, model_id: int) -> int:
    return int(conn.execute(select(s.models.c.generation).where(s.models.c.id == model_id)).scalar_one())


def _encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=STORAGE_DTYPE).tobytes()


def _decode_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=STORAGE_DTYPE).reshape(len(blobs), dim).astype(np.float32)


class Catalog:
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
        counts = (
            select(
                s.files.c.folder_id,
                func.count(func.distinct(s.files.c.photo_id)).label("photos"),
                func.count(func.distinct(s.photos.c.id)).filter(s.photos.c.status == "failed").label("failed"),
            )
            .join(s.photos, s.photos.c.id == s.files.c.photo_id)
            .group_by(s.files.c.folder_id)
            .subquery()
        )
        query = (
            select(s.folders, counts.c.photos, counts.c.failed)
            .outerjoin(counts, counts.c.folder_id == s.folders.c.id)
            .order_by(s.folders.c.path)
        )
        with self.engine.connect() as conn:
            return [
                FolderInfo(r.id, r.path, r.status, r.photos or 0, r.failed or 0, r.scanned_at)
                for r in conn.execute(query)
            ]

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
            for chunk in _chunks(wanted):
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
            for chunk in _chunks(changes.deleted_file_ids):
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
            for chunk in _chunks([file_id for file_id, _ in changes.moved_files + changes.touched_files]):
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
        for chunk in _chunks(orphan_ids):
            hit = select(func.distinct(s.embeddings.c.model_id)).where(s.embeddings.c.photo_id.in_(chunk))
            hit_models.update(conn.execute(hit).scalars())
            conn.execute(delete(s.embeddings).where(s.embeddings.c.photo_id.in_(chunk)))
            conn.execute(delete(s.photos).where(s.photos.c.id.in_(chunk)))
        if hit_models:  # once per transaction, so a generation step is one transaction's change
            bump = update(s.models).where(s.models.c.id.in_(hit_models))
            conn.execute(bump.values(generation=s.models.c.generation + 1))
        return orphan_ids

    # Models and embeddings -----------------------------------------------------------------------

    def ensure_model(self, key: str, name: str, dim: int) -> int:
        """The id of the model with this spec key, registering it on first use."""
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(s.models).where(s.models.c.key == key)).first()
            if row is None:
                insert_model = insert(s.models).values(key=key, name=name, dim=dim, generation=0)
                return int(conn.execute(insert_model.returning(s.models.c.id)).scalar_one())
            if row.dim != dim:
                raise ModelMismatchError(
                    f"The catalog holds {row.dim}-d embeddings for model {name}, but it now produces {dim}-d ones."
                )
            return int(row.id)

    def generation(self, model_id: int) -> int:
        """A counter of the changes to this model's embeddings: every transaction that adds or deletes
        some moves it on by exactly one. The vector index is saved with it (see core.library_index)."""
        with self.engine.connect() as conn:
            return _generation(conn, model_id)

    def pending_photos(self, model_id: int) -> list[tuple[int, str]]:
        """Photos with no embedding for this model and no recorded failure, each with one of its paths."""
        has_vector = select(s.embeddings.c.photo_id).where(s.embeddings.c.model_id == model_id)
        query = (
            select(s.photos.c.id, func.min(s.files.c.path))
            .join(s.files, s.files.c.photo_id == s.photos.c.id)
            .where(s.photos.c.status != "failed", ~s.photos.c.id.in_(has_vector))
            .group_by(s.photos.c.id)
            .order_by(s.photos.c.id)
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1])) for r in conn.execute(query)]

    def write_results(self, model_id: int, results: Sequence[PhotoResult]) -> tuple[int, int] | None:
        """Store one batch of indexing results (metadata, vectors, failures) in one transaction.

        Returns:
            The model's generation before and after the batch, or None when it stored no vector (the
            generation did not move): the caller's vector index knows whether it saw every step between.
        """
        with write_transaction(self.engine) as conn:
            live = {
                r[0]
                for r in conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_([r.photo_id for r in results])))
            }
            vectors = []
            for result in results:
                if result.photo_id not in live:  # deleted by a scan while it was being embedded
                    continue
                values: dict[str, object] = {"status": "failed" if result.error else "ok", "error": result.error}
                if result.metadata is not None:
                    m = result.metadata
                    values.update(
                        width=m.width,
                        height=m.height,
                        taken_at=m.taken_at,
                        camera=m.camera,
                        gps_lat=m.gps_lat,
                        gps_lon=m.gps_lon,
                        orientation=m.orientation,
                    )
                conn.execute(update(s.photos).where(s.photos.c.id == result.photo_id).values(**values))
                if result.vector is not None:
                    vectors.append(
                        {"photo_id": result.photo_id, "model_id": model_id, "vector": _encode_vector(result.vector)}
                    )
            if not vectors:
                return None
            conn.execute(insert(s.embeddings).prefix_with("OR REPLACE"), vectors)
            before = _generation(conn, model_id)
            conn.execute(update(s.models).where(s.models.c.id == model_id).values(generation=before + 1))
            return before, before + 1

    def embeddings(self, model_id: int, photo_ids: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, float32 vectors) of this model's embeddings, all or for the given photos."""
        with self.engine.connect() as conn:
            return self._embeddings(conn, model_id, photo_ids)

    @contextlib.contextmanager
    def embedding_snapshot(self, model_id: int) -> Iterator[tuple[int, np.ndarray, VectorReader]]:
        """(generation, sorted ids, reader) of this model's embeddings in one snapshot, so the generation
        says exactly which state they are (to build a vector index from). `reader(start, stop)` gives the
        float32 vectors of ids[start:stop]: read whole, a million 1152-d embeddings held 2.3 GB of blobs
        beside 4.6 GB of float32 (9 GB at the peak); a range at a time holds one range."""
        column = s.embeddings.c.photo_id
        query = select(column).where(s.embeddings.c.model_id == model_id).order_by(column)
        with read_transaction(self.engine) as conn:
            dim = int(conn.execute(select(s.models.c.dim).where(s.models.c.id == model_id)).scalar_one())
            ids = np.fromiter(conn.execute(query).scalars(), dtype=np.int64)

            def reader(start: int, stop: int) -> np.ndarray:
                # `+model_id` keeps SQLite off the model_id index, which read every vector of the model for
                # each range (46 GB read at a million photos): the primary key's photo_id range is the plan.
                rows = conn.exec_driver_sql(_RANGE_OF_VECTORS, (model_id, int(ids[start]), int(ids[stop - 1])))
                return _decode_vectors([r[0] for r in rows], dim)

            yield _generation(conn, model_id), ids, reader

    def embedding_ids_at(self, model_id: int) -> tuple[int, np.ndarray]:
        """(generation, sorted photo ids) of this model's embeddings, read in one snapshot."""
        query = select(s.embeddings.c.photo_id).where(s.embeddings.c.model_id == model_id)
        with read_transaction(self.engine) as conn:
            ids = np.fromiter(conn.execute(query).scalars(), dtype=np.int64)
            return _generation(conn, model_id), np.sort(ids)

    @staticmethod
    def _embeddings(conn: Connection, model_id: int, photo_ids: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
        dim_query = select(s.models.c.dim).where(s.models.c.id == model_id)
        query = select(s.embeddings.c.photo_id, s.embeddings.c.vector).where(s.embeddings.c.model_id == model_id)
        dim = int(conn.execute(dim_query).scalar_one())
        if photo_ids is None:
            rows = list(conn.execute(query.order_by(s.embeddings.c.photo_id)))
        else:
            rows = [
                r for chunk in _chunks(photo_ids) for r in conn.execute(query.where(s.embeddings.c.photo_id.in_(chunk)))
            ]
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        return ids, _decode_vectors([r[1] for r in rows], dim)

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
            for chunk in _chunks(list(photo_ids)):
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
        """Photo counts by status, plus `embedded` for the given model."""
        with self.engine.connect() as conn:
            counts = {
                r[0]: int(r[1])
                for r in conn.execute(select(s.photos.c.status, func.count()).group_by(s.photos.c.status))
            }
            counts["files"] = int(conn.execute(select(func.count()).select_from(s.files)).scalar_one())
            if model_id is not None:
                counts["embedded"] = int(
                    conn.execute(select(func.count()).where(s.embeddings.c.model_id == model_id)).scalar_one()
                )
        return counts
