"""The duplicate search of a library, and the person's review of what it found.

A search reads the vectors of the library's index (the stored embeddings of its model), finds the pairs
above CANDIDATE_SIMILARITY with a range search, decodes only the photos of those pairs for a perceptual
hash and sharpness (kept in the catalog, so the next search decodes only photos it has not seen), keeps
the pairs the embedding settles or the hash confirms, joins them into groups, picks the best copy of each
(largest, then sharpest, then earliest) and stores the groups. It runs on a worker (the GUI's writer, or
the CLI's one thread), reports progress and stops at a cancel: signatures read so far stay stored, and
the groups of the last finished search stay as they were.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from photosift.core.catalog.photo_filters import photo_dates
from photosift.core.duplicates import store
from photosift.core.duplicates.pairs import best_first, confirmed, connected_groups, similar_pairs
from photosift.core.duplicates.records import DuplicateGroup, DuplicateReport, Signature
from photosift.core.duplicates.signatures import read_signature
from photosift.core.export_target import refuse_photo_folders, write_json
from photosift.core.parallel import map_ahead
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress

if TYPE_CHECKING:
    from photosift.core.library import Library

EXPORT_FORMAT = "photosift-duplicates"
EXPORT_VERSION = 1
# Decoding threads for signatures: Pillow releases the GIL while decoding, and two cores are the floor.
DECODE_WORKERS = 2
# Signatures stored per transaction: what a cancel keeps, and how often progress moves.
SIGNATURE_BATCH = 64


class Duplicates:
    """Find, list, review and export the near-duplicate groups of one library (stateless: the catalog
    holds everything, so a front end makes one whenever it needs it)."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self._engine = library.catalog.engine

    def find(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> DuplicateReport:
        """Search the whole library for near-duplicates and store the groups (see the module docstring).

        Raises:
            Cancelled: `cancel` was set; the earlier groups stay.
        """
        started = time.perf_counter()
        index = self._library.vector_index()
        ids = index.ids()
        vectors = index.vectors(ids)
        pairs = similar_pairs(ids, vectors, progress=progress, cancel=cancel)
        involved = np.union1d(pairs.first, pairs.second)
        signatures, hashed = self._signatures(involved.tolist(), progress, cancel)
        kept = confirmed(pairs, signatures)
        rows = {int(i): r for r, i in enumerate(ids.tolist())}
        found = [self._ordered(group, signatures, vectors, rows) for group in connected_groups(kept)]
        if cancel is not None:
            cancel.raise_if_cancelled()
        duplicates = store.replace_groups(self._engine, found)
        elapsed = time.perf_counter() - started
        return DuplicateReport(len(ids), len(pairs), len(kept), len(found), duplicates, hashed, elapsed)

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

    def _signatures(
        self, photo_ids: list[int], progress: ProgressCallback, cancel: CancelToken | None
    ) -> tuple[dict[int, Signature], int]:
        """Stored signatures of `photo_ids`, reading (and storing) those not known yet; and how many were read."""
        known = store.read_signatures(self._engine, photo_ids)
        missing = [i for i in photo_ids if i not in known]
        infos = self._library.catalog.photos(missing)
        todo = [(i, infos[i].paths) for i in missing if i in infos]
        batch: dict[int, Signature] = {}
        for done, (photo_id, signature) in enumerate(
            map_ahead(
                lambda item: (item[0], read_signature(item[1])), todo, DECODE_WORKERS, 4 * DECODE_WORKERS, "dup-hash"
            ),
            start=1,
        ):
            batch[photo_id] = signature
            if len(batch) >= SIGNATURE_BATCH or done == len(todo):
                store.save_signatures(self._engine, batch)
                known.update(batch)
                batch = {}
                progress(Progress("duplicate-hashes", done, len(todo), message="Reading photos to confirm"))
                if cancel is not None:
                    cancel.raise_if_cancelled()
        return known, len(todo)

    def _ordered(
        self, group: list[int], signatures: dict[int, Signature], vectors: np.ndarray, rows: dict[int, int]
    ) -> store.FoundGroup:
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
        return store.FoundGroup(tuple(ordered), tuple(float(s) for s in members @ members[0]))
