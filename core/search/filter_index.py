"""Search filters as numpy masks over columns held in memory, kept in step with the catalog.

`FilterIndex.allowed` answers what core.search.ranking.allowed_photo_ids answers (the photos that pass
every filter), as a sorted id array that the vector index turns into a FAISS bitmap selector, instead of
a Python set built from SQL per search. Folder, date and camera filters read `PhotoColumns`; tag and album
filters ask the library once per name and keep the answer as a sorted id array; any other filter key
goes through the SQL path (`allowed_photo_ids` on what is left), so keys added there work unchanged.

Staleness: the columns and the cached tag and album answers belong to one state of the catalog. A
private SQLite connection, which never writes, reads `PRAGMA data_version` before each use (a few
microseconds): it changes whenever any other connection, in this process or another, commits. Then
everything is dropped. Coarse, but exact: a tag accepted or a folder scanned anywhere is seen by the
next search. The columns are read lazily, by the second filtered search in a row that finds the catalog
unchanged (`_columns_for_search`); until then searches go through SQL, as does date ordering.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from photosift.core.catalog.photo_filters import capture_order as sql_capture_order
from photosift.core.search.photo_columns import IdArray, PhotoColumns
from photosift.core.search.ranking import FilterSources, Match, allowed_photo_ids
from photosift.core.search.records import SearchFilters


class FilterIndex:
    """The filters of one catalog as masks; thread-safe. `close` (or garbage collection) releases it."""

    def __init__(self, engine: Engine, database: Path, sources: FilterSources) -> None:
        self._engine = engine
        self._database = database
        self._sources = sources
        self._lock = threading.Lock()  # guards the fields below; held while the columns are read
        self._watch: sqlite3.Connection | None = None
        self._version: int | None = None
        self._columns: PhotoColumns | None = None
        self._asked_at: int | None = None  # the version at which a filtered search last found no columns
        self._cached: dict[tuple[str, str], IdArray] = {}  # (kind, name) -> sorted ids, at `_version`
        self._answers: dict[tuple[SearchFilters, ...], IdArray | None] = {}  # `allowed`'s, at `_version`
        self._finalizer: Callable[[], object] | None = None  # a weakref.finalize that closes `_watch`

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()

    def columns(self) -> PhotoColumns:
        """The columns as of the catalog's current state, read again if the catalog changed since."""
        with self._lock:
            self._check_version()
            if self._columns is None:
                self._columns = PhotoColumns.read(self._engine)
            return self._columns

    def allowed(self, filters: Sequence[SearchFilters]) -> IdArray | None:
        """Sorted ids of the photos that pass every one of `filters`, or None when none restricts anything.

        The answer is kept until the catalog changes, read-only: a search typed with one filter and one
        text after another asks the same question each time (a folder's mask took 13-19 ms at a million
        photos on a loaded machine), and the vector index keeps its subset for the same array
        (core.vindex_subset).

        Raises:
            QueryError: a tag or album named in a filter does not exist (from the library).
        """
        key = tuple(filters)
        with self._lock:
            self._check_version()
            version, found = self._version, self._answers.get(key, _UNKNOWN)
        if not isinstance(found, _Unknown):
            return found
        answer = self._answer(filters)
        if answer is not None:
            answer.flags.writeable = False
        with self._lock:
            if self._version == version:
                if len(self._answers) >= _ANSWERS_KEPT:
                    del self._answers[next(iter(self._answers))]  # the oldest
                self._answers[key] = answer
        return answer

    def _answer(self, filters: Sequence[SearchFilters]) -> IdArray | None:
        if not any(_restricts(f) for f in filters):
            return _from_sql(allowed_photo_ids(self._engine, self._sources, [_rest(f) for f in filters]))
        columns = self._columns_for_search()
        if columns is None:
            return _from_sql(allowed_photo_ids(self._engine, self._sources, filters))
        mask = np.ones(len(columns), dtype=bool)
        for f in filters:
            if f.restricts_catalog:
                mask &= columns.catalog_mask(f.folders, f.after, f.before, f.cameras)
            for tag in f.include_tags:
                mask &= columns.mask_of(self._ids("tag", tag, self._sources.tagged_photo_ids))
            if f.albums:
                albums = [self._ids("album", a, self._sources.album_photo_ids) for a in f.albums]
                mask &= columns.mask_of(np.concatenate(albums))
            for tag in f.exclude_tags:
                mask &= ~columns.mask_of(self._ids("tag", tag, self._sources.tagged_photo_ids))
        rest = _from_sql(allowed_photo_ids(self._engine, self._sources, [_rest(f) for f in filters]))
        if rest is not None:
            mask &= columns.mask_of(rest)
        return columns.ids[mask]

    def capture_order(self, photo_ids: IdArray | None, newest_first: bool) -> list[int]:
        """Photo ids (all, or those given) by date, as photo_filters.capture_order orders them."""
        columns = self._ready_columns()
        if columns is None:
            return sql_capture_order(self._engine, None if photo_ids is None else photo_ids.tolist(), newest_first)
        positions = np.arange(len(columns)) if photo_ids is None else columns.positions(np.sort(photo_ids))
        return [int(i) for i in columns.in_date_order(positions, newest_first)]

    def by_capture_time(self, matches: Sequence[Match], newest_first: bool) -> list[Match]:
        """`matches` reordered by date, keeping their scores (ranking.by_capture_time's order)."""
        scores = dict(matches)
        ids = np.fromiter(scores, dtype=np.int64, count=len(scores))
        return [(i, scores[i]) for i in self.capture_order(ids, newest_first)]

    def _columns_for_search(self) -> PhotoColumns | None:
        """The columns, read now only when the catalog has not changed since the previous filtered search
        (None: answer this one through SQL). A read costs seconds at 100,000 photos and a minute at a
        million, more than a search through SQL, so it pays only while the catalog stands still; while an
        indexing run or a tagging session commits between searches, each goes through SQL as before."""
        with self._lock:
            self._check_version()
            if self._columns is None and self._asked_at == self._version:
                self._columns = PhotoColumns.read(self._engine)
            self._asked_at = self._version
            return self._columns

    def _ready_columns(self) -> PhotoColumns | None:
        with self._lock:
            self._check_version()
            return self._columns

    def _ids(self, kind: str, name: str, lookup: Callable[[str], set[int]]) -> IdArray:
        """The library's answer for a tag or album, cached until the catalog changes. The lookup runs
        outside the lock: a smart album's is a search, which comes back here."""
        with self._lock:
            self._check_version()
            version, found = self._version, self._cached.get((kind, name))
        if found is not None:
            return found
        ids = _from_sql(lookup(name))
        assert ids is not None
        with self._lock:
            if self._version == version:
                self._cached[(kind, name)] = ids
        return ids

    def _check_version(self) -> None:
        """Drop everything when the catalog changed since it was read (called with the lock held)."""
        if self._watch is None:
            self._watch = sqlite3.connect(self._database, check_same_thread=False)
            self._finalizer = weakref.finalize(self, self._watch.close)
        version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self._version, self._columns, self._cached, self._answers = version, None, {}, {}


# Answers of `allowed` kept per catalog state: a few filters a user goes back and forth between; at most
# 8 MB each at a million photos.
_ANSWERS_KEPT = 8


class _Unknown:
    """Marks a question `allowed` has no answer to yet (None is an answer: nothing restricted)."""


_UNKNOWN = _Unknown()


def _restricts(f: SearchFilters) -> bool:
    return f.restricts_catalog or bool(f.include_tags or f.exclude_tags or f.albums)


def _rest(f: SearchFilters) -> SearchFilters:
    """`f` without the filters the masks answer: what is left goes through the SQL path."""
    return dataclasses.replace(
        f, folders=(), after=None, before=None, cameras=(), albums=(), include_tags=(), exclude_tags=()
    )


def _from_sql(ids: set[int] | None) -> IdArray | None:
    return None if ids is None else np.sort(np.fromiter(ids, dtype=np.int64, count=len(ids)))
