"""Frozen records that cross the tagging boundary (no Row objects leave `core.tags`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TagInfo:
    """A tag as the catalog holds it.

    Attributes:
        builtin: from the shipped vocabulary (refreshed when it changes; cannot be removed).
        sensitivity: the user's step from -2 (fewer photos) to +2 (more photos) around the calibrated threshold.
        examples: ids of photos that sharpen a custom tag.
    """

    id: int
    name: str
    group: str
    builtin: bool
    prompts: tuple[str, ...]
    sensitivity: int
    examples: tuple[int, ...] = ()


@dataclass(frozen=True)
class TagSuggestion:
    """A tag proposed for a set of photos (an album, a folder), from the tags its photos carry.

    Attributes:
        share: fraction of the photos carrying the tag (accepted, or automatic and not rejected).
        mean_score: mean automatic score of those photos that have one (cosine; compare within a tag only);
            None when they carry it only by the user's labels.
        photos: how many photos carry it.
    """

    name: str
    share: float
    mean_score: float | None
    photos: int


@dataclass(frozen=True)
class ReviewItem:
    """An automatic tag waiting for the user's accept or reject.

    Attributes:
        confidence: spreads above the tag's typical score (core.tags.calibration): comparable across tags.
    """

    photo_id: int
    path: str
    tag: str
    score: float
    confidence: float


@dataclass(frozen=True)
class PhotoTag:
    """One tag of one photo.

    Attributes:
        state: "accepted" or "rejected" (the user's label), "auto" (at or above the calibrated threshold),
            or "candidate" (among the photo's best-scoring tags, below the threshold).
        score: the automatic score for the active model, None when the tag is only a label.
    """

    name: str
    group: str
    state: str
    score: float | None
    confidence: float | None


@dataclass(frozen=True)
class RetagReport:
    """What re-scoring the library's stored embeddings against the tag vectors did."""

    photos: int
    tags: int
    elapsed_s: float
    cancelled: bool = False


@dataclass(frozen=True)
class ExchangeReport:
    """What an export or import of tags and labels did.

    Attributes:
        tags: tag definitions written, or added and updated.
        labels: labels written or imported.
        unmatched: imported labels and examples whose photo is not in this library (by fingerprint or path).
        files: files written (one JSON file, or one XMP sidecar per photo).
    """

    tags: int
    labels: int
    unmatched: int = 0
    files: int = 0


def tag_infos(rows: list[tuple[Any, ...]], examples: list[tuple[int, int]]) -> list[TagInfo]:
    """Tags from `core.catalog.readonly.tag_rows`, each with its example photos in id order."""
    by_tag: dict[int, list[int]] = {}
    for tag_id, photo_id in examples:
        by_tag.setdefault(tag_id, []).append(photo_id)
    return [
        TagInfo(int(i), name, group, bool(builtin), tuple(json.loads(prompts)), int(level), tuple(by_tag.get(i, ())))
        for i, name, group, builtin, prompts, level in rows
    ]


def in_group(tags: list[TagInfo], group: str | None) -> list[TagInfo]:
    """The tags of `group` (any case, and its first words suffice: "weather" is "Weather and seasons"),
    or all where it is None."""
    return [t for t in tags if group is None or t.group.lower().startswith(group.strip().lower())]
