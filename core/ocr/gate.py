"""Which photos are worth reading: a zero-shot look at each photo's own embedding, costing no pixels.

OCR costs seconds a photo on a CPU, and most photos in a library hold no text worth finding. The photo's
embedding is already stored, so comparing it with a few prompts for things that carry text (screenshots,
documents, receipts, signs) and a few for things that do not (landscapes, people, animals) is one matrix
product, where a cheap detector pass would still decode every photo and run a network over it (about
1.5 s a photo on a busy core, most of what reading a photo without text costs). A photo is read when its
best text prompt scores within GATE_MARGIN of its best other prompt: reading a landscape by mistake
costs seconds, missing a receipt costs the person the photo.

The setting `ocr = "all"` reads every photo (the tests' tiny random models make the gate meaningless).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

TEXT_PROMPTS = (
    "a screenshot",
    "a screenshot of a phone screen",
    "a scanned document",
    "a page of printed text",
    "a receipt",
    "a sign with words on it",
    "a whiteboard with writing",
    "a poster with text",
    "a presentation slide",
    "a handwritten note",
    "a book cover",
    "a product label",
)
OTHER_PROMPTS = (
    "a photo",
    "a photo of a landscape",
    "a photo of people",
    "a photo of a person",
    "a photo of an animal",
    "a photo of food",
    "a photo of a building",
    "a photo of a plant",
    "a photo of the sky",
    "a photo of a room",
)
# How far (cosine) a photo's best text prompt may score below its best other prompt and still be read.
# A difference rather than a threshold, for RELEVANCE_MARGIN's reason (core.search.ranking): the models
# add their own offset to every score, while the differences between prompts stay comparable.
GATE_MARGIN = 0.01


class GatePrompts:
    """The prompts' vectors for one model, encoded on first use."""

    def __init__(self, encode_texts: Callable[[list[str]], np.ndarray]) -> None:
        self._encode = encode_texts
        self._vectors: tuple[np.ndarray, np.ndarray] | None = None

    def likely_text(self, vectors: np.ndarray) -> npt.NDArray[np.bool_]:
        """For each row of `vectors` (L2-normalised photo embeddings), whether the photo is worth reading."""
        if self._vectors is None:
            self._vectors = (
                _normalised(self._encode(list(TEXT_PROMPTS))),
                _normalised(self._encode(list(OTHER_PROMPTS))),
            )
        text_vectors, other_vectors = self._vectors
        best_text = (vectors @ text_vectors.T).max(axis=1)
        best_other = (vectors @ other_vectors.T).max(axis=1)
        return np.asarray(best_text >= best_other - GATE_MARGIN, dtype=np.bool_)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    normalised: np.ndarray = array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    return normalised
