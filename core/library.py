"""The library: one object that the CLI, the GUI and the tests drive.

It owns the catalog, one model (spec + encoder) and that model's vector index, and exposes the
operations people use: add folders, scan and index them, search by text or image, find similar.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from core.catalog import Catalog, FolderInfo, PhotoInfo
from core.catalog.catalog import absolute_path, as_stored
from core.catalog.records import PhotoResult
from core.errors import QueryError, UserError
from core.imageio import load_image
from core.indexer import ImageEncoder, IndexReport, default_decode_workers, embed_photos
from core.models.spec import ModelSpec
from core.progress import CancelToken, ProgressCallback, no_progress
from core.query import parse_query
from core.scanner import ScanReport, scan_folder
from core.search import SearchFilters, SearchHit, SearchPage, TermEncoders, query_vector
from core.settings import Paths, Settings
from core.vindex import VectorIndex

# Photos per forward pass when the settings say "automatic".
CPU_BATCH = 16  # larger CPU batches gain nothing and delay the first results
GPU_BATCH = 128  # fills an H100 with SO400M-384 in fp16 while staying far from its memory limit


class LibraryEncoder(ImageEncoder, Protocol):
    """The indexer's encoder protocol plus text encoding and identity (core.models.encoder.Encoder)."""

    @property
    def embed_dim(self) -> int: ...

    @property
    def device(self) -> str: ...

    def encode_texts(self, texts: list[str]) -> np.ndarray: ...

    def load(self, progress: ProgressCallback, cancel: CancelToken | None) -> None:
        """Download and load the model ahead of a run, reporting progress."""


@dataclass(frozen=True)
class IndexHealth:
    """The state of the vector index for the active model."""

    vectors: int
    approximate: bool
    saved_and_current: bool  # the file on disk matches the catalog; False means it will be rebuilt


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


