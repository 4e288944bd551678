"""Automatic tagging for one model: tag vectors, scoring photos as they are indexed, and re-tagging.

Photos are scored with one matrix product of their vectors against the cached (T, D) tag matrix. Of each
photo's T scores only its TOP_K best are stored, as candidates; every score goes into its tag's histogram,
from which the tag's threshold is calibrated (core.tags.calibration). A photo carries a tag when the tag
is among its candidates and the score reaches the tag's threshold, unless the user said otherwise.
Scores come from stored embeddings, so re-tagging (a new tag, a changed vocabulary, another model's
photos) never runs the image model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from photosift.core.catalog import Catalog
from photosift.core.catalog.embeddings import as_stored
from photosift.core.errors import Cancelled
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from photosift.core.tags.calibration import Histogram, empty_histograms, histograms
from photosift.core.tags.records import RetagReport, TagInfo
from photosift.core.tags.scoring import (
    TOP_K,
    Candidates,
    TextEncoder,
    Vectors,
    blend_examples,
    definition_key,
    scores,
    text_vectors,
    top_k,
)
from photosift.core.tags.store import CachedVector, TagStore
from photosift.core.tags.verdicts import LabelStore
from photosift.core.tags.vocabulary import VOCABULARY_FILE, Vocabulary, load_vocabulary

RETAG_CHUNK = 4096  # photos scored at a time: (4096, 1152) float32 vectors are 19 MB
# When more than this share of the tags changed (a vocabulary or template update), re-tag everything:
# reading every embedding costs the same either way, and a full re-tag leaves exact top-k candidates.
FULL_RETAG_SHARE = 0.1
# Histograms are rebuilt once they count this share of photos more than are embedded (deleted photos,
# whose scores cannot be taken back out): 5 % moves a threshold by well under a bin.
STALE_HISTOGRAM_SHARE = 0.05
STALE_HISTOGRAM_SLACK = 2  # photos: small libraries rebuild for a couple of deletions, which costs nothing


@dataclass(frozen=True)
class TagMatrix:
    """The model's tag vectors, one row per tag, with the tag ids in row order."""

    tag_ids: npt.NDArray[np.int64]
    vectors: Vectors


