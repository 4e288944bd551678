"""Tags for one library and model: what the CLI, the GUI, albums and search filters call.

Definitions and labels are shared by every model of the catalog; automatic scores, thresholds and
suggestions are this model's. User labels always win over automatic tags: an accepted tag is carried
whatever the score, a rejected one never, and nothing automatic ever writes a label.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from pathlib import Path

from photosift.core.catalog import Catalog
from photosift.core.progress import ProgressCallback, no_progress
from photosift.core.tags.calibration import Calibration
from photosift.core.tags.records import PhotoTag, ReviewItem, TagInfo, TagSuggestion, in_group
from photosift.core.tags.scoring import TextEncoder
from photosift.core.tags.tagger import Tagger
from photosift.core.tags.vocabulary import VOCABULARY_FILE

PhotoTagPair = tuple[int, str]  # (photo id, tag name)
STATE_ORDER = {"accepted": 0, "auto": 1, "candidate": 2, "rejected": 3}


class TagService:
    """The user's view of tags for one model: definitions, which photos carry what, review and labels."""

    def __init__(
        self, catalog: Catalog, model_id: int, encode_texts: TextEncoder, vocabulary_path: Path = VOCABULARY_FILE
    ) -> None:
        self.tagger = Tagger(catalog, model_id, encode_texts, vocabulary_path)
        self.tagger.seed_vocabulary()  # here, when the library opens, so that reads never write
        self.store = self.tagger.store
        self.labels = self.tagger.labels
        self.model_id = model_id

    # Definitions ---------------------------------------------------------------------------------

    def tags(self, group: str | None = None) -> list[TagInfo]:
        """Every tag (built-in and custom), by group and name; only one group's when `group` is given
        (any case, and its first words suffice: "weather" is "Weather and seasons")."""
        return in_group(self.store.tags(), group)

    def tag(self, name: str) -> TagInfo:
        """Raises QueryError for an unknown name, listing close ones."""
        return self.store.tag(name)

    def add(
        self,
        name: str,
        prompts: Sequence[str],
        group: str | None = None,
        examples: Sequence[int] = (),
        progress: ProgressCallback = no_progress,
    ) -> TagInfo:
        """Create a custom tag and score it over the library (text model work for its prompts only)."""
        tag = self.store.add_tag(name, prompts, group, examples)
        self.tagger.prepare(progress)
        return tag

    def remove(self, name: str) -> int:
        """Delete a custom tag with its scores and labels; returns how many labels went with it."""
        removed = self.store.remove_tag(name)
        self.tagger.forget_matrix()
        return removed

    def set_sensitivity(self, name: str, level: int) -> TagInfo:
        """Set a tag's sensitivity step, -2 (fewer photos) to +2 (more); 0 is the calibrated threshold."""
        return self.store.set_sensitivity(name, level)

    # Which photos carry what ---------------------------------------------------------------------

    def photo_ids_with_tag(self, name: str) -> set[int]:
        """See TagStore.photo_ids_with_tag; QueryError for an unknown tag."""
        return self.store.photo_ids_with_tag(self.model_id, name)

    def counts(self) -> dict[str, int]:
        """Tag name -> how many photos carry it for this model."""
        tags = self.tags()
        calibrations = self.store.calibrations(self.model_id)
        thresholds = {t.id: calibrations[t.id].threshold(t.sensitivity) for t in tags if t.id in calibrations}
        automatic = self.store.counts_above(self.model_id, thresholds)
        accepted, rejected = self.labels.labelled(True), self.labels.labelled(False)
        # Labels override the automatic verdict: look up only the labelled photos' scores.
        labelled = sorted({p for ids in (*accepted.values(), *rejected.values()) for p in ids})
        scores = {(t, p): score for t, p, score in self.store.scores_of_photos(self.model_id, labelled)}
        counts = {}
        for tag in tags:
            threshold = thresholds.get(tag.id)

            def is_automatic(photo_id: int, tag_id: int = tag.id, threshold: float | None = threshold) -> bool:
                score = scores.get((tag_id, photo_id))
                return threshold is not None and score is not None and score >= threshold

            counts[tag.name] = (
                automatic.get(tag.id, 0)
                + sum(1 for p in accepted.get(tag.name, []) if not is_automatic(p))
                - sum(1 for p in rejected.get(tag.name, []) if is_automatic(p))
            )
        return counts

    def photo_tags(self, photo_id: int) -> list[PhotoTag]:
        """A photo's labels and automatic candidates: accepted, then automatic, then candidates below the
        threshold (each by confidence), then rejected."""
        tags = {t.id: t for t in self.tags()}
        calibrations = self.store.calibrations(self.model_id)
        labels = {tag_id: ok for (_, tag_id), ok in self.labels.labels_of_photos([photo_id]).items()}
        scored = {tag_id: score for tag_id, _, score in self.store.scores_of_photos(self.model_id, [photo_id])}
        found = []
        for tag_id in labels.keys() | scored.keys():
            tag, score, calibration = tags[tag_id], scored.get(tag_id), calibrations.get(tag_id)
            confidence = calibration.confidence(score) if calibration and score is not None else None
            state = _state(labels.get(tag_id), score, calibration, tag.sensitivity)
            found.append(PhotoTag(tag.name, tag.group, state, score, confidence))
        return sorted(found, key=lambda t: (STATE_ORDER[t.state], -(t.confidence or 0.0), t.name))

    def suggest(self, photo_ids: Sequence[int], top: int = 10) -> list[TagSuggestion]:
        """Tags for a set of photos (an album, a folder): those carried by the largest share of its photos,
        ties broken by mean confidence. The user accepts one by accepting it for the photos."""
        ids = sorted(set(photo_ids))
        if not ids or top <= 0:
            return []
        tags = {t.id: t for t in self.tags()}
        calibrations = self.store.calibrations(self.model_id)
        labels = self.labels.labels_of_photos(ids)
        scores = {(p, t): score for t, p, score in self.store.scores_of_photos(self.model_id, ids)}
        carriers: dict[int, set[int]] = {}
        for (photo_id, tag_id), score in scores.items():
            state = _state(labels.get((photo_id, tag_id)), score, calibrations.get(tag_id), tags[tag_id].sensitivity)
            if state == "auto":
                carriers.setdefault(tag_id, set()).add(photo_id)
        for (photo_id, tag_id), accepted in labels.items():
            if accepted:
                carriers.setdefault(tag_id, set()).add(photo_id)
        ranked = []
        for tag_id, photos in carriers.items():
            known = [scores[(p, tag_id)] for p in photos if (p, tag_id) in scores]
            mean = sum(known) / len(known) if known else None
            calibration = calibrations.get(tag_id)
            confidence = calibration.confidence(mean) if calibration and mean is not None else 0.0
            suggestion = TagSuggestion(tags[tag_id].name, len(photos) / len(ids), mean, len(photos))
            ranked.append((suggestion.share, confidence, suggestion))
        ranked.sort(key=lambda r: (-r[0], -r[1], r[2].name))
        return [s for _, _, s in ranked[:top]]

    # Review and labels ---------------------------------------------------------------------------

    def review_queue(self, limit: int = 50, tag: str | None = None) -> list[ReviewItem]:
        """Automatic tags the user has not accepted or rejected yet, clearest first (by confidence, which
        unlike raw scores is comparable across tags), for one tag or all."""
        items = []
        for t, calibration in self._calibrated(tag):
            threshold = calibration.threshold(t.sensitivity)
            for photo_id, score in self.labels.unreviewed(self.model_id, t.id, threshold, limit):
                items.append((calibration.confidence(score), photo_id, t.name, score))
        best = heapq.nlargest(limit, items)
        identities = self.labels.identities([photo_id for _, photo_id, _, _ in best])
        return [
            ReviewItem(photo_id, identities[photo_id][0], name, score, confidence)
            for confidence, photo_id, name, score in best
            if photo_id in identities
        ]

    def review_count(self, tag: str | None = None) -> int:
        """How many suggestions wait in the review queue in all (for one tag or all): the GUI's "N waiting"
        while it holds only the first page of them."""
        return sum(
            self.labels.count_unreviewed(self.model_id, t.id, calibration.threshold(t.sensitivity))
            for t, calibration in self._calibrated(tag)
        )

    def _calibrated(self, tag: str | None) -> list[tuple[TagInfo, Calibration]]:
        """The tag named (or every tag) with its calibration for this model; tags never scored are left out."""
        tags = [self.tag(tag)] if tag is not None else self.tags()
        calibrations = self.store.calibrations(self.model_id, [t.id for t in tags] if tag is not None else None)
        return [(t, calibrations[t.id]) for t in tags if t.id in calibrations]

    def accept(self, pairs: Sequence[PhotoTagPair]) -> int:
        """Label the (photo id, tag name) pairs accepted; returns how many were stored."""
        return self.labels.set_labels(self._resolve(pairs), True)

    def reject(self, pairs: Sequence[PhotoTagPair]) -> int:
        """Label the pairs rejected: the photos never carry these tags automatically again."""
        return self.labels.set_labels(self._resolve(pairs), False)

    def forget_labels(self, pairs: Sequence[PhotoTagPair]) -> int:
        """Remove the user's labels of the pairs, handing them back to automatic tagging."""
        return self.labels.set_labels(self._resolve(pairs), None)

    def labelled_photos(self, accepted: bool = True) -> dict[str, list[int]]:
        """Tag name -> photo ids the user accepted it for (or rejected, with accepted=False): the labels
        the fine-tuning wizard trains on."""
        return self.labels.labelled(accepted)

    def recently_labelled(self, limit: int) -> list[str]:
        """The tags the user gave photos most lately, newest first: what a photo's menu offers at one click."""
        return self.labels.recently_accepted(limit)

    def _resolve(self, pairs: Sequence[PhotoTagPair]) -> list[tuple[int, int]]:
        ids = {name: self.tag(name).id for name in {name for _, name in pairs}}
        return [(photo_id, ids[name]) for photo_id, name in pairs]


def _state(label: bool | None, score: float | None, calibration: Calibration | None, sensitivity: int) -> str:
    if label is not None:
        return "accepted" if label else "rejected"
    if score is not None and calibration is not None and score >= calibration.threshold(sensitivity):
        return "auto"
    return "candidate"
