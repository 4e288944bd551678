"""Prompt templates for zero-shot classification and class-prompt text-to-image retrieval.

CLIP (Radford et al., arXiv 2103.00020) averages the text embeddings of 80 hand-written ImageNet templates
per class. `TEMPLATES` is a compact subset written in the style of those OpenAI templates: enough to smooth
out the wording of any single prompt at an eighth of the text-encoding cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "a bad photo of a {}.",
    "a good photo of a {}.",
    "a close-up photo of a {}.",
    "a bright photo of a {}.",
    "a dark photo of a {}.",
    "a cropped photo of a {}.",
    "a blurry photo of a {}.",
    "a photo of the large {}.",
    "a photo of the small {}.",
    "a drawing of a {}.",
    "a sketch of a {}.",
    "art of the {}.",
    "itap of a {}.",
)
# Texts per forward pass. Small batches bound memory for long class lists (GPR1200 x 14 = 16,800 texts)
# and are faster on a CPU (ViT-B-32: 41 texts/s at 32 against 31 at 256; benchmarks/bench_models.py
# --text-batches). At 256 each activation of the text tower is 160 MB, mapped and unmapped per op, and
# that memory churn delayed the GUI thread's own allocations (tagging after indexing stalled the window).
TEXT_BATCH = 32


class TextEncoder(Protocol):
    """What prompt embedding needs of a model (core.models.encoder.Encoder, or a fake in tests)."""

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def class_text_embeddings(
    encoder: TextEncoder, class_names: Sequence[str], templates: Sequence[str] = TEMPLATES
) -> npt.NDArray[np.float32]:
    """One unit vector per class: the mean of its templates' text embeddings, renormalised.

    Returns:
        (len(class_names), D) float32 unit vectors, rows in the order of `class_names`.
    """
    texts = [template.format(name) for name in class_names for template in templates]
    batches = [encoder.encode_texts(texts[i : i + TEXT_BATCH]) for i in range(0, len(texts), TEXT_BATCH)]
    vectors = np.concatenate(batches)
    means = vectors.reshape(len(class_names), len(templates), -1).mean(axis=1)
    return np.asarray(means / np.linalg.norm(means, axis=1, keepdims=True), dtype=np.float32)
