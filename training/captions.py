"""Pseudo-captions for MCArcMargin: build a caption bank from what text a user has, and mine it per photo.

MCIP mines CC12M for the 20 captions nearest each training image, kept above a cosine of 0.27. That number
belongs to the OpenCLIP ViT-L/14 space the authors mined in; in SigLIP space matching image-text cosines
sit around 0.1-0.2. So `mine_captions` calibrates its threshold to the model at hand unless told one.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from photosift.core.atomic import write_bytes
from photosift.core.errors import UserError
from photosift.core.progress import CancelToken, Progress, ProgressCallback, no_progress

PROMPT_TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "a close-up photo of a {}.",
    "a photo of the {}.",
    "a good photo of a {}.",
    "a cropped photo of a {}.",
    "a bright photo of a {}.",
    "a photo of my {}.",
    "a {} in the wild.",
)
"""Caption templates; `{}` takes a class name, tag or album name."""

TOP_K = 20  # candidates per image, as in MCIP
TARGET_MEAN = 5.0  # captions per image when calibrating: enough positives for MCArcMargin, few wrong ones
# A caption is kept only if its similarity is at least this fraction of the image's best caption's. A fraction
# rather than a fixed difference, because the models' cosine scales differ by about a factor of two (SigLIP's
# matches ~0.15, OpenAI CLIP's ~0.3); with a difference of 0.05 a SigLIP image would keep far more wrong
# captions than a CLIP one. It stops a quantile threshold, which is global, from handing an image whose best
# caption is a poor match a tail of even poorer ones. Images whose best similarity is not positive get none.
RELATIVE_FLOOR = 0.8
_CHUNK_ELEMENTS = 1 << 24  # similarity entries computed at once (64 MB of float32), however large the bank


@dataclass(frozen=True, eq=False)
class CaptionAssignment:
    """The pseudo-captions mined for each image.

    Attributes:
        captions: per image, int64 indices into the caption bank, most similar first (possibly empty).
        threshold: the absolute similarity a caption had to reach (given, or calibrated).
        coverage: fraction of images with at least one caption (0.0 when there are no images).
        mean_per_image: mean number of captions per image, counting those with none.
    """

    captions: tuple[npt.NDArray[np.int64], ...]
    threshold: float
    coverage: float
    mean_per_image: float

    @property
    def counts(self) -> npt.NDArray[np.int64]:
        return np.array([len(c) for c in self.captions], dtype=np.int64)


class TextEncoder(Protocol):
    """What `encode_captions` needs of `core.models.encoder.Encoder`."""

    @property
    def embed_dim(self) -> int: ...

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def build_caption_bank(
    class_names: Iterable[str], extra_terms: Iterable[str] = (), caption_file: Path | None = None
) -> list[str]:
    """Every template applied to every class name, then to every extra term (tags, album names), then the
    lines of `caption_file`; whitespace tidied, underscores in names read as spaces, duplicates dropped with
    the first occurrence kept.

    Raises:
        UserError: the caption file cannot be read as UTF-8 text.
    """
    terms = [_tidy(name.replace("_", " ")) for name in [*class_names, *extra_terms]]
    bank = [template.format(term) for term in terms if term for template in PROMPT_TEMPLATES]
    if caption_file is not None:
        bank.extend(_tidy(line) for line in _read_lines(caption_file))
    return [caption for caption in dict.fromkeys(bank) if caption]


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"The caption file {str(path)!r} does not exist.") from None
    except UnicodeDecodeError:
        raise UserError(f"The caption file {str(path)!r} is not UTF-8 text.") from None
    except OSError as exc:
        raise UserError(f"The caption file {str(path)!r} cannot be read: {exc.strerror or exc}.") from None


def mine_captions(
    image_embeddings: npt.NDArray[np.floating],
    caption_embeddings: npt.NDArray[np.floating],
    top_k: int = TOP_K,
    threshold: float | None = None,
    target_mean: float | None = None,
) -> CaptionAssignment:
    """Assign each image the captions among its `top_k` nearest that pass both the relative floor
    (`RELATIVE_FLOOR` of its best similarity) and an absolute threshold.

    Args:
        image_embeddings: (N, D) unit vectors.
        caption_embeddings: (T, D) unit vectors from the same model's text tower.
        top_k: candidates per image.
        threshold: the absolute similarity to reach; None calibrates it to this model (see below).
        target_mean: when calibrating, the mean number of captions per image to aim for (default
            `TARGET_MEAN`): the threshold is the similarity of the (target_mean * N)-th best candidate that
            passed the floor, i.e. a quantile of the candidates. If fewer candidates pass, all of them are kept.

    Raises:
        ValueError: shapes do not match, `top_k` or `target_mean` is not positive, or both a threshold and a
            target mean were given.
    """
    images, captions = _check_shapes(image_embeddings, caption_embeddings)
    if top_k < 1 or (target_mean is not None and target_mean <= 0):
        raise ValueError(f"top_k and target_mean must be positive, got {top_k} and {target_mean}")
    if threshold is not None and target_mean is not None:
        raise ValueError("give either a threshold or a target mean to calibrate one, not both")
    sims, indices = _top_k(images, captions, min(top_k, len(captions)))
    best = sims[:, :1]
    passes_floor = sims >= np.where(best > 0, RELATIVE_FLOOR * best, np.inf)
    if threshold is None:
        threshold = _calibrate(sims[passes_floor], (target_mean or TARGET_MEAN) * len(images))
    keep = passes_floor & (sims >= threshold)
    assigned = tuple(indices[row, keep[row]] for row in range(len(images)))
    counts = keep.sum(axis=1)
    n = max(len(images), 1)
    return CaptionAssignment(assigned, float(threshold), float((counts > 0).sum() / n), float(counts.sum() / n))


def _check_shapes(
    images: npt.NDArray[np.floating], captions: npt.NDArray[np.floating]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    if images.ndim != 2 or captions.ndim != 2 or images.shape[1] != captions.shape[1]:
        raise ValueError(f"expected (N, D) and (T, D) embeddings, got {images.shape} and {captions.shape}")
    return images.astype(np.float32, copy=False), captions.astype(np.float32, copy=False)


def _top_k(
    images: npt.NDArray[np.float32], captions: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The k most similar captions of each image, best first, computed a few thousand images at a time."""
    sims = np.zeros((len(images), k), dtype=np.float32)
    indices = np.zeros((len(images), k), dtype=np.int64)
    if k == 0:
        return sims, indices
    rows = max(1, _CHUNK_ELEMENTS // len(captions))
    for start in range(0, len(images), rows):
        chunk = images[start : start + rows] @ captions.T
        top = np.argpartition(-chunk, k - 1, axis=1)[:, :k] if k < chunk.shape[1] else np.indices(chunk.shape)[1]
        top_sims = np.take_along_axis(chunk, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        sims[start : start + rows] = np.take_along_axis(top_sims, order, axis=1)
        indices[start : start + rows] = np.take_along_axis(top, order, axis=1)
    return sims, indices


def _calibrate(candidates: npt.NDArray[np.float32], wanted: float) -> float:
    """The similarity of the `wanted`-th best candidate (rounded); keeping those at or above it keeps that many."""
    count = round(wanted)
    if count <= 0 or candidates.size == 0:
        return math.inf
    ranked = np.sort(candidates)[::-1]
    return float(ranked[min(count, ranked.size) - 1])


def encode_captions(
    encoder: TextEncoder,
    captions: Sequence[str],
    batch_size: int = 256,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> npt.NDArray[np.float32]:
    """Embed the caption bank in batches, reporting stage "captions" progress.

    Returns:
        (len(captions), embed_dim) float32 unit vectors.

    Raises:
        Cancelled: `cancel` was set.
        EnvironmentFault: the device ran out of memory; a smaller batch may fit.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    parts = [np.zeros((0, encoder.embed_dim), dtype=np.float32)]
    for start in range(0, len(captions), batch_size):
        if cancel is not None:
            cancel.raise_if_cancelled()
        parts.append(np.asarray(encoder.encode_texts(captions[start : start + batch_size]), dtype=np.float32))
        progress(Progress("captions", min(start + batch_size, len(captions)), len(captions)))
    return np.concatenate(parts)


def save_assignment(path: Path, assignment: CaptionAssignment, identity: str) -> None:
    """Keep `assignment` in the run folder, so that a resumed run does not mine again: mining embeds every
    training photo with the miner (with SO400M on a CPU, longer than an epoch). `identity` names what it was
    mined from (`load_assignment` gives it back only for the same)."""
    counts = assignment.counts
    buffer = io.BytesIO()
    np.savez(
        buffer,
        identity=np.array(identity),
        captions=np.concatenate(assignment.captions) if len(counts) else np.zeros(0, dtype=np.int64),
        counts=counts,
        figures=np.array([assignment.threshold, assignment.coverage, assignment.mean_per_image]),
    )
    write_bytes(path, buffer.getvalue(), "the mined captions")


def load_assignment(path: Path, identity: str) -> CaptionAssignment | None:
    """What `save_assignment` kept at `path` for the same `identity`; None when there is none, it was mined
    from something else, or the file is damaged (then the run mines again)."""
    try:
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as saved:  # data, never code
            if str(saved["identity"]) != identity:
                return None
            flat, counts, figures = saved["captions"].astype(np.int64), saved["counts"], saved["figures"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if counts.sum() != len(flat) or len(figures) != 3:
        return None
    captions = tuple(np.split(flat, np.cumsum(counts)[:-1])) if len(counts) else ()
    return CaptionAssignment(captions, float(figures[0]), float(figures[1]), float(figures[2]))
