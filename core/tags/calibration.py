"""Per-tag, per-model thresholds from the distribution of that tag's scores over the library.

Cosine scores mean different things for different models and tags: a CLIP ViT-B/32 gives a matching
photo about 0.3 and the rest about 0.2, SigLIP about 0.1 against -0.05, and within one model "text"
scores every photo higher than "giraffe" does. One global cut cannot serve them all, so each tag is
judged against its own scores over the whole library.

The rule: most photos do not show a given tag, so the bulk of its scores is the "absent" distribution.
Its centre is estimated by the median and its spread by the distance from the median down to the
15.9th percentile (one standard deviation below the mean for a normal distribution). Both come from
the lower part of the distribution, so photos that do show the tag (they sit in the upper tail) barely
move them, as long as fewer than about half of the library shows it. A photo carries the tag when

    score >= median + z * spread,    z = BASE_Z - SENSITIVITY_STEP * sensitivity

where the user's sensitivity runs from -2 (fewer photos) to +2 (more photos). The scores are kept as a
fixed-bin histogram per (tag, model) in the catalog, so indexing adds each batch's scores to it without
storing every score of every photo.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from photosift.core.errors import UserError

LOW, HIGH = -1.0, 1.0  # cosine similarity of unit vectors
BINS = 2000  # 0.001 wide: a tenth of the smallest score spread of real models, and 8 KB per tag before zlib
LOWER_QUANTILE = 0.1587  # Phi(-1): median minus this quantile is one standard deviation of a normal
BASE_Z = 2.5  # about 0.6% of photos without the tag pass on a normal tail; the top-k filter removes most
SENSITIVITY_STEP = 0.5  # half a spread per step: -2..+2 spans z from 3.5 (strict) to 1.5 (generous)
SENSITIVITY_RANGE = (-2, 2)
# Floor on the spread: a tag whose scores are nearly constant (a tiny or uniform library) would
# otherwise get a threshold a hair above the median, and any noise would tag photos.
MIN_SPREAD = 0.005
# zlib's fastest level: every indexed batch rewrites every tag's histogram, and runs of empty bins
# compress as well at level 1 as at 9.
HISTOGRAM_COMPRESSION = 1

Histogram = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Calibration:
    """One tag's score distribution for one model, summarised for thresholds and confidences."""

    centre: float
    spread: float
    photos: int

    def threshold(self, sensitivity: int = 0) -> float:
        """The least score that carries the tag at this sensitivity (see the module docstring)."""
        return self.centre + (BASE_Z - SENSITIVITY_STEP * sensitivity) * self.spread

    def confidence(self, score: float) -> float:
        """How many spreads `score` lies above the tag's typical score: comparable across tags and models,
        unlike raw scores, so the review queue can put the clearest suggestions of all tags first."""
        return (score - self.centre) / self.spread


def check_sensitivity(level: int) -> int:
    low, high = SENSITIVITY_RANGE
    if not low <= level <= high:
        raise UserError(f"Sensitivity is a step from {low} (fewer photos) to +{high} (more photos), not {level}.")
    return level


def empty_histograms(n_tags: int) -> Histogram:
    return np.zeros((n_tags, BINS), dtype=np.int64)


def histograms(scores: npt.NDArray[np.float32]) -> Histogram:
    """Per-column histograms of an (N photos, T tags) score matrix: (T, BINS) counts."""
    n_tags = scores.shape[1]
    bins = np.clip(((scores - LOW) * (BINS / (HIGH - LOW))).astype(np.int64), 0, BINS - 1)
    flat = bins + np.arange(n_tags, dtype=np.int64)[None, :] * BINS
    return np.bincount(flat.ravel(), minlength=n_tags * BINS).reshape(n_tags, BINS)


def quantile(histogram: Histogram, q: float) -> float:
    """The q-quantile of the scores a histogram counts, interpolated linearly within the bin."""
    return float(_quantiles(histogram[np.newaxis], np.cumsum(histogram)[np.newaxis], q)[0])


def calibrate(histogram: Histogram) -> Calibration | None:
    """The calibration of one tag from its histogram; None before any photo was scored."""
    return calibrate_all(np.asarray(histogram)[np.newaxis])[0]


def calibrate_all(histograms: Histogram) -> list[Calibration | None]:
    """`calibrate` of each row of a (tags, BINS) stack at once: the side panel calibrates every tag for
    each count, and one tag at a time cost 0.3 s for 462 tags on a loaded machine."""
    cumulative = np.cumsum(histograms, axis=1)
    photos = cumulative[:, -1] if histograms.size else np.zeros(len(histograms), np.int64)
    centre = _quantiles(histograms, cumulative, 0.5)
    spread = np.maximum(centre - _quantiles(histograms, cumulative, LOWER_QUANTILE), MIN_SPREAD)
    return [
        Calibration(float(c), float(d), int(n)) if n else None
        for c, d, n in zip(centre.tolist(), spread.tolist(), photos.tolist(), strict=True)
    ]


def _quantiles(histograms: Histogram, cumulative: Histogram, q: float) -> npt.NDArray[np.float64]:
    """`quantile` of each row: the first bin whose running count reaches q of the total, and the share of
    that bin's count still needed to reach it."""
    rows = np.arange(len(histograms))
    target = q * cumulative[:, -1].astype(np.float64)
    i = np.minimum((cumulative < target[:, None]).sum(axis=1), BINS - 1)  # searchsorted(side="left") per row
    before = np.where(i > 0, cumulative[rows, np.maximum(i - 1, 0)], 0).astype(np.float64)
    counts = histograms[rows, i].astype(np.float64)
    fraction = np.divide(target - before, counts, out=np.zeros_like(target), where=counts > 0)
    return np.asarray(LOW + (i + fraction) * (HIGH - LOW) / BINS, dtype=np.float64)


def encode_histogram(histogram: Histogram) -> bytes:
    """int32 counts, zlib-compressed: a tag's histogram is mostly empty bins, a few hundred bytes packed."""
    return zlib.compress(np.asarray(histogram, dtype=np.int32).tobytes(), HISTOGRAM_COMPRESSION)


def decode_histogram(blob: bytes) -> Histogram:
    return np.frombuffer(zlib.decompress(blob), dtype=np.int32).astype(np.int64)
