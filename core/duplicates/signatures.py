"""A photo's perceptual hash and sharpness, read from one small decode of its file.

The pHash (ImageHash's DCT hash of a 32x32 grey image) survives resizing, recompression and colour shifts
and changes with the content, so it settles pairs whose embeddings are close but not decisive. A crop
changes the whole image's hash (only 38 % of 85 % centre crops stayed within the pair rule's 12 bits in
benchmarks/bench_duplicates.py), so a photo also keeps the hashes of a few windows inside it
(CROP_WINDOWS): a crop of it hashes like the window it resembles. Sharpness is the variance of the
Laplacian of a grey thumbnail: cheap, and a blurred or heavily recompressed copy scores lower than its
original at the same size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from photosift.core.duplicates.records import Signature
from photosift.core.errors import ImageError
from photosift.core.imageio import load_image

# Decode at least this many pixels on the short side (JPEGs decode at 1/2..1/8 scale for it), and measure
# sharpness on a thumbnail of this size, so that copies of different sizes are measured alike.
THUMBNAIL_SIDE = 256
UNREADABLE = Signature(None, None)
# Windows (share of each side kept, then where it sits as shares of the slack, across and down) hashed
# beside the whole photo. In benchmarks/bench_duplicates.py the centred windows at 90, 80 and 70 % matched
# every 85 % centred crop, which falls between them, and the corners at 80 % half of the crops to the top
# left 75 % (the whole-photo pHash: 38 % and none). All seven add about 5 ms of CPU to a photo's signature.
CROP_WINDOWS = (
    (0.9, 0.5, 0.5),
    (0.8, 0.5, 0.5),
    (0.7, 0.5, 0.5),
    (0.8, 0.0, 0.0),
    (0.8, 1.0, 0.0),
    (0.8, 0.0, 1.0),
    (0.8, 1.0, 1.0),
)


def read_signature(paths: tuple[str, ...]) -> Signature:
    """The signature of a photo from the first of its files that can be read, or UNREADABLE."""
    for path in paths:
        try:
            image, _ = load_image(Path(path), min_side=THUMBNAIL_SIDE)
        except ImageError:
            continue
        grey = image.convert("L")
        grey.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        crops = tuple(_phash(grey.crop(_window(grey.size, *window))) for window in CROP_WINDOWS)
        return Signature(_phash(grey), laplacian_variance(np.asarray(grey)), crops)
    return UNREADABLE


def _phash(grey: Image.Image) -> int:
    import imagehash  # scipy underneath: only when a duplicate search runs

    return as_signed(int(str(imagehash.phash(grey)), 16))


def _window(size: tuple[int, int], share: float, x: float, y: float) -> tuple[int, int, int, int]:
    """The box of a window keeping `share` of each side, placed at (x, y) shares of the slack."""
    w, h = size
    cw, ch = max(1, round(w * share)), max(1, round(h * share))
    left, top = round((w - cw) * x), round((h - ch) * y)
    return left, top, left + cw, top + ch


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