class Tagger:
    """Scores one model's photos against every tag, and keeps the scores current.

    Thread-safe: the indexer's writer thread calls `tag_batch` while other threads read. `_lock` guards
    only the cached vocabulary and matrix and is never held across model or database work, so readers
    never wait for a preparation (encoding every prompt takes a minute on a CPU); `_prepare_lock` keeps
    two preparations from computing the same vectors twice.
    """

    def __init__(
        self, catalog: Catalog, model_id: int, encode_texts: TextEncoder, vocabulary_path: Path = VOCABULARY_FILE
    ) -> None:
        self.catalog = catalog
        self.model_id = model_id
        self.store = TagStore(catalog.engine)
        self.labels = LabelStore(catalog.engine)
        self._encode = encode_texts
        self._vocabulary_path = vocabulary_path
        self._vocabulary: Vocabulary | None = None
        self._matrix: TagMatrix | None = None
        self._lock = threading.Lock()
        self._prepare_lock = threading.Lock()

    def vocabulary(self) -> Vocabulary:
        """The built-in vocabulary (read from its file once)."""
        with self._lock:
            if self._vocabulary is None:
                self._vocabulary = load_vocabulary(self._vocabulary_path)
            return self._vocabulary

    def seed_vocabulary(self) -> None:
        """Bring the catalog's built-in tags in line with the vocabulary (idempotent, a few milliseconds);
        done when a library opens, so reads never write."""
        self.store.seed(self.vocabulary())

    def prepare(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> TagMatrix:
        """The tag matrix, after computing the vectors of tags that have none for this model (or a stale
        one) and re-scoring those tags over the photos already tagged. Cheap when nothing changed."""
        with self._prepare_lock:
            tagged = self.store.has_scores(self.model_id)  # before stale tags' old scores are dropped
            matrix, stale = self._refresh_vectors(progress, cancel)
            if stale and tagged:
                if len(stale) > FULL_RETAG_SHARE * len(matrix.tag_ids):
                    self._retag(matrix, progress, None)
                else:
                    self._rescore(matrix, stale, progress)
            return matrix

    def prepare_if_cached(self, progress: ProgressCallback = no_progress) -> None:
        """`prepare` when this model already has tag vectors (cheap), so indexing can tag batches as they
        are written. On a model's first run the vectors (thousands of prompts through the text tower, a
        minute on a CPU) are left to `catch_up` after indexing: the photos become searchable first."""
        if self.store.vectors(self.model_id):
            self.prepare(progress)

    def forget_matrix(self) -> None:
        """Drop the cached matrix after tags were added or removed; the next use rebuilds it."""
        with self._lock:
            self._matrix = None

    def tag_batch(self, photo_ids: Sequence[int], vectors: Vectors) -> None:
        """Score freshly embedded photos and store their candidates (called per written indexing batch,
        once `prepare` has built the tag matrix)."""
        with self._lock:
            matrix = self._matrix
        if matrix is None or len(photo_ids) == 0 or len(matrix.tag_ids) == 0:
            return  # no tag vectors yet: `catch_up` scores these photos once they exist
        ids = np.asarray(photo_ids, dtype=np.int64)
        candidates, counts = _score(ids, as_stored(np.asarray(vectors)), matrix)
        self.store.add_scores(self.model_id, candidates, _by_tag(matrix.tag_ids, counts))

    def catch_up(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> int:
        """Bring this model's tags up to date after indexing: vectors for new or changed tags (re-scoring
        those), and scores for embedded photos that have none (embedded before tagging existed, or a run
        stopped between a batch's vectors and its scores). Returns how many photos were tagged; no model
        work when nothing changed."""
        pending = self.store.untagged_photo_ids(self.model_id)
        if not pending and not self.store.has_scores(self.model_id):
            return 0
        try:
            self.prepare(progress, cancel)
        except Cancelled:
            return 0  # nothing is lost: the next run catches up

        if pending:  # again: a full re-tag in `prepare` may have scored them already
            pending = self.store.untagged_photo_ids(self.model_id)
        for done in range(0, len(pending), RETAG_CHUNK):
            if cancel is not None and cancel.cancelled:
                break
            ids, vectors = self.catalog.embeddings(self.model_id, pending[done : done + RETAG_CHUNK])
            self.tag_batch(ids.tolist(), vectors)
            progress(Progress("tag", min(done + RETAG_CHUNK, len(pending)), len(pending)))
        if self._counts_deleted_photos():
            self.retag(progress, cancel)
        return len(pending)

    def _counts_deleted_photos(self) -> bool:
        """Whether the histograms still count many photos deleted since they were built (batches only ever
        add to them), so thresholds drift: then a re-tag from the stored embeddings rebuilds them."""
        counted = max((c.photos for c in self.store.calibrations(self.model_id).values()), default=0)
        embedded = len(self.store.embedded_photo_ids(self.model_id))
        return counted > embedded + max(STALE_HISTOGRAM_SLACK, embedded * STALE_HISTOGRAM_SHARE)

    def retag(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> RetagReport:
        """Re-score every embedded photo of this model from its stored embedding, replacing all automatic
        scores and histograms at once (labels are untouched). Cancelling leaves the old tags in place."""
        with self._prepare_lock:
            matrix, _ = self._refresh_vectors(progress, cancel)
        return self._retag(matrix, progress, cancel)

    # Internals -----------------------------------------------------------------------------------

    def _refresh_vectors(
        self, progress: ProgressCallback, cancel: CancelToken | None = None
    ) -> tuple[TagMatrix, list[int]]:
        """Compute missing or stale tag vectors; returns the matrix and the ids of the tags recomputed."""
        templates = self.vocabulary().templates
        tags = self.store.tags()
        cached = self.store.vectors(self.model_id)
        definitions = self._definitions(tags, templates)
        stale = [t for t in tags if t.id not in cached or cached[t.id].definition != definitions[t.id]]
        if stale:
            fresh = self._compute_vectors(stale, definitions, templates, progress, cancel)
            self.store.save_vectors(self.model_id, fresh)
            cached.update(fresh)
        ids = np.array([t.id for t in tags], dtype=np.int64)
        vectors = np.stack([cached[t.id].vector for t in tags]) if tags else np.zeros((0, 0), np.float32)
        matrix = TagMatrix(ids, vectors)
        with self._lock:
            self._matrix = matrix
        return matrix, [t.id for t in stale]

    def _definitions(self, tags: Sequence[TagInfo], templates: Sequence[str]) -> dict[int, str]:
        wanted = sorted({p for t in tags for p in t.examples})
        embedded = set(self.catalog.embeddings(self.model_id, wanted)[0].tolist()) if wanted else set()
        return {t.id: definition_key(t.prompts, templates, [p for p in t.examples if p in embedded]) for t in tags}

    def _compute_vectors(
        self,
        tags: Sequence[TagInfo],
        definitions: dict[int, str],
        templates: Sequence[str],
        progress: ProgressCallback,
        cancel: CancelToken | None,
    ) -> dict[int, CachedVector]:
        progress(Progress("tag-vectors", 0, len(tags)))
        texts = text_vectors(self._encode, [t.prompts for t in tags], templates, cancel)
        fresh = {}
        for tag, vector in zip(tags, texts, strict=True):
            if tag.examples:
                _, examples = self.catalog.embeddings(self.model_id, list(tag.examples))
                vector = blend_examples(vector, examples)
            fresh[tag.id] = CachedVector(definitions[tag.id], vector)
        progress(Progress("tag-vectors", len(tags), len(tags)))
        return fresh

    def _retag(self, matrix: TagMatrix, progress: ProgressCallback, cancel: CancelToken | None) -> RetagReport:
        start = time.perf_counter()
        photo_ids = self.store.embedded_photo_ids(self.model_id)
        parts: list[Candidates] = []
        counts = empty_histograms(len(matrix.tag_ids))
        for done in range(0, len(photo_ids), RETAG_CHUNK):
            if cancel is not None and cancel.cancelled:
                return RetagReport(0, len(matrix.tag_ids), time.perf_counter() - start, cancelled=True)
            ids, vectors = self.catalog.embeddings(self.model_id, photo_ids[done : done + RETAG_CHUNK])
            candidates, chunk_counts = _score(ids, vectors, matrix)
            parts.append(candidates)
            counts += chunk_counts
            progress(Progress("tag", min(done + RETAG_CHUNK, len(photo_ids)), len(photo_ids)))
        self.store.replace_scores(self.model_id, None, Candidates.concat(parts), _by_tag(matrix.tag_ids, counts))
        return RetagReport(len(photo_ids), len(matrix.tag_ids), time.perf_counter() - start)

    def _rescore(self, matrix: TagMatrix, tag_ids: Sequence[int], progress: ProgressCallback) -> None:
        """Re-score a few tags (new or changed) over the photos already tagged, without a full re-tag.

        A photo keeps a new score as a candidate when it beats the photo's lowest other candidate (or the
        photo has fewer than TOP_K others): its other candidates stay, so a photo may hold a few more than
        TOP_K until the next full re-tag trims it."""
        rows = np.isin(matrix.tag_ids, np.asarray(tag_ids, dtype=np.int64))
        sub = TagMatrix(matrix.tag_ids[rows], matrix.vectors[rows])
        floors = self.store.candidate_floors(self.model_id, sub.tag_ids.tolist())
        photo_ids = self.store.tagged_photo_ids(self.model_id)
        parts, counts = [], empty_histograms(len(sub.tag_ids))
        for done in range(0, len(photo_ids), RETAG_CHUNK):
            ids, vectors = self.catalog.embeddings(self.model_id, photo_ids[done : done + RETAG_CHUNK])
            candidates, chunk_counts = _score(ids, vectors, sub)
            others = [floors.get(int(p), (0, -1.0)) for p in candidates.photo_ids]
            count = np.array([c for c, _ in others], dtype=np.int64)
            floor = np.array([f for _, f in others], dtype=np.float32)
            parts.append(candidates.only((count < TOP_K) | (candidates.scores > floor)))
            counts += chunk_counts
            progress(Progress("tag", min(done + RETAG_CHUNK, len(photo_ids)), len(photo_ids)))
        candidates = Candidates.concat(parts)
        self.store.replace_scores(self.model_id, sub.tag_ids.tolist(), candidates, _by_tag(sub.tag_ids, counts))


def _score(photo_ids: npt.NDArray[np.int64], vectors: Vectors, matrix: TagMatrix) -> tuple[Candidates, Histogram]:
    """Each photo's TOP_K candidates, and (T, BINS) counts of all its scores."""
    score_matrix = scores(vectors, matrix.vectors)
    rows, columns = top_k(score_matrix, TOP_K)
    candidates = Candidates(matrix.tag_ids[columns], photo_ids[rows], score_matrix[rows, columns])
    return candidates, histograms(score_matrix)


def _by_tag(tag_ids: npt.NDArray[np.int64], counts: Histogram) -> dict[int, Histogram]:
    return {int(t): counts[i] for i, t in enumerate(tag_ids)}
