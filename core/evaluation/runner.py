"""Evaluate a model on a labelled image set: embed every image once, then compute every metric.

The metrics are those of the MCIP evaluation protocols: image-to-image mAP (GPR1200 protocol),
leave-one-out k-NN accuracy, zero-shot top-1/top-5 and class-prompt text-to-image Recall@5.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from photosift.core.errors import UserError
from photosift.core.evaluation.datasets import LabelledImages
from photosift.core.evaluation.metrics import (
    TextToImageResult,
    knn_accuracy,
    retrieval_map,
    text_to_image_retrieval,
    zero_shot_accuracy,
)
from photosift.core.evaluation.prompts import TextEncoder, class_text_embeddings
from photosift.core.indexer import Decoded, ImageEncoder, decode_ahead
from photosift.core.models.spec import ModelSpec
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress

KNN_K = 21  # DINO's k for ImageNet k-NN, which the MCIP protocol adopts
KNN_TEMPERATURE = 0.1  # DINO's vote temperature: weights exp(sim / 0.1)
RECALL_K = 5


class EvalEncoder(ImageEncoder, TextEncoder, Protocol):
    """What evaluation needs of a model: images, texts, and a spec to name it by."""

    @property
    def spec(self) -> ModelSpec: ...


@dataclass(frozen=True)
class EvalReport:
    """Every metric of one model on one labelled set; accuracies and recalls are fractions in [0, 1].

    Attributes:
        group_maps: group name -> mAP of that group's queries (GPR1200 domains); empty without groups.
        zero_shot_top1, zero_shot_top5, t2i_recall_at_5, t2i_precision_at_5: None when the class names are
            not words (precision also in reports from before it was measured).
    """

    model: str
    dataset: str
    n_images: int
    n_failed: int
    n_classes: int
    map: float
    knn_accuracy: float
    zero_shot_top1: float | None
    zero_shot_top5: float | None
    t2i_recall_at_5: float | None
    elapsed_s: float
    group_maps: dict[str, float] = field(default_factory=dict)
    t2i_precision_at_5: float | None = None


@dataclass(frozen=True)
class EmbeddedImages:
    """Embeddings of the images that could be read, and which rows of the input they are."""

    vectors: npt.NDArray[np.float32]
    kept: npt.NDArray[np.int64]  # rows of the dataset that were read and embedded
    failed: int


def evaluate(
    encoder: EvalEncoder,
    dataset: LabelledImages,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    workers: int = 2,
    batch_size: int = 32,
    class_texts: npt.NDArray[np.float32] | None = None,
) -> EvalReport:
    """Embed the set's images (unreadable ones are skipped and counted) and compute every metric.

    Progress is reported as stage "eval", in images embedded. `class_texts` are the set's class prompts
    already embedded (`class_text_embeddings`) by a caller that evaluates the same text tower again and
    again: a fine-tuning run validates after every epoch while only the image tower learns.

    Raises:
        UserError: not a single image could be read.
        Cancelled: `cancel` was set.
        EnvironmentFault: the device ran out of memory.
    """
    start = time.perf_counter()
    embedded = embed_images(encoder, dataset.paths, progress, cancel, workers, batch_size)
    if len(embedded.kept) == 0:
        raise UserError(f"None of the {len(dataset.paths)} images in {dataset.root} could be read.")
    vectors, labels = embedded.vectors, dataset.labels[embedded.kept]
    groups = dataset.groups[embedded.kept] if dataset.groups is not None else None
    maps = retrieval_map(vectors, labels, groups)
    knn = knn_accuracy(vectors, labels, vectors, labels, KNN_K, KNN_TEMPERATURE, exclude_self=True)
    top1, top5, t2i = (None, None, None)
    if dataset.named:
        texts = class_texts if class_texts is not None else class_text_embeddings(encoder, dataset.class_names)
        top1, top5, t2i = _text_metrics(texts, vectors, labels)
    return EvalReport(
        model=encoder.spec.name,
        dataset=str(dataset.root),
        n_images=len(embedded.kept),
        n_failed=embedded.failed,
        n_classes=len(np.unique(labels)),
        map=maps.overall,
        knn_accuracy=knn,
        zero_shot_top1=top1,
        zero_shot_top5=top5,
        t2i_recall_at_5=t2i.recall if t2i else None,
        elapsed_s=time.perf_counter() - start,
        group_maps={dataset.group_names[g]: m for g, m in maps.per_group.items()},
        t2i_precision_at_5=t2i.precision if t2i else None,
    )


def embed_images(
    encoder: EvalEncoder,
    paths: Sequence[Path],
    progress: ProgressCallback,
    cancel: CancelToken | None,
    workers: int,
    batch_size: int,
) -> EmbeddedImages:
    """Embed `paths` in batches with decoding ahead on a pool; unreadable files are skipped and counted.
    The trainer uses it too (caption mining, re-alignment)."""
    pending = [(row, str(path)) for row, path in enumerate(paths)]
    chunks: list[npt.NDArray[np.float32]] = []
    kept: list[int] = []
    batch: list[Decoded] = []
    failed = 0
    for decoded in decode_ahead(pending, encoder, workers, lookahead=batch_size * 2):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if decoded.pixels is None:
            failed += 1
            continue
        batch.append(decoded)
        if len(batch) == batch_size:
            chunks.append(_encode(encoder, batch, kept))
            batch = []
            progress(Progress("eval", len(kept) + failed, len(pending), message="embedding images"))
    if batch:
        chunks.append(_encode(encoder, batch, kept))
    progress(Progress("eval", len(kept) + failed, len(pending), message="embedding images"))
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
    return EmbeddedImages(vectors, np.asarray(kept, dtype=np.int64), failed)


def _encode(encoder: EvalEncoder, batch: list[Decoded], kept: list[int]) -> npt.NDArray[np.float32]:
    kept.extend(d.photo_id for d in batch)
    return np.asarray(encoder.encode_images(np.stack([d.pixels for d in batch if d.pixels is not None])))


def _text_metrics(
    texts: npt.NDArray[np.float32], vectors: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]
) -> tuple[float, float, TextToImageResult]:
    """Zero-shot top-1/top-5 over all classes (`texts`, one row a class), and text-to-image retrieval at 5
    by the prompts of the classes left with images."""
    zero_shot = zero_shot_accuracy(vectors, labels, texts)
    present = np.unique(labels)
    relevant = [np.flatnonzero(labels == c).tolist() for c in present]
    return zero_shot.top1, zero_shot.top5, text_to_image_retrieval(texts[present], relevant, vectors, RECALL_K)
