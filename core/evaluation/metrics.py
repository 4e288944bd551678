"""Retrieval and classification metrics over embeddings, as the MCIP evaluation protocols define them.

Pure numpy: embeddings are unit vectors, so a dot product is the cosine similarity. Rankings break ties
stably (the lower index first), so every number here is deterministic. No metric sorts whole rows by index
(a stable argsort, the slowest step of a fine-tuning run's per-epoch validation): mAP ranks only the
relevant images of each query, against its sorted scores, and the others keep only the best k (`top_k`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# Query rows scored at once: a 1024 x 12,000 float32 score matrix (and its sorted copy) stays under 150 MB.
QUERY_CHUNK = 1024


@dataclass(frozen=True)
class MapResult:
    """Mean average precision over all queries, and over each group's queries.

    Attributes:
        overall: mAP over every image as a query.
        per_group: group id -> mAP over that group's queries (empty when there are no groups).
    """

    overall: float
    per_group: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ZeroShotResult:
    """Zero-shot classification accuracy: the true class is the best (top-1) or among the best five."""

    top1: float
    top5: float


@dataclass(frozen=True)
class TextToImageResult:
    """Text-to-image retrieval at k: `recall`, the share of queries with at least one relevant image among
    their k best (the MCIP protocol), and `precision`, the share of those k images that are relevant.

    Recall cannot tell "one right photo in five" from "five right"; precision can: with class prompts on a
    collection of a few classes, recall is near 1 for any model, and fine-tuning that gathers a class's
    photos shows as more of them in the first five."""

    recall: float
    precision: float


def _floats(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float32)


def _ints(x: npt.ArrayLike) -> IntArray:
    return np.asarray(x, dtype=np.int64)


def _chunks(n: int) -> range:
    return range(0, n, QUERY_CHUNK)


def retrieval_map(embeddings: npt.ArrayLike, labels: npt.ArrayLike, groups: npt.ArrayLike | None = None) -> MapResult:
    """Image-to-image mAP by the GPR1200 protocol (Schall et al., arXiv 2111.13122).

    Every image queries all N images with itself kept: it ranks first and counts as one of its R
    relevant images (those with its label). AP(q) = (1/R) * sum_{j=1..R} j / rank_j over the full
    ranking; mAP is the mean over all queries, and a group's mAP the mean over that group's queries
    (still searched against everything).

    Args:
        embeddings: (N, D) unit vectors.
        labels: (N,) integer class of each image.
        groups: (N,) integer group of each image (GPR1200's domains), or None.
    """
    emb, lab = _floats(embeddings), _ints(labels)
    ap = np.concatenate([_average_precision(emb, lab, start) for start in _chunks(len(emb))])
    per_group: dict[int, float] = {}
    if groups is not None:
        grp = _ints(groups)
        per_group = {int(g): float(ap[grp == g].mean()) for g in np.unique(grp)}
    return MapResult(float(ap.mean()), per_group)


def _average_precision(emb: FloatArray, labels: IntArray, start: int) -> npt.NDArray[np.float64]:
    """AP of the queries emb[start:start + QUERY_CHUNK] against all of `emb`.

    A relevant image's rank is one more than the images scored above it, counted in the query's sorted
    scores, plus any scored the same at a lower index (ties are rare: those are counted one by one). The
    same numbers as ranking every image with a stable argsort, at about a quarter of its time."""
    queries = np.arange(start, min(start + QUERY_CHUNK, len(emb)))
    scores = emb[queries] @ emb.T
    scores[np.arange(len(queries)), queries] = np.inf  # the query itself ranks first, whatever the ties
    ascending = np.sort(scores, axis=1)
    relevant = {label: np.flatnonzero(labels == label) for label in np.unique(labels[queries])}
    ap = np.empty(len(queries), dtype=np.float64)
    for row, query in enumerate(queries):
        hits = relevant[labels[query]]
        hit_scores = scores[row, hits]
        above_or_level = np.searchsorted(ascending[row], hit_scores, side="right")
        ranks = len(emb) - above_or_level + 1
        level = above_or_level - np.searchsorted(ascending[row], hit_scores, side="left")
        for i in np.flatnonzero(level > 1):
            ranks[i] += np.count_nonzero(scores[row, : hits[i]] == hit_scores[i])
        ranks.sort()
        ap[row] = np.mean(np.arange(1, len(ranks) + 1) / ranks)  # j / rank_j over the j-th relevant image
    return ap


def top_k(scores: npt.NDArray[np.floating], k: int) -> IntArray:
    """Each row's k highest columns, highest first, ties to the lower column: the first k columns of a
    stable argsort of `-scores`, found by partitioning each row instead of sorting all of it.

    Args:
        scores: (Q, N); k: at most N (more is cut to N).
    """
    n = scores.shape[1]
    k = min(k, n)
    if k == n:
        return np.argsort(-scores, axis=1, kind="stable")
    kth = np.partition(scores, n - k, axis=1)[:, n - k, None]  # each row's k-th highest score
    above, level = scores > kth, scores == kth
    room = k - above.sum(axis=1, keepdims=True)  # how many of the level ones make the k, lowest columns first
    columns = np.nonzero(above | (level & (np.cumsum(level, axis=1) <= room)))[1].reshape(len(scores), k)
    order = np.argsort(-np.take_along_axis(scores, columns, axis=1), axis=1, kind="stable")
    return np.take_along_axis(columns, order, axis=1)


def knn_accuracy(
    train_emb: npt.ArrayLike,
    train_labels: npt.ArrayLike,
    test_emb: npt.ArrayLike,
    test_labels: npt.ArrayLike,
    k: int = 21,
    temperature: float = 0.1,
    exclude_self: bool = False,
) -> float:
    """Top-1 accuracy of a weighted k-nearest-neighbour vote, as in DINO (Caron et al., arXiv 2104.14294).

    Each test image's k most similar training images vote for their labels with weight exp(sim / T);
    the label with the largest total wins (ties: the smallest label).

    Args:
        exclude_self: the test set is the training set (leave-one-out): an image never votes for itself.

    Raises:
        ValueError: `exclude_self` with test and training sets of different sizes.
    """
    train, test = _floats(train_emb), _floats(test_emb)
    train_lab, test_lab = _ints(train_labels), _ints(test_labels)
    if exclude_self and len(train) != len(test):
        raise ValueError("exclude_self needs the test set to be the training set")
    classes, train_idx = np.unique(train_lab, return_inverse=True)
    k = min(k, len(train) - int(exclude_self))
    correct = 0
    for start in _chunks(len(test)):
        rows = np.arange(start, min(start + QUERY_CHUNK, len(test)))
        sims = test[rows] @ train.T
        if exclude_self:
            sims[np.arange(len(rows)), rows] = -np.inf
        nearest = top_k(sims, k)
        weights = np.exp(np.take_along_axis(sims, nearest, axis=1) / temperature)
        votes = np.zeros((len(rows), len(classes)))
        np.add.at(votes, (np.arange(len(rows))[:, None], train_idx[nearest]), weights)
        correct += int((classes[votes.argmax(axis=1)] == test_lab[rows]).sum())
    return correct / len(test)


def zero_shot_accuracy(
    image_emb: npt.ArrayLike, labels: npt.ArrayLike, class_text_emb: npt.ArrayLike
) -> ZeroShotResult:
    """Zero-shot classification as in CLIP (Radford et al., arXiv 2103.00020): each image takes the class
    whose (template-averaged) text embedding is most similar.

    Args:
        labels: (N,) row of each image's class in `class_text_emb` (C, D).
    """
    images, lab, texts = _floats(image_emb), _ints(labels), _floats(class_text_emb)
    top = top_k(images @ texts.T, 5)
    found = top == lab[:, None]
    return ZeroShotResult(float(found[:, 0].mean()), float(found.any(axis=1).mean()))


def text_to_image_retrieval(
    text_emb: npt.ArrayLike, relevant: Sequence[Collection[int]], image_emb: npt.ArrayLike, k: int = 5
) -> TextToImageResult:
    """Recall@k and precision@k of text-to-image retrieval, each text query against all images (with class
    prompts, a class's images are relevant).

    Args:
        text_emb: (Q, D) unit vectors, one per query.
        relevant: for each query, the row indices in `image_emb` of the images that match it.

    Raises:
        ValueError: the numbers of queries and relevance sets differ, or a query has no relevant image.
    """
    texts, images = _floats(text_emb), _floats(image_emb)
    if len(relevant) != len(texts) or any(len(r) == 0 for r in relevant):
        raise ValueError("every text query needs a non-empty set of relevant images")
    top = top_k(texts @ images.T, k)
    found = [len(set(row.tolist()) & set(rel)) for row, rel in zip(top, relevant, strict=True)]
    return TextToImageResult(
        recall=sum(n > 0 for n in found) / len(found), precision=sum(found) / (len(found) * top.shape[1])
    )
