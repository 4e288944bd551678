"""The library: one object that the CLI, the GUI and the tests drive.

It owns the catalog, one model (spec + encoder) and that model's vector index, and exposes the
operations people use: add folders, scan and index them, search by text or image (`LibrarySearch`, in
core.library_search), find similar.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np

from photosift.core.albums.service import Albums
from photosift.core.catalog import Catalog, FolderInfo, PhotoInfo
from photosift.core.catalog.catalog import absolute_path
from photosift.core.catalog.embeddings import as_stored
from photosift.core.catalog.marks import MarkStore
from photosift.core.catalog.model_rows import StoredModel, delete_model, stored_models
from photosift.core.catalog.photo_filters import PhotoDate, photo_dates, timeline_page
from photosift.core.catalog.records import PhotoResult
from photosift.core.catalog.skipped import SkippedFile, skipped_files
from photosift.core.errors import Cancelled, UserError
from photosift.core.imageio import retryable_failures
from photosift.core.indexer import ImageEncoder, IndexReport, default_decode_workers, embed_photos
from photosift.core.library_index import LibraryIndex
from photosift.core.library_lock import LibraryLock
from photosift.core.library_search import LibrarySearch
from photosift.core.library_status import LibraryStatus as LibraryStatus  # where status reads it without numpy
from photosift.core.library_status import index_file as index_file
from photosift.core.library_status import library_status
from photosift.core.models.spec import ModelSpec
from photosift.core.ocr.service import TextService
from photosift.core.places import Places
from photosift.core.progress import CancelToken, ProgressCallback, no_progress
from photosift.core.scanner import ScanReport, scan_folder
from photosift.core.search.filter_index import FilterIndex
from photosift.core.settings import Paths, Settings
from photosift.core.tags.records import RetagReport, TagSuggestion
from photosift.core.tags.service import TagService

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

    def prepare_bundled_tokenizer(self) -> None:
        """Build the text tokenizer now when that needs no download (before the GUI's event loop starts)."""

    def release(self) -> None:
        """Free the model's memory (it loads again on next use)."""


class Library(LibrarySearch):
    """Photos, one model's embeddings of them, and search over them."""

    def __init__(self, paths: Paths, settings: Settings, catalog: Catalog, spec: ModelSpec, encoder: LibraryEncoder):
        self.paths = paths
        self.settings = settings
        self.catalog = catalog
        self.spec = spec
        self.encoder = encoder
        self.model_id = catalog.ensure_model(spec.key, spec.name, spec.embed_dim)
        path = index_file(paths, spec.name, self.model_id)
        self._index = LibraryIndex(catalog, self.model_id, spec.key, spec.embed_dim, path)
        self._run_lock = LibraryLock(catalog.path.parent)
        self._filters = FilterIndex(catalog.engine, catalog.path, self)  # tags and albums through self
        # Through self.encoder at call time: the GUI may hand the library an encoder it already loaded.
        self.tags = TagService(catalog, self.model_id, lambda texts: self.encoder.encode_texts(texts))
        self.albums = Albums(self)
        self.text = TextService(catalog, self.model_id, lambda texts: self.encoder.encode_texts(texts), settings.ocr)
        self.places = Places(catalog.engine)
        self.marks = MarkStore(catalog.engine)

    @property
    def index_path(self) -> Path:
        return self._index.path

    def with_model(self, spec: ModelSpec, encoder: LibraryEncoder) -> Library:
        """The same photos and catalog seen through another model (the GUI's background model switch).

        The new library embeds into its own model rows and index file, so this one keeps answering
        searches until the caller swaps. Both share the catalog: close only the one kept.
        """
        return Library(self.paths, self.settings, self.catalog, spec, encoder)

    def stored_models(self) -> list[StoredModel]:
        """Every model the catalog holds embeddings of (this one too), with its embedding count."""
        return stored_models(self.catalog.engine)

    def forget_model(self, model_id: int) -> int:
        """Delete another model's embeddings and index file to reclaim space; returns the embeddings deleted.

        Raises:
            UserError: `model_id` is this library's own model, or not a model of the catalog.
        """
        if model_id == self.model_id:
            raise UserError(f"{self.spec.name} is the model searching now; switch to another before deleting it.")
        found = next((m for m in self.stored_models() if m.id == model_id), None)
        if found is None:
            raise UserError(f"There is no model #{model_id} in the catalog.")
        deleted = delete_model(self.catalog.engine, model_id)
        index_file(self.paths, found.name, model_id).unlink(missing_ok=True)
        return deleted

    def close(self) -> None:
        """Save the vector index if it changed since it was last saved, then close the catalog."""
        self._index.save_if_changed()
        self._filters.close()
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
        with self._index.writing():
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
        folder was scanned, so moves between watched folders keep their embeddings. Waits while another
        process scans or indexes this library (core.library_lock)."""
        wanted = {absolute_path(p) for p in paths} if paths else None
        excluded = frozenset(self.settings.excluded_folders)
        reports: list[ScanReport] = []
        with self._run_lock.held("scanning", progress, cancel), self._index.writing():
            for folder in self.catalog.folders():
                if wanted is None or folder.path in wanted:
                    try:
                        reports.append(scan_folder(self.catalog, folder, excluded, progress, cancel))
                    except Cancelled as stopped:  # the folder in progress rolled back; the others stay
                        raise Cancelled(partial=tuple(reports)) from stopped
            removed = self.catalog.delete_missing([record for report in reports for record in report.missing])
            self._forget([*removed, *(i for report in reports for i in report.deleted_photo_ids)])
        return reports

    def index(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> IndexReport:
        """Embed every photo that has no embedding for this model yet, then save the vector index if it
        changed. Failures whose cause may be gone (a codec installed since, a file that was missing) are
        tried again. Waits while another process scans or indexes this library (core.library_lock).

        Raises:
            Cancelled: `cancel` was set; the batches written stay, `partial` is their `IndexReport`.
        """
        with self._run_lock.held("indexing", progress, cancel):
            report = self._index_pending(progress, cancel)
        if report.cancelled:
            raise Cancelled(partial=report)
        return report

    def _index_pending(self, progress: ProgressCallback, cancel: CancelToken | None) -> IndexReport:
        self.catalog.retry_failed(retryable_failures())
        pending = self.catalog.pending_photos(self.model_id)
        self._index.current()
        self.places.prepare()  # photos waiting for a name: their place data loads while the model does
        if pending:
            self.encoder.load(progress, cancel)
            self.tags.tagger.prepare_if_cached(progress)  # then batches are tagged as they are written
        report = embed_photos(
            pending,
            self.encoder,
            self._store_batch,
            batch_size=self.settings.batch_size or (CPU_BATCH if self.encoder.device == "cpu" else GPU_BATCH),
            workers=self.settings.decode_workers or default_decode_workers(self.encoder.device),
            progress=progress,
            cancel=cancel,
        )
        self._index.save_if_changed()
        self.places.name_missing(progress, cancel)  # new photos and those indexed before places existed
        self.tags.tagger.catch_up(progress, cancel)
        return report

    def _store_batch(self, results: list[PhotoResult]) -> None:
        """Store a batch of results, then name its photos' places, so a cancelled run keeps them named."""
        self._write_batch(results)
        self.places.name_indexed(results)

    def _write_batch(self, results: list[PhotoResult]) -> None:
        with self._index.writing():
            step = self.catalog.write_results(self.model_id, results)
            done = [r for r in results if r.vector is not None]
            if step is None or not done:
                return
            ids, vectors = [r.photo_id for r in done], np.stack([r.vector for r in done if r.vector is not None])
            self._index.added(np.array(ids, dtype=np.int64), as_stored(vectors), step)
        self.tags.tagger.tag_batch(ids, vectors)

    def _forget(self, photo_ids: Sequence[int]) -> None:
        """Take the photos' vectors out of the index in memory; the file is saved by the next indexing run
        or by `close`. Saving rewrites the whole index (462 MB at 100,000 photos), and while someone tidies
        a watched folder a deleting scan can come every few seconds. Meanwhile the file's stamp is stale,
        so another process, or this one after a crash, rebuilds the index from the catalog instead."""
        self._index.removed(np.asarray(photo_ids, dtype=np.int64))

    def photo(self, photo_id: int) -> PhotoInfo | None:
        return self.catalog.photo(photo_id)

    def photos(self, photo_ids: Sequence[int]) -> dict[int, PhotoInfo]:
        """The photos of these ids that still exist, by id."""
        return self.catalog.photos(photo_ids)

    def has_photos(self) -> bool:
        """Whether any photo is catalogued: a search of an empty library can say so without loading a model."""
        return self.catalog.has_photos()

    def photo_ids(self) -> set[int]:
        """Every photo's id (to drop what belongs to photos that are gone, such as their thumbnails)."""
        return self.catalog.photo_ids()

    def photo_dates(self, photo_ids: Collection[int]) -> dict[int, PhotoDate]:
        """When each photo was taken, or its oldest file's time when it has no capture date (the viewer says
        which); photos gone meanwhile are left out."""
        return photo_dates(self.catalog.engine, photo_ids)

    def timeline_page(
        self, offset: int, limit: int, hide_duplicates: bool = False
    ) -> tuple[list[tuple[int, PhotoDate]], int]:
        """A page of every photo, newest first, with its date (the window's home view groups them by month),
        less the photos marked as near-duplicates when `hide_duplicates`; and how many photos there are."""
        return timeline_page(self.catalog.engine, offset, limit, hide_duplicates)

    # Tags ----------------------------------------------------------------------------------------

    def tagged_photo_ids(self, name: str) -> set[int]:
        """Photos carrying the tag `name` for this model: accepted by the user, or scored at or above the
        tag's calibrated threshold and not rejected. Raises QueryError for an unknown tag."""
        return self.tags.photo_ids_with_tag(name)

    def suggest_tags(self, photo_ids: Sequence[int], top: int = 10) -> list[TagSuggestion]:
        """Tags for a set of photos (an album, a folder), carried by the largest share of them first."""
        return self.tags.suggest(photo_ids, top)

    def retag(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> RetagReport:
        """Re-score this model's photos against every tag from the stored embeddings (no image model work).

        Raises:
            Cancelled: `cancel` was set; the old scores stay, `partial` is the `RetagReport`.
        """
        report = self.tags.tagger.retag(progress, cancel)
        if report.cancelled:
            raise Cancelled(partial=report)
        return report

    # Status --------------------------------------------------------------------------------------

    def failures(self, folder: Path | str | None = None, limit: int = 100) -> list[PhotoInfo]:
        """Photos that could not be read, with the reason: all, or those in one watched folder, whose own
        copies then come first in `paths` (a broken file copied into two folders is one photo).

        Raises FolderNotFoundError if `folder` is not in the library (it was removed meanwhile)."""
        if folder is None:
            return self.catalog.failures(limit)
        found = self.catalog.folder_by_path(absolute_path(folder))
        inside = found.path.rstrip(os.sep) + os.sep
        return [
            replace(p, paths=tuple(sorted(p.paths, key=lambda path: not path.startswith(inside))))
            for p in self.catalog.failures(limit, found.id)
        ]

    def retry_failed(self) -> int:
        """Mark every photo that could not be read pending again, so the next indexing run tries it (after the
        person fixed what failed); returns how many. Failures whose cause may be gone are retried anyway."""
        return self.catalog.retry_failed()

    def skipped_files(self, limit: int | None = None) -> list[SkippedFile]:
        """Files that scans left out on purpose (too small, a loop, unreadable), with the reason, by path."""
        return skipped_files(self.catalog.engine, limit)

    def status(self) -> LibraryStatus:
        """Counts and the vector index's health, without loading the index (LibraryIndex.health)."""
        counts = self.catalog.counts(self.model_id)
        health = self._index.health(counts["embedded"])
        return library_status(counts, self.catalog.folders(), self.spec.name, self.encoder.device, health)
