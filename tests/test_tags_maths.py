"""The tagging maths without a catalog: the vocabulary file, prompt ensembling, example blending, top-k,
and calibration checked against score distributions whose right thresholds are known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tag_helpers import ColourWordEncoder

from photosift.core.errors import UserError
from photosift.core.tags.calibration import (
    BASE_Z,
    BINS,
    MIN_SPREAD,
    calibrate,
    check_sensitivity,
    decode_histogram,
    encode_histogram,
    histograms,
    quantile,
)
from photosift.core.tags.scoring import EXAMPLE_PRIOR, blend_examples, definition_key, scores, text_vectors, top_k
from photosift.core.tags.vocabulary import load_vocabulary, normalise_name

# Vocabulary ----------------------------------------------------------------------------------------


def test_builtin_vocabulary_is_large_unique_and_grouped() -> None:
    vocabulary = load_vocabulary()
    names = [t.name for t in vocabulary.tags]
    assert len(names) >= 300 and len(set(names)) == len(names)
    assert all(names.count(t.name) == 1 and t.prompts and all(p.strip() for p in t.prompts) for t in vocabulary.tags)
    by_group = {g: [t for t in vocabulary.tags if t.group == g] for g in vocabulary.groups}
    assert len(by_group) >= 10 and all(by_group.values())
    assert {"beach", "sunset", "snow", "dog", "cat", "birthday party", "wedding", "receipt", "screenshot"} <= set(names)
    assert all(t.count("{}") == 1 for t in vocabulary.templates)


def test_vocabulary_errors_are_sentences(tmp_path: Path) -> None:
    bad = tmp_path / "vocabulary.json"
    bad.write_text(json.dumps({"templates": ["{}"], "groups": [{"name": "g", "tags": [{"name": "x", "prompts": []}]}]}))
    with pytest.raises(UserError, match="needs at least one prompt"):
        load_vocabulary(bad)
    twice = {"name": "Dog", "prompts": ["a dog"]}
    bad.write_text(json.dumps({"templates": ["{}"], "groups": [{"name": "g", "tags": [twice, twice]}]}))
    with pytest.raises(UserError, match="names 'dog' twice"):
        load_vocabulary(bad)
    assert normalise_name("  Birthday_Party ") == "birthday party"


# Tag vectors and scores ----------------------------------------------------------------------------


def test_prompt_ensemble_is_the_normalised_mean_over_prompts_and_templates() -> None:
    encoder = ColourWordEncoder()
    templates = ("a photo of {}.", "{}")
    vectors = text_vectors(encoder.encode_texts, [["red"], ["red", "blue"], ["beach"]], templates)
    np.testing.assert_allclose(vectors[0], [1, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(vectors[1], np.array([1, 0, 1, 0]) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    pixels = np.array([[0.9, 0.1, 0.1], [0.1, 0.1, 0.9]], dtype=np.float32)[:, :, None, None]
    photos = encoder.encode_images(np.broadcast_to(pixels, (2, 3, 4, 4)))
    s = scores(photos, vectors)
    assert s[0, 0] > 0.5 > s[1, 0] and s[1, 1] > 0 and abs(s[0, 2]) < 1e-6 and abs(s[1, 2]) < 1e-6


def test_examples_move_a_tag_by_their_weight() -> None:
    text = np.array([1.0, 0, 0, 0], dtype=np.float32)
    example = np.array([[0, 1.0, 0, 0]], dtype=np.float32)
    assert blend_examples(text, np.zeros((0, 4), np.float32)) is text
    one = blend_examples(text, example)
    weight = 1 / (1 + EXAMPLE_PRIOR)
    np.testing.assert_allclose(one, np.array([1 - weight, weight, 0, 0]) / np.hypot(1 - weight, weight), atol=1e-6)
    many = blend_examples(text, np.repeat(example, 9, axis=0))
    assert many[1] > one[1] and many[0] > 0  # more examples pull further, the words still count


def test_top_k_finds_each_rows_best_columns() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(5, 40)).astype(np.float32)
    rows, columns = top_k(matrix, 3)
    for row in range(5):
        assert set(columns[rows == row]) == set(np.argsort(-matrix[row])[:3])
    rows, columns = top_k(matrix[:, :2], 3)  # fewer columns than k: all of them
    assert len(rows) == 10 and set(columns) == {0, 1}


def test_definition_key_changes_with_what_the_vector_is_made_of() -> None:
    base = definition_key(["a dog"], ["{}"], [])
    assert base == definition_key(["a dog"], ["{}"], [])
    assert len({base, definition_key(["a puppy"], ["{}"], []), definition_key(["a dog"], ["{}"], [3])}) == 3


# Calibration ---------------------------------------------------------------------------------------


def _library_scores(rng: np.random.Generator, centre: float, spread: float, positive: float, n: int = 2000):  # type: ignore[no-untyped-def]
    """Scores of one tag over a library: n photos without it around `centre`, 2% with it at `positive`."""
    absent = rng.normal(centre, spread, n)
    present = rng.normal(positive, spread, n // 50)
    return absent, present


def test_quantiles_from_a_histogram_match_the_scores() -> None:
    values = np.random.default_rng(1).normal(0.2, 0.03, 5000).astype(np.float32)
    histogram = histograms(values[:, None])[0]
    assert histogram.shape == (BINS,) and histogram.sum() == 5000
    for q in (0.1587, 0.5, 0.9):
        assert quantile(histogram, q) == pytest.approx(np.quantile(values, q), abs=2 / BINS)
    np.testing.assert_array_equal(decode_histogram(encode_histogram(histogram)), histogram)


def test_thresholds_are_calibrated_per_tag_not_one_global_cut() -> None:
    rng = np.random.default_rng(2)
    clip_like = _library_scores(rng, centre=0.20, spread=0.02, positive=0.32)  # CLIP-like cosines
    siglip_like = _library_scores(rng, centre=-0.05, spread=0.005, positive=0.0)  # SigLIP-like: small, tight
    thresholds = []
    for absent, present in (clip_like, siglip_like):
        calibration = calibrate(histograms(np.concatenate([absent, present])[:, None].astype(np.float32))[0])
        assert calibration is not None
        threshold = calibration.threshold()
        assert np.mean(present >= threshold) > 0.95  # finds the photos with the tag
        assert np.mean(absent >= threshold) < 0.02  # and few of the others
        thresholds.append(threshold)
    assert thresholds[0] == pytest.approx(0.20 + BASE_Z * 0.02, abs=0.01)
    assert thresholds[1] == pytest.approx(-0.05 + BASE_Z * 0.005, abs=0.003)
    # No single cut serves both: the CLIP-like threshold misses every SigLIP-like positive,
    # and the SigLIP-like one tags every CLIP-like photo.
    assert np.all(siglip_like[1] < thresholds[0]) and np.all(clip_like[0] > thresholds[1])


def test_calibration_resists_a_tag_shown_in_a_quarter_of_the_photos() -> None:
    rng = np.random.default_rng(3)
    absent, present = rng.normal(0.2, 0.02, 1500), rng.normal(0.35, 0.02, 500)
    calibration = calibrate(histograms(np.concatenate([absent, present])[:, None].astype(np.float32))[0])
    assert calibration is not None
    assert calibration.centre < 0.22 and calibration.spread < 0.035
    assert np.mean(present >= calibration.threshold()) > 0.95


def test_sensitivity_moves_the_threshold_in_steps() -> None:
    calibration = calibrate(histograms(np.random.default_rng(4).normal(0.2, 0.02, (3000, 1)).astype(np.float32))[0])
    assert calibration is not None
    levels = [calibration.threshold(level) for level in (-2, -1, 0, 1, 2)]
    assert levels == sorted(levels, reverse=True)  # +2 tags more photos: the lowest threshold
    assert levels[0] - levels[-1] == pytest.approx(4 * 0.5 * calibration.spread)
    assert check_sensitivity(-2) == -2
    with pytest.raises(UserError, match="from -2"):
        check_sensitivity(3)


def test_flat_or_empty_distributions_do_not_tag_everything() -> None:
    assert calibrate(np.zeros(BINS, dtype=np.int64)) is None
    flat = calibrate(histograms(np.full((50, 1), 0.1, dtype=np.float32))[0])
    assert flat is not None and flat.spread == MIN_SPREAD and flat.threshold() > 0.1
