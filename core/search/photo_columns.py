"""Per-photo columns held in memory, so that folder, date and camera filters are vectorised masks.

The SQL behind these filters (core.catalog.photo_filters) reads every photo a filter lets through, or
every file path for `folder:NAME` (a LIKE that no index serves): hundreds of milliseconds at 100,000
photos, seconds at a million. Here one pass over the catalog gives numpy arrays aligned with the sorted
ids of the photos that have a file, and a filter becomes a comparison over them: about 8 bytes a photo
per column, and 1 to 44 ms a filter at a million photos on a loaded 2-core machine.

Folder and camera filters are matched on the distinct folders and cameras (thousands of strings, not a
million paths), then spread to the photos through integer codes. Every rule repeats photo_filters' SQL
exactly (tests/test_filter_index.py compares the two on randomised libraries), so the SQL stays the
reference and the fallback. One deliberate difference: a path that is not UTF-8, stored as bytes
(schema.FilePath), passes `folder:` here as its decoded name does, where the SQL compares a BLOB with
text and never lets it through.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select

from photosift.core.catalog import schema as s
from photosift.core.catalog.photo_filters import _as_ns

IdArray = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_EPOCH = datetime(1970, 1, 1)  # naive: capture times are naive local times, compared as such
_MICROSECOND = timedelta(microseconds=1)
# Rows fetched per round trip while reading the columns: bounded memory at a million files.
_FETCH = 50_000
# Ids are looked up through a table of positions by id when the largest id is below this many times the
# number of photos (4 bytes an id: 16 MB at a million photos with three in four ids deleted).
DENSE_SPAN = 4
# SQLite's LIKE and lower() fold ASCII letters only; so must the comparisons here.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _naive_us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _fold(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@dataclass(frozen=True, eq=False)
class PhotoColumns:
    """What folder, date and camera filters and date ordering need of every photo that has a file.

    Attributes:
        ids: photo ids, sorted; every other per-photo array is aligned with it.
        dated: the photo has a capture time.
        taken_us: capture time as naive microseconds since 1970 (0 where undated).
        file_ns: the modification time (ns) of the photo's oldest file, which dates an undated photo.
        when_us: the date photos are ordered by (capture time, else the file's as a naive local time).
        camera_codes: index into `cameras`, -1 for none.
        file_photo: for each file, the position of its photo in `ids`.
        file_dir: for each file, the index of its folder in `dirs`.
        dirs: the distinct folders holding files, each ending with a separator.
        watched: the watched folders' paths.
    """

    ids: IdArray
    dated: Mask
    taken_us: IdArray
    file_ns: IdArray
    when_us: IdArray
    camera_codes: npt.NDArray[np.int32]
    cameras: tuple[str, ...]
    file_photo: npt.NDArray[np.int64]
    file_dir: npt.NDArray[np.int32]
    dirs: tuple[str, ...]
    watched: tuple[str, ...]
    _dir_answers: dict[str, Mask] = field(default_factory=dict, repr=False)  # folder filter -> passing dirs

    @classmethod
    def read(cls, engine: Engine) -> PhotoColumns:
        """One pass over every file and its photo: 2.5-14 s at 100,000 photos and 73 s at a million on a 2-core
        machine at load 10 (README, Scale), so it happens only when a filtered search needs it."""
        with engine.connect() as conn:
            watched = tuple(str(r[0]) for r in conn.execute(select(s.folders.c.path)))
            result = conn.exec_driver_sql(
                "SELECT f.photo_id, f.path, f.mtime_ns, p.taken_at, p.camera"
                " FROM files f JOIN photos p ON p.id = f.photo_id ORDER BY f.photo_id"
            )
            return _Reader(watched).consume(iter(lambda: result.fetchmany(_FETCH), []))

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, photo_ids: IdArray) -> npt.NDArray[np.int64]:
        """Positions in `ids` of those of `photo_ids` that have a file (others are dropped), in their order."""
        table = self._position_table
        if table is not None:
            found = table[photo_ids[(photo_ids >= 0) & (photo_ids < len(table))]]
            return found[found >= 0].astype(np.int64)
        pos = np.searchsorted(self.ids, photo_ids)
        inside = pos < len(self.ids)
        pos, photo_ids = pos[inside], photo_ids[inside]
        return np.asarray(pos[self.ids[pos] == photo_ids], dtype=np.int64)

    def mask_of(self, photo_ids: IdArray) -> Mask:
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[self.positions(photo_ids)] = True
        return mask

    def catalog_mask(
        self, folders: Sequence[str], after: datetime | None, before: datetime | None, cameras: Sequence[str]
    ) -> Mask:
        """Photos in any of `folders`, taken in [after, before), with any of `cameras`, as
        photo_filters.matching_photo_ids decides it."""
        mask = np.ones(len(self.ids), dtype=bool)
        if after is not None:
            mask &= np.where(self.dated, self.taken_us >= _naive_us(after), self.file_ns >= _as_ns(after))
        if before is not None:
            mask &= np.where(self.dated, self.taken_us < _naive_us(before), self.file_ns < _as_ns(before))
        if cameras:
            mask &= self._camera_mask(cameras)
        if folders:
            mask &= self._folder_mask(folders)
        return mask

    def in_date_order(self, positions: npt.NDArray[np.int64], newest_first: bool) -> IdArray:
        """The photos at sorted `positions` by date, ties in id order (as photo_filters.dated_order)."""
        when = self.when_us[positions]
        order = np.argsort(-when if newest_first else when, kind="stable")
        return self.ids[positions[order]]

    def _camera_mask(self, cameras: Sequence[str]) -> Mask:
        wanted = [_fold(c) for c in cameras]
        passing = np.array([any(w in _fold(name) for w in wanted) for name in self.cameras] + [False], dtype=bool)
        return passing[self.camera_codes]  # code -1 reads the False appended for photos without a camera

    def _folder_mask(self, folders: Sequence[str]) -> Mask:
        passing = np.zeros(len(self.dirs) + 1, dtype=bool)  # one spare: np.zeros(0)[codes] of no files
        for folder in folders:
            passing[:-1] |= self._passing_dirs(folder)
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[self.file_photo[passing[self.file_dir]]] = True
        return mask

    def _passing_dirs(self, folder: str) -> Mask:
        """Which of `dirs` pass `folder:` (photo_filters._in_folder, on the folder part of the path: its
        pattern ends with a separator, so a match never reaches into the file name); kept per folder."""
        found = self._dir_answers.get(folder)
        if found is None:
            if os.path.isabs(folder):
                prefix = folder.rstrip(os.sep) + os.sep
                found = np.array([d.startswith(prefix) for d in self.dirs], dtype=bool)
            else:
                needle = _fold(os.sep + folder + os.sep)
                found = np.array([any(needle in below for below in belows) for belows in self._below_roots])
            self._dir_answers[folder] = found = found.astype(bool)
        return found

    @functools.cached_property
    def _position_table(self) -> npt.NDArray[np.int32] | None:
        """Each photo's position in `ids` by photo id (-1: none), when ids are dense as SQLite rowids are: a
        gather instead of a binary search per id (8 ms for a tag on 20,000 photos of 100,000, loaded)."""
        if not len(self.ids) or self.ids[-1] > DENSE_SPAN * len(self.ids):
            return None
        table = np.full(int(self.ids[-1]) + 1, -1, dtype=np.int32)
        table[self.ids] = np.arange(len(self.ids), dtype=np.int32)
        return table

    @functools.cached_property
    def _below_roots(self) -> list[tuple[str, ...]]:
        """For each of `dirs`, what a folder name is matched in below each watched folder holding it: the
        watched folder's own name and the path below it, ASCII case folded."""
        return [
            tuple(
                _fold(os.sep + os.path.basename(root) + d[len(root) :])
                for root in self.watched
                if d.startswith(root + os.sep)
            )
            for d in self.dirs
        ]


class _Reader:
    """Accumulates the rows of PhotoColumns.read, grouped by photo (rows come in photo id order)."""

    def __init__(self, watched: tuple[str, ...]) -> None:
        self.watched = watched
        self.dir_codes: dict[str, int] = {}
        self.camera_codes: dict[str, int] = {}
        self.photo_ids: list[int] = []
        self.mtimes: list[int] = []
        self.file_dirs: list[int] = []
        self.taken: list[str | None] = []
        self.cameras: list[int] = []

    def consume(self, batches: object) -> PhotoColumns:
        for rows in batches:  # type: ignore[attr-defined]
            self._add(rows)
        file_ids = np.array(self.photo_ids, dtype=np.int64)
        ids, first, file_photo = np.unique(file_ids, return_index=True, return_inverse=True)
        file_ns = np.array(self.mtimes, dtype=np.int64)
        oldest = np.minimum.reduceat(file_ns, first) if first.size else file_ns[:0]
        taken = np.array([self.taken[i] for i in first], dtype="datetime64[us]")
        dated = ~np.isnat(taken)
        taken_us = np.where(dated, taken.astype(np.int64), 0)
        when_us = taken_us.copy()
        for k in np.flatnonzero(~dated):  # datetime.fromtimestamp, as photo_filters.photo_dates dates them
            when_us[k] = _naive_us(datetime.fromtimestamp(int(oldest[k]) / 1e9))
        return PhotoColumns(
            ids=ids.astype(np.int64),
            dated=dated,
            taken_us=taken_us,
            file_ns=oldest,
            when_us=when_us,
            camera_codes=np.array([self.cameras[i] for i in first], dtype=np.int32),
            cameras=tuple(self.camera_codes),
            file_photo=file_photo.astype(np.int64).ravel(),
            file_dir=np.array(self.file_dirs, dtype=np.int32),
            dirs=tuple(self.dir_codes),
            watched=self.watched,
        )

    def _add(self, rows: Sequence[tuple[int, str | bytes, int, str | None, str | None]]) -> None:
        """Column by column, in comprehensions: a loop over rows took 2.7 s per 100,000 on a loaded machine."""
        if not rows:
            return
        photo_ids, stored, mtimes, taken, cameras = zip(*rows, strict=True)
        # a name that is not UTF-8 is stored as bytes (schema.FilePath)
        paths = [os.fsdecode(p) for p in stored] if any(isinstance(p, bytes) for p in stored) else stored
        dirs, codes, sep = self.dir_codes, self.camera_codes, os.sep
        self.photo_ids.extend(photo_ids)
        self.mtimes.extend(mtimes)
        self.taken.extend(taken)
        self.file_dirs.extend([dirs.setdefault(p[: p.rfind(sep) + 1], len(dirs)) for p in paths])
        self.cameras.extend([-1 if c is None else codes.setdefault(c, len(codes)) for c in cameras])
