"""What an onnxruntime tower is checked on before it is used, without torch: photo-like synthetic images
and the worst cosine between two sets of embeddings.

Two checks share it: a torch export against the torch model (`onnx_export`) and the int8 image tower
against the fp32 export it was quantised from (`onnx_int8`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime
from PIL import Image

from photosift.core.models.preprocess import Preprocessor
from photosift.core.models.spec import ModelSpec

CHECK_PHOTOS = 3  # a batch size other than the export's example, to prove the batch axis is free


def check_pixels(spec: ModelSpec) -> npt.NDArray[np.float32]:
    """The synthetic photos, preprocessed for `spec`: (CHECK_PHOTOS, 3, size, size)."""
    preprocess = Preprocessor.from_spec(spec)
    return np.stack([preprocess(photo) for photo in _synthetic_photos(spec.image_size)])


def run_once(path: Path, value: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    """One tower file's features for `value`, on a session opened for this call only."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (features,) = session.run(["features"], {session.get_inputs()[0].name: value})
    return np.asarray(features, dtype=np.float32)


def worst_cosine(expected: npt.NDArray[np.float32], got: npt.NDArray[np.float32]) -> float:
    """The lowest cosine between matching rows; NaN where a row is NaN (so `not worst >= bar` refuses it)."""
    norms = np.linalg.norm(expected, axis=1) * np.linalg.norm(got, axis=1)
    return float(((expected * got).sum(axis=1) / np.maximum(norms, 1e-12)).min())


def _synthetic_photos(size: int) -> Iterator[Image.Image]:
    """Photo-like test images (gradients, edges and noise) of a few shapes; no photo files needed."""
    rng = np.random.default_rng(0)
    for i in range(CHECK_PHOTOS):
        height, width = size * (2 + i), size * (3 - i % 2)
        ys, xs = np.mgrid[0:height, 0:width]
        base = (xs * (i + 2) + ys * (3 - i)) % 256
        noise = rng.integers(0, 48, (height, width, 3))
        pixels = np.dstack([base, base[::-1], (base + 85 * (xs > width // 2)) % 256]) + noise
        yield Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
