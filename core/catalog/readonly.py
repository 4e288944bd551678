"""The catalog's reads that `photosift status` and the listings need, in SQL text that runs on the standard
library's sqlite3 alone.

Importing SQLAlchemy (0.43 s of CPU) and numpy (0.17 s) cost more than the half second those commands
may take (issue 15), so they open the catalog read-only here when it is already at the code's schema
revision. The SQLAlchemy side runs the same statements (`Catalog.counts`, `Catalog.folders`,
`stored_models`, the OCR store's pending count, `AlbumStore.albums`, `TagStore.tags`), so each question
has one query. Nothing here writes: a catalog that is missing, older or locked is left to the full
path, which creates or migrates it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# How long a read waits for a writer's lock before the command takes the full path (which waits longer).
READ_TIMEOUT_S = 2.0

PHOTO_STATUSES = "SELECT status, count(*) FROM photos GROUP BY status"
FILE_COUNT = "SELECT count(*) FROM files"
EMBEDDED_COUNT = "SELECT count(*) FROM embeddings WHERE model_id = :model_id"
FOLDERS = """
SELECT folders.id, folders.path, folders.status, counts.photos, counts.failed, folders.scanned_at
FROM folders LEFT OUTER JOIN (
    SELECT files.folder_id AS folder_id, count(DISTINCT files.photo_id) AS photos,
        count(DISTINCT photos.id) FILTER (WHERE photos.status = 'failed') AS failed
    FROM files JOIN photos ON photos.id = files.photo_id GROUP BY files.folder_id
) AS counts ON counts.folder_id = folders.id
ORDER BY folders.path
"""
MODEL_BY_KEY = "SELECT id, dim, generation FROM models WHERE key = :key"
STORED_MODELS = """
SELECT models.id, models.key, models.name, models.dim, coalesce(counts.n, 0)
FROM models LEFT OUTER JOIN (
    SELECT model_id, count(*) AS n FROM embeddings GROUP BY model_id
) AS counts ON counts.model_id = models.id
ORDER BY models.id
"""
TEXT_STATUSES = "SELECT status, count(*) FROM photo_text GROUP BY status"
# Embedded photos OCR has not looked at, or whose outcome may differ now: those another model's gate left
# out (this model's embedding may see their text), with :with_unlikely every photo the gate left out (the
# setting to read every photo was turned on), and those that could not be read whose file was modified
# since (a copy completed, a file repaired in place). read_at is local time; 'utc' turns it into the
# files' epoch time (2440587.5 is 1970-01-01 as a Julian day). `+ 0` keeps SQLite off the model_id index,
# whose every hit costs a read of the embedding's row (4 GB at a million photos).
TEXT_PENDING_WHERE = """
embeddings.model_id + 0 = :model_id AND embeddings.photo_id NOT IN (
    SELECT photo_text.photo_id FROM photo_text WHERE NOT (
        (photo_text.status = 'unlikely' AND (
            :with_unlikely OR photo_text.model_id IS NULL OR photo_text.model_id != :model_id))
        OR (photo_text.status = 'failed' AND EXISTS (
            SELECT files.id FROM files WHERE files.photo_id = photo_text.photo_id
            AND files.mtime_ns > (julianday(photo_text.read_at, 'utc') - 2440587.5) * 86400e9))))
"""
TEXT_PENDING_COUNT = f"""
SELECT count(*) FROM embeddings WHERE {TEXT_PENDING_WHERE}
AND EXISTS (SELECT files.photo_id FROM files WHERE files.photo_id = embeddings.photo_id)
"""
ALBUMS = """
SELECT albums.id, albums.name, albums.kind, albums.query, albums.threshold, albums.created_at, counts.members
FROM albums LEFT OUTER JOIN (
    SELECT album_id, count(*) AS members FROM album_photos GROUP BY album_id
) AS counts ON counts.album_id = albums.id
"""
TAGS = "SELECT id, name, group_name, builtin, prompts, sensitivity FROM tags ORDER BY group_name, name"
TAG_EXAMPLES = "SELECT tag_id, photo_id FROM tag_examples ORDER BY photo_id"


@dataclass(frozen=True)
class FolderInfo:
    """A watched photo folder and what the catalog knows of it."""

    id: int
    path: str
    status: str  # "ok" or "offline" (missing at the last scan: unplugged drive, unmounted share)
    photo_count: int
    failed_count: int
    scanned_at: datetime | None


@dataclass(frozen=True)
class ModelRow:
    """A model's row: its id, embedding size and the generation its vector index file is stamped with."""

    id: int
    dim: int
    generation: int


