"""The duplicate search of a library, and the person's review of what it found.

A search has a reading part and a writing part, so that the long part never holds the one writer (other
writes would wait for it: about a minute at 100,000 photos). `search` reads: it takes a snapshot of the
vectors of the library's index (the stored embeddings of its model), finds the pairs above
CANDIDATE_SIMILARITY with a range search, decodes only the photos of those pairs not seen before for a
perceptual hash and sharpness, keeps the pairs the embedding settles or the hash confirms, joins them into
groups and picks the best copy of each (largest, then sharpest, then earliest). `save` writes what it
found in one transaction: the new signatures (so the next search decodes only photos it has not seen) and
the groups. `find` does both on one thread (the CLI). A cancel while photos are read raises `Cancelled`
whose `partial` holds `Findings` without groups: saving them keeps the signatures read so far, and the
groups of the last finished search stay as they were.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from photosift.core.catalog.photo_filters import photo_dates
from photosift.core.duplicates import store
from photosift.core.duplicates.pairs import best_first, confirmed, connected_groups, similar_pairs
from photosift.core.duplicates.records import DuplicateGroup, DuplicateReport, Findings, FoundGroup, Signature
from photosift.core.duplicates.signatures import read_signature
from photosift.core.errors import Cancelled
from photosift.core.export_target import refuse_photo_folders, write_json
from photosift.core.parallel import map_ahead
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress

if TYPE_CHECKING:
    from photosift.core.catalog import Catalog
    from photosift.core.vindex import FloatArray, IdArray, VectorIndex

EXPORT_FORMAT = "photosift-duplicates"
EXPORT_VERSION = 1
# Decoding threads for signatures: Pillow releases the GIL while decoding, and two cores are the floor.
DECODE_WORKERS = 2
# Photos read between progress reports and cancel checks.
PROGRESS_EVERY = 64
# A snapshot retries when an indexing run removes a photo between reading the ids and their vectors.
SNAPSHOT_TRIES = 3


class DuplicateSource(Protocol):
    """What the duplicate search needs of its library (`core.library.Library`): the catalog (photos, their
    dates, the groups and signatures) and its model's vector index (the embeddings compared)."""

    @property
    def catalog(self) -> Catalog: ...

    def vector_index(self) -> VectorIndex: ...


