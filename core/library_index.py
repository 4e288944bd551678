"""One model's vector index kept in step with the catalog, across threads and processes.

The catalog counts each transaction that changes a model's embeddings (its generation). The index in
memory knows the generation it reflects, and the file is saved with that generation as its stamp, so a
file is only ever labelled with the state it was built from:

- A search first compares generations (one indexed SELECT). When the catalog moved on without this
  process (another process indexed or deleted, or this process's library of another model deleted
  photos), the index is loaded from the file if that is current, else rebuilt from SQLite, in memory:
  reads never write files.
- This process's own writes advance the index with the catalog: a batch whose generation step started
  at the index's generation is simply added; otherwise the ids are compared with the catalog's and, if
  they differ, the index is dropped and rebuilt on next use.
- `save_if_changed` writes the file only when the index differs from the file and still matches the
  catalog; the file is written outside the lock, while searches go on (core.vindex's read-write lock).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from photosift.core.atomic import remove_stale_temps
from photosift.core.catalog import Catalog
from photosift.core.vindex import VectorIndex
from photosift.core.vindex_file import file_health, index_stamp


class LibraryIndex:
    """The vector index of one model of one catalog. Thread-safe."""

    def __init__(self, catalog: Catalog, model_id: int, spec_key: str, dim: int, path: Path) -> None:
        self.path = path
        self._catalog = catalog
        self._model_id = model_id
        self._key = spec_key
        self._dim = dim
        self._index: VectorIndex | None = None
        self._generation = -1  # the catalog generation the index in memory reflects
        self._saved_generation = -1  # the generation of the file, as this process last loaded or saved it
        self._own_writes = 0  # this process's catalog writes whose vectors are not in the index yet
        self._lock = threading.Lock()  # guards the fields above; held while loading, never while saving
        self._save_lock = threading.Lock()  # one save at a time
        remove_stale_temps(path.parent)  # what a process killed mid-save left (a full-size file each)

    def stamp(self, generation: int) -> str:
        return index_stamp(self._key, generation)

    def current(self) -> VectorIndex:
        """The index, brought up to the catalog's state first if the catalog moved on meanwhile."""
        with self._lock:
            if self._index is None or (self._own_writes == 0 and self._moved_on()):
                self._refresh()
            assert self._index is not None
            return self._index

    @property
    def saved_and_current(self) -> bool:
        """Whether the file on disk holds exactly what the catalog holds now."""
        with self._lock:
            return self._index is not None and self._saved_generation == self._generation and not self._moved_on()

    def health(self, embedded: int) -> tuple[bool, bool]:
        """(approximate, saved_and_current) without loading the index where it is not in memory: from the
        file's trailer, or, for a missing or stale file, as a rebuild of `embedded` vectors would be. So
        `photosift status` reads a few bytes rather than the whole index (seconds and gigabytes at a
        million photos). A damaged file with a current stamp reads as saved until a search loads it."""
        with self._lock:
            if self._index is not None and not self._moved_on():
                return self._index.is_approximate, self._saved_generation == self._generation
            generation = self._catalog.generation(self._model_id)
        return file_health(self.path, self.stamp(generation), self._dim, embedded)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around one own catalog write and `added`: searches meanwhile use the index as it is, rather than
        rebuilding it because the catalog is one batch ahead."""
        with self._lock:
            self._own_writes += 1
        try:
            yield
        finally:
            with self._lock:
                self._own_writes -= 1

    def added(self, ids: np.ndarray, vectors: np.ndarray, step: tuple[int, int]) -> None:
        """Add vectors this process just committed, the write having moved the generation `step`."""
        index = self._in_memory()
        if index is None:
            return  # the next use loads or rebuilds, with these vectors
        index.add(ids, vectors)  # outside the lock: it may wait for a save, and lookups must not
        with self._lock:
            if self._index is index and step[0] == self._generation:
                self._generation = step[1]
            elif self._index is index:
                self._resync()

    def removed(self, ids: np.ndarray) -> None:
        """Take out the vectors of photos this process just deleted from the catalog."""
        index = self._in_memory()
        if index is None or not ids.size:
            return
        index.remove(ids)
        with self._lock:
            if self._index is index:
                self._resync()

    def save_if_changed(self) -> bool:
        """Save the index if it differs from the file; returns whether it saved. Writers call it (the end
        of an indexing run, closing the library), never searches.

        An index this process never loaded is left alone: a deletion it made without one has already made
        the file's stamp stale, so the next reader rebuilds. An index the catalog moved on from is first
        brought up to date (loading the newer file another process saved, or rebuilding), so a file is only
        ever stamped with the state it holds.
        """
        with self._save_lock:
            if self._in_memory() is None:
                return False  # never loaded here: nothing of this process's to keep (closing costs no FAISS)
            self.current()
            with self._lock:
                index, generation = self._index, self._generation
                if index is None or generation == self._saved_generation or self._moved_on():
                    return False
                if not len(index) and not self.path.exists():
                    return False  # nothing to keep: a first run that failed leaves no empty file behind
            index.save(self.path, self.stamp(generation))  # outside the lock: searches go on
            with self._lock:
                self._saved_generation = generation
            return True

    def _in_memory(self) -> VectorIndex | None:
        with self._lock:
            return self._index

    # Internals: called with self._lock held ------------------------------------------------------

    def _moved_on(self) -> bool:
        return self._catalog.generation(self._model_id) != self._generation

    def _refresh(self) -> None:
        """Load the file if it is current, else rebuild from SQLite; never writes the file."""
        generation = self._catalog.generation(self._model_id)
        loaded = VectorIndex.load(self.path, self.stamp(generation), self._dim)
        if loaded is not None:
            self._index, self._generation, self._saved_generation = loaded, generation, generation
            return
        with self._catalog.embedding_snapshot(self._model_id) as (generation, ids, read):
            self._index, self._generation = VectorIndex.build_in_ranges(self._dim, ids, read), generation

    def _resync(self) -> None:
        """After a write whose generation step the index did not follow: keep the index if it holds the
        catalog's photos (the other change did not touch them), else drop it to be rebuilt on next use."""
        assert self._index is not None
        generation, ids = self._catalog.embedding_ids_at(self._model_id)
        if np.array_equal(ids, self._index.ids()):
            self._generation = generation
        else:
            self._index = None