def head_revision() -> str:
    """The newest migration's revision: revisions are numbered as their files are ("0009" for
    0009_place_indexes.py; tests/test_startup.py checks that Alembic finds the same head)."""
    return max(file.name.partition("_")[0] for file in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def open_read_only(path: Path, revision: str) -> sqlite3.Connection | None:
    """The catalog at `path` opened read-only, or None where only the full path can answer: no database
    yet, a schema revision other than `revision` (the code's head: it migrates first), or a writer
    holding it past READ_TIMEOUT_S. The connection reads one snapshot until it is closed."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=READ_TIMEOUT_S)
    except sqlite3.Error:
        return None
    try:
        db.execute("BEGIN")  # one snapshot for every read, as the full path's read_transaction
        if [row[0] for row in db.execute("SELECT version_num FROM alembic_version")] == [revision]:
            return db
    except sqlite3.Error:  # no such table (a new database), or locked
        pass
    db.close()
    return None


def photo_counts(db: Any, model_id: int | None) -> dict[str, int]:
    """Photos by status, `files`, and `embedded` for the model if one is given. `db`: a sqlite3
    connection (the SQLAlchemy side passes its own driver connection)."""
    counts = {str(status): int(n) for status, n in db.execute(PHOTO_STATUSES)}
    counts["files"] = int(db.execute(FILE_COUNT).fetchone()[0])
    if model_id is not None:
        counts["embedded"] = int(db.execute(EMBEDDED_COUNT, {"model_id": model_id}).fetchone()[0])
    return counts


def folders(db: Any) -> list[FolderInfo]:
    return [
        FolderInfo(int(i), os.fsdecode(path) if isinstance(path, bytes) else path, status, n or 0, bad or 0, _when(at))
        for i, path, status, n, bad, at in db.execute(FOLDERS)
    ]


def model_row(db: Any, key: str) -> ModelRow | None:
    row = db.execute(MODEL_BY_KEY, {"key": key}).fetchone()
    return None if row is None else ModelRow(int(row[0]), int(row[1]), int(row[2]))


def stored_model_rows(db: Any) -> list[tuple[int, str, str, int, int]]:
    """(id, key, name, dim, photos embedded) of every registered model, in registration order."""
    return [(int(i), str(key), str(name), int(dim), int(n)) for i, key, name, dim, n in db.execute(STORED_MODELS)]


def text_counts(db: Any) -> dict[str, int]:
    """Photos per OCR status ("text", "none", "unlikely", "failed")."""
    return {str(status): int(n) for status, n in db.execute(TEXT_STATUSES)}


def text_pending_count(db: Any, model_id: int, with_unlikely: bool) -> int:
    params = {"model_id": model_id, "with_unlikely": with_unlikely}
    return int(db.execute(TEXT_PENDING_COUNT, params).fetchone()[0])


def album_rows(db: Any) -> list[tuple[int, str, str, str | None, float | None, datetime, int | None]]:
    """(id, name, kind, query, threshold, created at, members or None) of every album, unordered."""
    return [
        (int(i), str(name), str(kind), query, threshold, _when(created), members)
        for i, name, kind, query, threshold, created, members in db.execute(ALBUMS)
    ]


def _when(value: str | datetime | None) -> Any:
    """A stored time as SQLAlchemy's DateTime reads it ("2026-12-05 05:42:48.091673")."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def tag_rows(db: Any) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """(id, name, group, builtin, prompts as JSON, sensitivity) of every tag by group and name, and
    (tag id, photo id) of every example photo."""
    return list(db.execute(TAGS)), [(int(tag), int(photo)) for tag, photo in db.execute(TAG_EXAMPLES)]
