"""What `photosift status` reports of a library: its folders, photo counts and the vector index's health.

Apart from `core.library` so that the command can answer from `core.catalog.readonly` without importing
SQLAlchemy, numpy or FAISS (issue 15); `Library.status` builds the same record from the same queries.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from photosift.core.catalog import readonly
from photosift.core.catalog.readonly import FolderInfo
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths
from photosift.core.vindex_file import file_health, index_stamp


@dataclass(frozen=True)
class IndexHealth:
    """The state of the vector index for the active model."""

    vectors: int
    approximate: bool
    saved_and_current: bool  # the file on disk matches the catalog; False: it is saved by the next run or close


@dataclass(frozen=True)
class LibraryStatus:
    folders: tuple[FolderInfo, ...]
    photos: int
    files: int
    embedded: int
    pending: int
    failed: int
    model: str
    device: str
    index: IndexHealth


def index_file(paths: Paths, model_name: str, model_id: int) -> Path:
    """The vector index file of one model's embeddings."""
    return paths.indexes / f"{model_name}-{model_id}.faiss"


def library_status(
    counts: dict[str, int], folders: list[FolderInfo], model: str, device: str, health: tuple[bool, bool]
) -> LibraryStatus:
    """The status from `readonly.photo_counts` and `readonly.folders` and the index's (approximate, saved)."""
    photos = sum(counts.get(k, 0) for k in ("pending", "ok", "failed"))
    return LibraryStatus(
        folders=tuple(folders),
        photos=photos,
        files=counts["files"],
        embedded=counts["embedded"],
        pending=photos - counts["embedded"] - counts.get("failed", 0),
        failed=counts.get("failed", 0),
        model=model,
        device=device,
        index=IndexHealth(counts["embedded"], *health),
    )


def read_status(
    db: sqlite3.Connection, paths: Paths, spec: ModelSpec, row: readonly.ModelRow, device: str
) -> LibraryStatus:
    """The status of a library whose catalog `db` is open read-only, `row` being `spec`'s model row, with
    the index file's health read from its trailer (as `LibraryIndex.health` reads it when the index is not
    in memory)."""
    counts = readonly.photo_counts(db, row.id)
    path = index_file(paths, spec.name, row.id)
    health = file_health(path, index_stamp(spec.key, row.generation), spec.embed_dim, counts["embedded"])
    return library_status(counts, readonly.folders(db), spec.name, device, health)
