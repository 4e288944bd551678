"""The result page's side by side: "find similar" for a few held-out photos, under the current and the new model.

Both models rank the same pool of held-out photos (never trained on, the split the scores come from), so
the comparison is like for like and needs no re-indexing: the pool is embedded with both models on the
task runner. The new model's encoder is the one activation then uses, so its loading is not wasted.
The queries are spread over the classes in a fixed order, never picked for looking good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from photosift.app.gui.finetune.runs import HeldOut
from photosift.core.errors import ImageError
from photosift.core.evaluation.runner import embed_images
from photosift.core.imageio import load_image
from photosift.core.indexer import ImageEncoder
from photosift.core.progress import CancelToken, no_progress

POOL = 200  # held-out photos ranked: enough neighbours per class, few enough to embed twice in seconds
QUERIES = 3
NEIGHBOURS = 4
THUMB = 96
DECODE_WORKERS = 2
BATCH = 16


@dataclass(frozen=True)
class Neighbour:
    photo: HeldOut
    score: float


@dataclass(frozen=True)
class SideBySide:
    query: HeldOut
    old: tuple[Neighbour, ...]
    new: tuple[Neighbour, ...]


@dataclass(frozen=True)
class Comparison:
    rows: tuple[SideBySide, ...]
    thumbnails: dict[str, QImage]  # by path; QImage is safe to build off the GUI thread, QPixmap is not


def pool_of(held_out: Sequence[HeldOut], size: int = POOL) -> list[HeldOut]:
    """Up to `size` held-out photos taken from the classes in turn, so small classes are in it too."""
    by_class: dict[str, list[HeldOut]] = {}
    for photo in held_out:
        by_class.setdefault(photo.label, []).append(photo)
    queues = [by_class[label] for label in sorted(by_class)]
    pool: list[HeldOut] = []
    depth = 0
    while len(pool) < size and any(depth < len(q) for q in queues):
        pool.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return pool[:size]


def compare(
    old: ImageEncoder, new: ImageEncoder, held_out: Sequence[HeldOut], cancel: CancelToken | None = None
) -> Comparison:
    """Rank the pool for `QUERIES` photos of different classes with both models."""
    pool = pool_of(held_out)
    paths = [p.path for p in pool]
    old_vectors, old_kept = _embed(old, paths, cancel)
    new_vectors, new_kept = _embed(new, paths, cancel)
    readable = sorted(set(old_kept) & set(new_kept))
    old_rows = {row: i for i, row in enumerate(old_kept)}
    new_rows = {row: i for i, row in enumerate(new_kept)}
    old_matrix = old_vectors[[old_rows[r] for r in readable]] if readable else old_vectors[:0]
    new_matrix = new_vectors[[new_rows[r] for r in readable]] if readable else new_vectors[:0]
    photos = [pool[r] for r in readable]
    rows = tuple(
        SideBySide(photos[q], _nearest(old_matrix, q, photos), _nearest(new_matrix, q, photos))
        for q in _queries(photos)
    )
    shown = {n.photo.path for row in rows for n in (*row.old, *row.new)} | {row.query.path for row in rows}
    return Comparison(rows, {path: image for path in shown if not (image := _thumbnail(path)).isNull()})


def _embed(encoder: ImageEncoder, paths: list[str], cancel: CancelToken | None) -> tuple[np.ndarray, list[int]]:
    found = embed_images(encoder, [Path(p) for p in paths], no_progress, cancel, DECODE_WORKERS, BATCH)  # type: ignore[arg-type]
    return found.vectors, found.kept.tolist()


def _queries(photos: list[HeldOut]) -> list[int]:
    """The first photo of `QUERIES` classes spread evenly over the (sorted) classes."""
    labels = sorted({p.label for p in photos})
    if not labels:
        return []
    step = max(1, len(labels) // QUERIES)
    chosen = labels[::step][:QUERIES]
    return [next(i for i, p in enumerate(photos) if p.label == label) for label in chosen]


def _nearest(vectors: np.ndarray, query: int, photos: list[HeldOut]) -> tuple[Neighbour, ...]:
    scores = vectors @ vectors[query]
    scores[query] = -np.inf
    order = np.argsort(-scores, kind="stable")[: min(NEIGHBOURS, len(photos) - 1)]
    return tuple(Neighbour(photos[i], float(scores[i])) for i in order)


def _thumbnail(path: str) -> QImage:
    try:
        img, _ = load_image(Path(path), min_side=THUMB)
    except ImageError:
        return QImage()
    img = img.convert("RGB")
    img.thumbnail((THUMB, THUMB))
    data = img.tobytes()
    return QImage(data, img.width, img.height, 3 * img.width, QImage.Format.Format_RGB888).copy()
