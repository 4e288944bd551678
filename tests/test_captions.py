"""Pseudo-captions: the caption bank, threshold mining on embeddings whose cosines are known, and encoding
the bank with the tiny open_clip model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from conftest import TEST_MODELS

from photosift.core.errors import Cancelled, UserError
from photosift.core.models.encoder import Encoder
from photosift.core.models.spec import load_spec
from photosift.core.progress import CancelToken, Progress
from photosift.core.settings import Paths
from photosift.training.captions import (
    PROMPT_TEMPLATES,
    CaptionAssignment,
    build_caption_bank,
    encode_captions,
    load_assignment,
    mine_captions,
    save_assignment,
)

# Cosines of 3 images (rows) with 5 captions (columns). Relative floors (0.8 x best): image 0 keeps captions
# 0, 1, 4 (>= 0.24); image 1 keeps 2, 3 (>= 0.12); image 2 matches nothing positively and keeps none.
COSINES = np.array(
    [
        [0.30, 0.28, 0.20, 0.10, 0.26],
        [0.05, 0.11, 0.15, 0.14, 0.02],
        [-0.10, 0.00, -0.05, -0.20, -0.02],
    ]
)


def embeddings_with(cosines: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Unit vectors whose image-caption dot products are exactly `cosines`: images are basis vectors, and each
    caption carries its cosines on those axes plus a private axis that makes it unit length."""
    n, t = cosines.shape
    images = np.eye(n, n + t)
    captions = np.zeros((t, n + t))
    captions[:, :n] = cosines.T
    captions[np.arange(t), n + np.arange(t)] = np.sqrt(1 - (cosines**2).sum(axis=0))
    return images.astype(np.float32), captions.astype(np.float32)


def as_lists(assignment_captions: tuple[npt.NDArray[np.int64], ...]) -> list[list[int]]:
    return [row.tolist() for row in assignment_captions]


def test_bank_applies_templates_to_names_and_terms_then_adds_the_file(tmp_path: Path) -> None:
    caption_file = tmp_path / "captions.txt"
    caption_file.write_text("a dog on a beach at sunset\n\n  #holiday   2024 \na photo of a golden retriever.\n")
    bank = build_caption_bank(["golden_retriever", "cat"], ["Holiday 2024", "cat", " "], caption_file)
    per = len(PROMPT_TEMPLATES)
    assert bank[:per] == [template.format("golden retriever") for template in PROMPT_TEMPLATES]
    assert bank[per : 2 * per] == [template.format("cat") for template in PROMPT_TEMPLATES]
    assert bank[2 * per : 3 * per] == [template.format("Holiday 2024") for template in PROMPT_TEMPLATES]
    assert bank[3 * per :] == ["a dog on a beach at sunset", "#holiday 2024"]  # the duplicates went
    assert len(bank) == len(set(bank))


def test_bank_refuses_a_missing_or_binary_caption_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        build_caption_bank(["cat"], caption_file=tmp_path / "absent.txt")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UserError, match="not UTF-8"):
        build_caption_bank(["cat"], caption_file=tmp_path / "binary.txt")


def test_fixed_threshold_assigns_exactly_the_captions_above_it_and_the_floor() -> None:
    images, captions = embeddings_with(COSINES)
    strict = mine_captions(images, captions, threshold=0.27)
    assert as_lists(strict.captions) == [[0, 1], [], []]
    assert strict.threshold == 0.27 and strict.coverage == pytest.approx(1 / 3)
    assert strict.mean_per_image == pytest.approx(2 / 3) and strict.counts.tolist() == [2, 0, 0]
    loose = mine_captions(images, captions, threshold=-1.0)  # only the relative floor decides
    assert as_lists(loose.captions) == [[0, 1, 4], [2, 3], []]
    assert loose.coverage == pytest.approx(2 / 3) and loose.mean_per_image == pytest.approx(5 / 3)


def test_top_k_limits_the_candidates() -> None:
    images, captions = embeddings_with(COSINES)
    assert as_lists(mine_captions(images, captions, top_k=1, threshold=0.0).captions) == [[0], [2], []]
    assert as_lists(mine_captions(images, captions, top_k=99, threshold=0.0).captions) == [[0, 1, 4], [2, 3], []]