class Library:
    """Photos, one model's embeddings of them, and search over them."""

    def __init__(self, paths: Paths, settings: Settings, catalog: Catalog, spec: ModelSpec, encoder: LibraryEncoder):
        self.paths = paths
        self.settings = settings
        self.catalog = catalog
        self.spec = spec
        self.encoder = encoder
        self.model_id = catalog.ensure_model(spec.key, spec.name, spec.embed_dim)
        self._index: VectorIndex | None = None
        self._saved_stamp: str | None = None  # the stamp of the index file on disk, as last loaded or saved
        self._index_lock = threading.RLock()

    @property
    def index_path(self) -> Path:
        return self.paths.indexes / f"{self.spec.name}-{self.model_id}.faiss"

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Folders, scanning, indexing -----------------------------------------------------------------

    def add_folder(self, path: Path) -> FolderInfo:
        return self.catalog.add_folder(path)

    def remove_folder(self, path: Path) -> int:
        """Forget a folder (its files on disk are untouched); returns the number of photos forgotten."""
        folder = self.catalog.folder_by_path(absolute_path(path))
        removed = self.catalog.remove_folder(folder.id)
        self._forget(removed)
        return len(removed)

    def folders(self) -> list[FolderInfo]:
        return self.catalog.folders()

    def scan(
        self,
        paths: Sequence[Path] | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> list[ScanReport]:
        """Reconcile folders with the disk (all by default). Files gone are deleted only after every
        folder was scanned, so moves between watched folders keep their embeddings."""
        wanted = {absolute_path(p) for p in paths} if paths else None
        excluded = frozenset(self.settings.excluded_folders)
        reports = [
            scan_folder(self.catalog, folder, excluded, progress, cancel)
            for folder in self.catalog.folders()
            if wanted is None or folder.path in wanted
        ]
        removed = self.catalog.delete_missing([record for report in reports for record in report.missing])
        self._forget([*removed, *(i for report in reports for i in report.deleted_photo_ids)])
        return reports

    def index(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> IndexReport:
        """Embed every photo that has no embedding for this model yet, then save the vector index."""
        pending = self.catalog.pending_photos(self.model_id)
        index = self.vector_index()
        if pending:
            self.encoder.load(progress, cancel)
        report = embed_photos(
            pending,
            self.encoder,
            self._write_batch,
            batch_size=self.settings.batch_size or (CPU_BATCH if self.encoder.device == "cpu" else GPU_BATCH),
            workers=self.settings.decode_workers or default_decode_workers(self.encoder.device),
            progress=progress,
            cancel=cancel,
        )
        self.save_index(index)
        return report

    def _write_batch(self, results: list[PhotoResult]) -> None:
        self.catalog.write_results(self.model_id, results)
        done = [r for r in results if r.vector is not None]
        if done:
            with self._index_lock:
                self.vector_index().add(
                    np.array([r.photo_id for r in done], dtype=np.int64),
                    as_stored(np.stack([r.vector for r in done if r.vector is not None])),
                )

    def _forget(self, photo_ids: Sequence[int]) -> None:
        if photo_ids:
            with self._index_lock:
                self.vector_index().remove(np.asarray(photo_ids, dtype=np.int64))
                self.save_index()

    # The vector index ----------------------------------------------------------------------------

    def _stamp(self) -> str:
        return f"{self.spec.key}:{self.catalog.generation(self.model_id)}"

    def vector_index(self) -> VectorIndex:
        """The index for this model: loaded from disk if current, else rebuilt from SQLite (no model work)."""
        with self._index_lock:
            if self._index is None:
                stamp = self._stamp()
                index = VectorIndex.load(self.index_path, stamp, self.spec.embed_dim)
                if index is None:
                    ids, vectors = self.catalog.embeddings(self.model_id)
                    index = VectorIndex.build(self.spec.embed_dim, ids, vectors)
                    index.save(self.index_path, stamp)
                self._index, self._saved_stamp = index, stamp
            return self._index

    def save_index(self, index: VectorIndex | None = None) -> None:
        with self._index_lock:
            stamp = self._stamp()
            (index or self.vector_index()).save(self.index_path, stamp)
            self._saved_stamp = stamp

    # Search --------------------------------------------------------------------------------------

    def search(
        self,
        text: str,
        filters: SearchFilters | None = None,
        offset: int = 0,
        limit: int = 50,
        base: Path | None = None,
    ) -> SearchPage:
        """Search with the combined-query language (see core.query); results best first, paged."""
        vector = query_vector(parse_query(text, base), self._term_encoders())
        return self._ranked(vector, filters or SearchFilters(), offset, limit, exclude=())

    def similar(
        self, photo: int | Path, filters: SearchFilters | None = None, offset: int = 0, limit: int = 50
    ) -> SearchPage:
        """Photos that look like a library photo (by id or path) or any image file outside the library."""
        filters = filters or SearchFilters()
        photo_id = photo if isinstance(photo, int) else self.catalog.photo_id_for_path(absolute_path(photo))
        if photo_id is None:
            if not isinstance(photo, Path):
                raise QueryError(f"There is no photo #{photo} in the library.")
            return self._ranked(self._encode_image_file(str(photo)), filters, offset, limit, exclude=())
        vector = self._stored_vector(photo_id)
        if vector is None:
            raise UserError(f"Photo #{photo_id} is not indexed yet; run the indexer first.")
        return self._ranked(vector, filters, offset, limit, exclude=(photo_id,))

    def _ranked(
        self, vector: np.ndarray, filters: SearchFilters, offset: int, limit: int, exclude: Sequence[int]
    ) -> SearchPage:
        allowed = (
            self.catalog.filter_photo_ids(filters.folder, filters.after, filters.before) if filters.active else None
        )
        wanted = offset + limit + 1 + len(exclude)
        (result,) = self.vector_index().search(vector, wanted, allowed_ids=allowed)
        found = [(int(i), float(s)) for i, s in zip(result.ids, result.scores, strict=True) if int(i) not in exclude]
        infos = self.catalog.photos([i for i, _ in found[offset : offset + limit]])
        hits = tuple(
            SearchHit(i, infos[i].paths[0], s)
            for i, s in found[offset : offset + limit]
            if i in infos and infos[i].paths
        )
        return SearchPage(hits, offset, limit, has_more=len(found) > offset + limit)

    def _term_encoders(self) -> TermEncoders:
        return TermEncoders(self.encoder.encode_texts, self._encode_image_file, self._stored_vector)

    def _encode_image_file(self, path: str) -> np.ndarray:
        img, _ = load_image(Path(path), min_side=self.encoder.min_side)
        return np.asarray(self.encoder.encode_images(self.encoder.preprocess(img)[None])[0])

    def _stored_vector(self, photo_id: int) -> np.ndarray | None:
        ids, vectors = self.catalog.embeddings(self.model_id, [photo_id])
        return vectors[0] if len(ids) else None

    def photo(self, photo_id: int) -> PhotoInfo | None:
        return self.catalog.photo(photo_id)

    # Status --------------------------------------------------------------------------------------

    def status(self) -> LibraryStatus:
        counts = self.catalog.counts(self.model_id)
        photos = sum(counts.get(k, 0) for k in ("pending", "ok", "failed"))
        index = self.vector_index()
        return LibraryStatus(
            folders=tuple(self.catalog.folders()),
            photos=photos,
            files=counts["files"],
            embedded=counts["embedded"],
            pending=photos - counts["embedded"] - counts.get("failed", 0),
            failed=counts.get("failed", 0),
            model=self.spec.name,
            device=self.encoder.device,
            index=IndexHealth(len(index), index.is_approximate, self._saved_stamp == self._stamp()),
        )
