"""The tagging maths: tag vectors from prompts (and example photos), and photo-by-tag scores.

A tag's vector is the normalised mean of the text embeddings of its prompts, each written into every
template (CLIP's prompt ensembling, Radford et al., arXiv 2103.00020). Scoring a batch of photos is one
matrix product of their unit vectors with the (T, D) tag matrix: cosine similarities.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from photosift.core.evaluation.prompts import TEXT_BATCH
from photosift.core.progress import CancelToken

# Photo vectors are stored as float16 and tag vectors are small; float32 is exact enough for both.
Vectors = npt.NDArray[np.float32]
TextEncoder = Callable[[list[str]], npt.NDArray[np.float32]]

# Candidate tags kept per photo: a personal photo rarely shows more than a handful of the vocabulary's
# concepts, and near-synonyms crowd the top ("beach", "sea", "coast", "sunbathing"), so 12 leaves room
# for all of them while the catalog holds 12 scores a photo rather than one per tag (~460).
TOP_K = 12
# Weight of the example photos against the words: n / (n + EXAMPLE_PRIOR), so one example moves a tag a
# quarter of the way, three half way, and the words never stop counting.
EXAMPLE_PRIOR = 3


@dataclass(frozen=True)
class Candidates:
    """Candidate (tag, photo, score) triples as three aligned arrays: a library's worth stays compact."""

    tag_ids: npt.NDArray[np.int64]
    photo_ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]

    @classmethod
    def concat(cls, parts: Sequence[Candidates]) -> Candidates:
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("tag_ids", "photo_ids", "scores")))

    def only(self, keep: npt.NDArray[np.bool_]) -> Candidates:
        return Candidates(self.tag_ids[keep], self.photo_ids[keep], self.scores[keep])


def text_vectors(
    encode: TextEncoder,
    prompt_lists: Sequence[Sequence[str]],
    templates: Sequence[str],
    cancel: CancelToken | None = None,
) -> Vectors:
    """One unit vector per tag: the mean over its prompts x templates of their text embeddings.

    Texts are encoded in batches of TEXT_BATCH, so a vocabulary of hundreds of tags keeps memory bounded,
    and a cancel (closing the app) takes effect between batches rather than after a minute of CPU work.

    Raises:
        Cancelled: `cancel` was set.
    """
    texts = [template.format(prompt) for prompts in prompt_lists for prompt in prompts for template in templates]
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    batches = []
    for i in range(0, len(texts), TEXT_BATCH):
        if cancel is not None:
            cancel.raise_if_cancelled()
        batches.append(encode(texts[i : i + TEXT_BATCH]))
    encoded = np.concatenate(batches)
    vectors, start = [], 0
    for prompts in prompt_lists:
        count = len(prompts) * len(templates)
        vectors.append(encoded[start : start + count].mean(axis=0))
        start += count
    return _unit(np.stack(vectors))


def blend_examples(text_vector: Vectors, example_vectors: Vectors) -> Vectors:
    """Mix a tag's example photos into its text vector.

    The examples' mean is normalised before mixing: image embeddings sit in their own region of the joint
    space, apart from text ones (the "modality gap", Liang et al., arXiv 2203.02053), so a raw sum would
    let a handful of photos swamp the words and turn the tag into a similar-photo search. The blend shifts
    the tag's scores for every photo, which per-tag calibration absorbs.
    """
    if len(example_vectors) == 0:
        return text_vector
    weight = len(example_vectors) / (len(example_vectors) + EXAMPLE_PRIOR)
    examples = _unit(example_vectors.mean(axis=0, keepdims=True))[0]
    blended: Vectors = _unit(((1 - weight) * text_vector + weight * examples)[None])[0]
    return blended


def scores(photo_vectors: Vectors, tag_matrix: Vectors) -> Vectors:
    """(N, T) cosine similarities of unit photo vectors with unit tag vectors."""
    return np.asarray(photo_vectors @ tag_matrix.T, dtype=np.float32)


def top_k(score_matrix: Vectors, k: int = TOP_K) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(rows, columns) of each row's k best scores (all columns when there are at most k)."""
    n, t = score_matrix.shape
    if t <= k:
        return np.repeat(np.arange(n), t), np.tile(np.arange(t), n)
    columns = np.argpartition(-score_matrix, k - 1, axis=1)[:, :k]
    return np.repeat(np.arange(n), k), columns.ravel().astype(np.int64)


def definition_key(prompts: Sequence[str], templates: Sequence[str], example_ids: Sequence[int]) -> str:
    """A digest of everything a tag vector is computed from: when it changes, the cached vector is stale.

    `example_ids` are the examples that have an embedding for the model, so an example indexed later
    (or a new model's first index) recomputes the vector with it."""
    payload = json.dumps([list(prompts), list(templates), sorted(example_ids)])
    return hashlib.sha256(payload.encode()).hexdigest()


def _unit(vectors: npt.NDArray[np.floating]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
