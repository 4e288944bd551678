"""Filtered searches: scoring only the photos a filter lets through.

A filter hands the vector index the sorted ids that may come back. Handed to FAISS as an id selector,
they still cost a walk over every stored vector a search visits: an exact index checks each of them,
and an approximate one widens its probes as fewer photos pass (core.vindex: `_probes`), so below about
3 % of a million photos it visits every list and checks a million ids to score a few thousand. At a
million photos that walk alone took 30 ms a search on a loaded 2-core machine. So:

- exact index: only the allowed photos' rows are read and scored (`FlatRows`), where FAISS's selector
  scan checks every row;
- approximate index: the allowed photos' 8-bit codes are copied, once per filter, into an inverted
  file of their own that shares the index's coarse quantiser and code book (`IvfLayout.subset`).
  Searches with that filter probe it with the number of lists the selector would have probed: the
  same candidates, so the same results, without the walk. Where every list is probed (few photos
  pass, up to about 32,000 at a million) that is an exact pass over the allowed photos' codes.

`Subsets` keeps both for one state of the index; any change to the index drops them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from photosift.core.vindex_file import faiss

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
Positions = npt.NDArray[np.int64]

# Filters pass their ids to FAISS as a bitmap when the largest id is below this many times their number
# (dense SQLite rowids): it builds in ~0.6 ms for 200k ids, IDSelectorBatch's hash set in ~20 ms. Sparser
# ids use the hash set, whose size follows the number of ids rather than the largest one.
BITMAP_MAX_SPAN = 64
# An exact index scores the allowed rows one by one while they are at most this share of it; beyond it
# one product over every row (numpy's, on every core), then a pick of the allowed scores.
GATHER_MAX_SHARE = 0.25
# An approximate index copies the allowed photos' codes into a subset index while they are at most this
# share of it (1,154 bytes a photo: 72 MB at a million). At a million photos on a loaded 2-core machine
# (load 9) the subset searched 2,000 / 20,000 / 43,000 / 100,000 allowed photos in 1.6 / 38 / 55 / 49 ms
# against the selector's 59 / 105 / 118 / 90 ms; above a sixteenth the selector probes at most 512 of
# 1,000 lists, so its walk is short, and a copy would hold more than 72 MB.
SUBSET_MAX_SHARE = 1 / 16
# Up to this many allowed rows an exact index copies them out and multiplies (0.8 ms for 178 rows of
# 100,000); FAISS's in-place scoring of a few rows waited 60 ms for its thread team on a loaded machine.
_COPY_MAX_ROWS = 2048


def selector(allowed: IdArray) -> tuple[Any, IdArray | npt.NDArray[np.uint8]]:
    """A FAISS id selector for sorted, unique `allowed`, and the array it reads (keep both alive)."""
    if allowed[-1] < BITMAP_MAX_SPAN * allowed.size:
        bits = np.zeros(int(allowed[-1]) + 1, dtype=bool)
        bits[allowed] = True
        bitmap = np.packbits(bits, bitorder="little")  # IDSelectorBitmap tests bit (id & 7) of byte id >> 3
        return faiss.IDSelectorBitmap(bitmap), bitmap
    return faiss.IDSelectorBatch(allowed), allowed


class Subsets:
    """What filtered searches reuse while the index stands still: an exact index's row lookup, an
    approximate one's code layout, and the subset index of the last filter. Not thread-safe: the vector
    index calls it under its search lock, and `clear` under its write lock."""

    def __init__(self) -> None:
        self._flat: FlatRows | None = None
        self._layout: IvfLayout | None = None
        self._asked = False  # a filtered search found no layout since the last change
        self._allowed: IdArray | None = None
        self._subset: Any = None

    def clear(self) -> None:
        self._flat = self._layout = self._allowed = self._subset = None
        self._asked = False

    def flat(self, index: Any) -> FlatRows:
        if self._flat is None:
            self._flat = FlatRows(index)
        return self._flat

    def ivf(self, index: Any, allowed: IdArray) -> Any:
        """An inverted file holding only `allowed`'s codes, or None: use the selector.

        The layout (argsort of every id, 0.2-0.3 s at a million on a loaded machine) is made by the
        second filtered search after a change, so an indexing run that adds between searches never pays
        it; the subset itself is made by the first search with a filter and kept for the next ones."""
        if self._allowed is not None and np.array_equal(allowed, self._allowed):
            return self._subset
        if allowed.size > SUBSET_MAX_SHARE * int(index.ntotal):
            return None
        if self._layout is None:
            if not self._asked:
                self._asked = True
                return None
            self._layout = IvfLayout(index)
        self._subset, self._allowed = self._layout.subset(index, allowed), allowed
        return self._subset


class _IdLookup:
    """Positions of ids in an array of unique ids, by binary search over a sorted copy."""

    def __init__(self, ids: IdArray) -> None:
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]

    def __len__(self) -> int:
        return int(self._sorted.size)

    def positions(self, wanted: IdArray) -> Positions:
        """Positions of those `wanted` ids that are present, ascending (absent ones are dropped)."""
        pos = np.searchsorted(self._sorted, wanted)
        inside = pos < self._sorted.size
        pos = pos[inside]
        return np.sort(self._order[pos[self._sorted[pos] == wanted[inside]]])


class FlatRows:
    """An exact index's (`IndexIDMap2` over `IndexFlatIP`) rows by id, to score some of them."""

    def __init__(self, index: Any) -> None:
        n = int(index.ntotal)
        flat = faiss.downcast_index(index.index)
        self._ids = faiss.rev_swig_ptr(index.id_map.data(), n).astype(np.int64)
        self._lookup = _IdLookup(self._ids)
        self._vectors = faiss.rev_swig_ptr(flat.get_xb(), n * int(flat.d)).reshape(n, int(flat.d))

    def scores(self, queries: FloatArray, allowed: IdArray) -> tuple[FloatArray, IdArray]:
        """Each query's score for each stored allowed photo (queries x photos), and those photos' ids."""
        rows = self._lookup.positions(allowed)
        if rows.size > GATHER_MAX_SHARE * len(self._lookup):
            return np.ascontiguousarray((self._vectors @ queries.T)[rows].T), self._ids[rows]
        if rows.size <= _COPY_MAX_ROWS:
            return np.ascontiguousarray((self._vectors[rows] @ queries.T).T), self._ids[rows]
        # FAISS reads the rows in place: copying 20,000 of 100,000 rows out first took longer than the
        # selector scan on a loaded machine, and numpy's threaded product after it stalled behind other
        # processes (p95 2.5 s).
        scores = np.empty((len(queries), rows.size), dtype=np.float32)
        by_row = np.ascontiguousarray(np.broadcast_to(rows, scores.shape))
        swig_ptr, dim = faiss.swig_ptr, self._vectors.shape[1]
        faiss.fvec_inner_products_by_idx(
            swig_ptr(scores), swig_ptr(queries), swig_ptr(self._vectors), swig_ptr(by_row), dim, len(queries), rows.size
        )
        return scores, self._ids[rows]


