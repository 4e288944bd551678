"""Frozen records that cross the catalog boundary (no ORM or Row objects leave `core.catalog`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from photosift.core.catalog.readonly import FolderInfo as FolderInfo  # defined where status reads it
from photosift.core.imageio import PhotoMetadata


@dataclass(frozen=True)
class FileRecord:
    """One file on disk as last seen by the scanner."""

    id: int
    photo_id: int
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class PhotoInfo:
    """A photo with its current paths and metadata."""

    id: int
    paths: tuple[str, ...]
    size: int
    width: int | None
    height: int | None
    taken_at: datetime | None
    camera: str | None
    gps_lat: float | None
    gps_lon: float | None
    status: str
    error: str | None

    @property
    def aspect(self) -> float | None:
        """Width/height of the upright photo; None until indexing has read its size."""
        return self.width / self.height if self.width and self.height else None


@dataclass(frozen=True)
class PhotoResult:
    """What indexing produced for one photo: metadata and a vector, or an error."""

    photo_id: int
    metadata: PhotoMetadata | None = None
    vector: np.ndarray | None = None
    error: str | None = None


@dataclass(frozen=True)
class FileState:
    """A file as found on disk: where it is and the stat fields that tell whether it changed."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class NewPhoto:
    """A photo never seen before, with the files (one, or several identical copies) that hold it."""

    fingerprint: str
    size: int
    files: tuple[FileState, ...]
    content_hash: str | None = None


@dataclass(frozen=True)
class KnownPhoto:
    """An existing photo that a fingerprint matched: its files and (if ever computed) its full hash."""

    id: int
    content_hash: str | None
    files: tuple[FileRecord, ...]


@dataclass
class ScanChanges:
    """Everything one folder scan decided, applied by `Catalog.apply_scan` in a single transaction.

    Attributes:
        new_photos: photos to create, each with its files.
        new_files: (photo_id, file) pairs: copies of photos the catalog already has.
        moved_files: (file_id, file): a known file now at another path (identity and embeddings kept).
        touched_files: (file_id, file): same path and content, new stat (e.g. a `touch`).
        deleted_file_ids: files gone from disk; photos left with no file are deleted with their vectors.
        content_hashes: photo_id -> full hash, remembered after settling a fingerprint collision.
    """

    new_photos: list[NewPhoto]
    new_files: list[tuple[int, FileState]]
    moved_files: list[tuple[int, FileState]]
    touched_files: list[tuple[int, FileState]]
    deleted_file_ids: list[int]
    content_hashes: dict[int, str]

    @classmethod
    def empty(cls) -> ScanChanges:
        return cls([], [], [], [], [], {})