class Duplicates:
    """Find, list, review and export the near-duplicate groups of one library (stateless: the catalog
    holds everything, so a front end makes one whenever it needs it)."""

    def __init__(self, library: DuplicateSource) -> None:
        self._library = library
        self._engine = library.catalog.engine

    def find(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> DuplicateReport:
        """Search the whole library for near-duplicates and store the groups, on one thread.

        Raises:
            Cancelled: `cancel` was set; the signatures read so far are stored, the earlier groups stay.
        """
        try:
            findings = self.search(progress, cancel)
        except Cancelled as stopped:
            if isinstance(stopped.partial, Findings):
                self.save(stopped.partial)
            raise
        return self.save(findings)

    def search(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> Findings:
        """The reading part of a search (see the module docstring): writes nothing, so it runs beside
        searches and writes.

        Raises:
            Cancelled: `cancel` was set; `partial` is `Findings` with the signatures read so far, or None
                before any photo was read.
        """
        started = time.perf_counter()
        ids, vectors = _snapshot(self._library.vector_index())
        pairs = similar_pairs(ids, vectors, progress=progress, cancel=cancel)
        involved = np.union1d(pairs.first, pairs.second).tolist()
        known = store.read_signatures(self._engine, involved)
        try:
            new = self._read_signatures([i for i in involved if i not in known], progress, cancel)
        except Cancelled as stopped:
            read = stopped.partial if isinstance(stopped.partial, dict) else {}
            partial = Findings(len(ids), len(pairs), 0, None, read, time.perf_counter() - started)
            raise Cancelled(partial=partial) from None
        signatures = known | new
        kept = confirmed(pairs, signatures)
        rows = {int(i): r for r, i in enumerate(ids.tolist())}
        found = tuple(self._ordered(group, signatures, vectors, rows) for group in connected_groups(kept))
        return Findings(len(ids), len(pairs), len(kept), found, new, time.perf_counter() - started)

    def save(self, findings: Findings) -> DuplicateReport:
        """Store what `search` found: its new signatures, and its groups (unless it stopped before grouping,
        when the earlier groups stay). The writing part: short, for the writer."""
        started = time.perf_counter()
        store.save_signatures(self._engine, findings.new_signatures)
        duplicates = 0 if findings.groups is None else store.replace_groups(self._engine, findings.groups)
        return DuplicateReport(
            findings.photos,
            findings.candidate_pairs,
            findings.confirmed_pairs,
            len(findings.groups or ()),
            duplicates,
            len(findings.new_signatures),
            findings.elapsed_s + time.perf_counter() - started,
        )

    def groups(self) -> list[DuplicateGroup]:
        """Every group, in the order found (largest first), best copy first in each."""
        return store.read_groups(self._engine)

    def group(self, group_id: int) -> DuplicateGroup | None:
        """One group as it is now, or None when it is gone (a new search, or its photos deleted)."""
        found = store.read_groups(self._engine, [group_id])
        return found[0] if found else None

    def keep(self, group_id: int, photo_id: int) -> None:
        """Keep `photo_id` as the group's best copy; the person's word marks every other photo a duplicate."""
        store.keep(self._engine, group_id, photo_id)

    def mark(self, photo_ids: Sequence[int], duplicate: bool) -> int:
        """Mark photos as duplicates or not, as the person's word (a new search keeps it)."""
        return store.mark(self._engine, photo_ids, duplicate)

    def duplicate_photo_ids(self) -> set[int]:
        return store.duplicate_photo_ids(self._engine)

    def export(self, path: Path) -> int:
        """Write every group (paths to keep and duplicates) to a JSON file; returns the groups written.
        The person acts on the list: Photosift never deletes or moves a photo.

        Raises:
            UserError: `path` lies in a photo folder.
        """
        refuse_photo_folders(self._engine, [path])
        groups = self.groups()
        data = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "groups": [
                {
                    "id": g.id,
                    "keep": [m.path for m in g.members if not m.duplicate],
                    "duplicates": [m.path for m in g.members if m.duplicate],
                    "reviewed": g.reviewed,
                }
                for g in groups
            ],
        }
        write_json(path, data, "the duplicate list")
        return len(groups)

    def _read_signatures(
        self, photo_ids: list[int], progress: ProgressCallback, cancel: CancelToken | None
    ) -> dict[int, Signature]:
        """The signatures of `photo_ids` read from their files (none stored here).

        Raises:
            Cancelled: `cancel` was set; `partial` is the dict of signatures read so far.
        """
        infos = self._library.catalog.photos(photo_ids)
        todo = [(i, infos[i].paths) for i in photo_ids if i in infos]
        read: dict[int, Signature] = {}
        for done, (photo_id, signature) in enumerate(
            map_ahead(
                lambda item: (item[0], read_signature(item[1])), todo, DECODE_WORKERS, 4 * DECODE_WORKERS, "dup-hash"
            ),
            start=1,
        ):
            read[photo_id] = signature
            if done % PROGRESS_EVERY == 0 or done == len(todo):
                progress(Progress("duplicate-hashes", done, len(todo), message="Reading photos to confirm"))
                if cancel is not None and cancel.cancelled:
                    raise Cancelled(partial=read)
        return read

    def _ordered(
        self, group: list[int], signatures: dict[int, Signature], vectors: np.ndarray, rows: dict[int, int]
    ) -> FoundGroup:
        """The group with its best copy first (largest, then sharpest, then earliest) and similarities to it."""
        infos = self._library.catalog.photos(group)
        dates = photo_dates(self._engine, group)

        def rank(photo_id: int) -> tuple[float, ...]:
            info, signature, date = infos.get(photo_id), signatures.get(photo_id), dates.get(photo_id)
            pixels = (info.width or 0) * (info.height or 0) if info else 0
            sharpness = signature.sharpness if signature and signature.sharpness is not None else 0.0
            return float(pixels), sharpness, -date.when.timestamp() if date else 0.0

        ordered = best_first(group, rank)
        members = vectors[[rows[p] for p in ordered]]
        members = members / np.linalg.norm(members, axis=1, keepdims=True)  # stored as float16: not quite unit
        return FoundGroup(tuple(ordered), tuple(float(s) for s in members @ members[0]))


def _snapshot(index: VectorIndex) -> tuple[IdArray, FloatArray]:
    """The index's ids and their vectors as one consistent copy, while indexing may run beside the search.

    Raises:
        KeyError: photos kept being removed between the two reads (SNAPSHOT_TRIES times).
    """
    for _ in range(SNAPSHOT_TRIES - 1):
        ids = index.ids()
        try:
            return ids, index.vectors(ids)
        except KeyError:
            continue
    ids = index.ids()
    return ids, index.vectors(ids)