class IvfLayout:
    """Where each id's code lies in an approximate index (`IndexIVFScalarQuantizer`): list and offset."""

    def __init__(self, index: Any) -> None:
        self._index = index
        lists, width = index.invlists, int(index.code_size)
        sizes = [int(lists.list_size(i)) for i in range(index.nlist)]
        self._starts = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        # Views of every list's ids and codes, made once: making them per subset cost 65 us a list loaded.
        self._list_ids = [np.asarray(faiss.rev_swig_ptr(lists.get_ids(i), n), np.int64) for i, n in enumerate(sizes)]
        self._list_codes = [
            np.asarray(faiss.rev_swig_ptr(lists.get_codes(i), n * width), np.uint8).reshape(n, width) if n else None
            for i, n in enumerate(sizes)
        ]
        self._ids = np.concatenate(self._list_ids) if sizes else np.empty(0, np.int64)
        self._lookup = _IdLookup(self._ids)

    def subset(self, index: Any, allowed: IdArray) -> Any:
        """A copy of `index`'s trained parts holding only the codes of `allowed` (absent ids are dropped)."""
        pos = self._lookup.positions(allowed)
        list_nos = np.searchsorted(self._starts, pos, side="right") - 1
        ids = self._ids[pos]
        codes = np.empty((pos.size, int(index.code_size)), dtype=np.uint8)
        subset = faiss.IndexIVFScalarQuantizer(
            index.quantizer, index.d, index.nlist, index.sq.qtype, index.metric_type, index.by_residual
        )
        subset.sq = index.sq  # the trained code book, copied
        subset.is_trained = True
        add, swig_ptr = subset.invlists.add_entries, faiss.swig_ptr
        bounds = np.flatnonzero(np.diff(list_nos)) + 1
        for a, b in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [pos.size])), strict=True):
            if a == b:  # no allowed photo is stored
                continue
            list_no = int(list_nos[a])
            source = self._list_codes[list_no]
            assert source is not None  # the list holds the photos found in it
            np.take(source, pos[a:b] - self._starts[list_no], axis=0, out=codes[a:b])
            add(list_no, int(b - a), swig_ptr(ids[a:b]), swig_ptr(codes[a:b]))
        subset.ntotal = pos.size
        return subset