def test_calibrated_threshold_keeps_the_target_mean_of_candidates() -> None:
    images, captions = embeddings_with(COSINES)
    one = mine_captions(images, captions, target_mean=1.0)  # 3 captions in all: the three best candidates
    assert as_lists(one.captions) == [[0, 1, 4], [], []]
    assert one.threshold == pytest.approx(0.26) and one.mean_per_image == pytest.approx(1.0)
    many = mine_captions(images, captions, target_mean=10.0)  # more than pass the floor: keep them all
    assert as_lists(many.captions) == [[0, 1, 4], [2, 3], []] and many.threshold == pytest.approx(0.14)


def clustered(rng: np.random.Generator, centres: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.float64]:
    points = centres[rng.integers(0, len(centres), count)] + 0.3 * rng.standard_normal((count, centres.shape[1]))
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_calibration_hits_the_target_mean_whatever_the_models_cosine_scale() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, 24)) / np.sqrt(24)
    images, captions = clustered(rng, centres, 200), clustered(rng, centres, 400)
    clip_like = mine_captions(images, captions, target_mean=5.0)
    assert clip_like.mean_per_image == pytest.approx(5.0, abs=0.05) and clip_like.coverage > 0.5
    # The same geometry with every cosine halved, as in a SigLIP-like space: half the threshold, same captions.
    noise = rng.standard_normal((400, 24))
    orthogonal = noise / np.linalg.norm(noise, axis=1, keepdims=True)
    shrunk = np.hstack([0.5 * captions, np.sqrt(0.75) * orthogonal])
    siglip_like = mine_captions(np.hstack([images, np.zeros_like(images)]), shrunk, target_mean=5.0)
    assert siglip_like.threshold == pytest.approx(clip_like.threshold / 2, rel=1e-4)
    assert as_lists(siglip_like.captions) == as_lists(clip_like.captions)


def test_mining_handles_empty_inputs_and_refuses_bad_arguments() -> None:
    images, captions = embeddings_with(COSINES)
    no_images = mine_captions(images[:0], captions)
    assert no_images.captions == () and no_images.coverage == 0.0 and no_images.mean_per_image == 0.0
    assert as_lists(mine_captions(images, captions[:0]).captions) == [[], [], []]
    with pytest.raises(ValueError, match="not both"):
        mine_captions(images, captions, threshold=0.2, target_mean=3.0)
    with pytest.raises(ValueError, match="embeddings"):
        mine_captions(images, captions[:, :4])


def test_encode_captions_batches_the_tiny_encoder_into_unit_vectors(tmp_path: Path) -> None:
    encoder = Encoder(load_spec(TEST_MODELS / "tiny.json"), Paths(tmp_path / "home"), "cpu")
    bank = build_caption_bank(["cat"])[:7]
    reports: list[Progress] = []
    vectors = encode_captions(encoder, bank, batch_size=3, progress=reports.append)
    assert vectors.shape == (7, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, encoder.encode_texts(bank), atol=1e-5)
    assert [(p.done, p.total) for p in reports] == [(3, 7), (6, 7), (7, 7)]
    assert encode_captions(encoder, [], batch_size=3).shape == (0, 32)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        encode_captions(encoder, bank, cancel=cancel)


def test_mined_captions_are_kept_for_the_same_inputs_only(tmp_path: Path) -> None:
    mined = CaptionAssignment((np.array([2, 0]), np.zeros(0, dtype=np.int64), np.array([1])), 0.21, 2 / 3, 1.0)
    path = tmp_path / "captions.npz"
    save_assignment(path, mined, "miner A, bank 1")
    back = load_assignment(path, "miner A, bank 1")
    assert back is not None
    assert [c.tolist() for c in back.captions] == [[2, 0], [], [1]]
    assert (back.threshold, back.coverage, back.mean_per_image) == (0.21, 2 / 3, 1.0)
    assert load_assignment(path, "miner B, bank 1") is None  # mined from something else: mine again
    path.write_bytes(path.read_bytes()[:40])  # damaged
    assert load_assignment(path, "miner A, bank 1") is None
    assert load_assignment(tmp_path / "none.npz", "miner A, bank 1") is None
