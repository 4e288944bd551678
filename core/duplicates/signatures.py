"""A photo's perceptual hash and sharpness, read from one small decode of its file.

The pHash (ImageHash's DCT hash of a 32x32 grey image) survives resizing, recompression and colour shifts
and changes with the content, so it settles pairs whose embeddings are close but not decisive. Sharpness
is the variance of the Laplacian of a grey thumbnail: cheap, and a blurred or heavily recompressed copy
scores lower than its original at the same size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photosift.core.duplicates.records import Signature
from photosift.core.errors import ImageError
from photosift.core.imageio import load_image

# Decode at least this many pixels on the short side (JPEGs decode at 1/2..1/8 scale for it), and measure
# sharpness on a thumbnail of this size, so that copies of different sizes are measured alike.
THUMBNAIL_SIDE = 256
UNREADABLE = Signature(None, None)


def read_signature(paths: tuple[str, ...]) -> Signature:
    """The signature of a photo from the first of its files that can be read, or UNREADABLE."""
    import imagehash  # scipy underneath: only when a duplicate search runs

    for path in paths:
        try:
            image, _ = load_image(Path(path), min_side=THUMBNAIL_SIDE)
        except ImageError:
            continue
        grey = image.convert("L")
        grey.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        return Signature(as_signed(int(str(imagehash.phash(grey)), 16)), laplacian_variance(np.asarray(grey)))
    return UNREADABLE


def laplacian_variance(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over the inside of a grey image (0 for an image under 3x3)."""
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    g = grey.astype(np.float32)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.var())


def as_signed(value: int) -> int:
    """A 64-bit unsigned value as the signed integer SQLite stores."""
    return value - (1 << 64) if value >= 1 << 63 else value
