"""Installing a weights file fetched by hand: only a file that fits (and matches a known checksum) is
copied to where the spec loads its weights; anything else is refused with nothing left behind."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
import safetensors.torch
import torch
from conftest import TEST_MODELS

from photosift.core.errors import Cancelled, ModelError
from photosift.core.models.build import build_model
from photosift.core.models.encoder import Encoder
from photosift.core.models.spec import ModelSpec, WeightsSource, load_spec
from photosift.core.models.weights import install_weights, load_state_dict
from photosift.core.progress import CancelToken
from photosift.core.settings import Paths


@pytest.fixture
def spec() -> ModelSpec:
    """The tiny architecture as a downloadable model (the URL is never fetched here)."""
    tiny = load_spec(TEST_MODELS / "tiny.json")
    return replace(tiny, random_init=False, weights=WeightsSource(("https://example.invalid/t",), "tiny.weights"))


def save_state(spec_file: str, path: Path, scale: float = 1.0) -> Path:
    model = build_model(load_spec(TEST_MODELS / spec_file))
    safetensors.torch.save_file({k: v * scale for k, v in model.state_dict().items()}, str(path))
    return path


def test_a_fitting_file_is_copied_where_the_spec_loads_it(spec: ModelSpec, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    source = save_state("tiny.json", tmp_path / "downloaded elsewhere.safetensors", scale=-0.5)
    paths.models.mkdir(parents=True)
    for left_by_a_download in ("tiny.weights.part", "tiny.weights.part.json"):
        (paths.models / left_by_a_download).write_text("half")
    dest = install_weights(source, spec, paths)
    assert dest == paths.models / "tiny.weights" and dest.read_bytes() == source.read_bytes()
    assert source.is_file() and sorted(p.name for p in paths.models.iterdir()) == ["tiny.weights"]
    encoder = Encoder(spec, paths, "cpu")
    encoder.load()
    loaded, saved = encoder.model.state_dict(), load_state_dict(source)
    torch.testing.assert_close(loaded["text_projection"], saved["text_projection"])


def test_a_file_that_does_not_fit_is_refused_and_nothing_is_copied(spec: ModelSpec, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    wide = save_state("tiny-wide.json", tmp_path / "wide.safetensors")
    with pytest.raises(ModelError, match="does not fit tiny"):
        install_weights(wide, spec, paths)
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not weights")
    with pytest.raises(ModelError, match="is not a model checkpoint"):
        install_weights(garbage, spec, paths)
    assert not paths.models.exists() or not any(paths.models.iterdir())


def test_a_known_checksum_must_match(spec: ModelSpec, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    source = save_state("tiny.json", tmp_path / "t.safetensors")
    with pytest.raises(ModelError, match="not the file it expects: its checksum differs"):
        install_weights(source, replace(spec, sha256="0" * 64), paths)
    assert not (paths.models / "tiny.weights").exists() and not (paths.models / "tiny.weights.copy").exists()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert install_weights(source, replace(spec, sha256=digest), paths).is_file()


def test_cancelling_leaves_nothing_and_random_init_has_nothing_to_install(spec: ModelSpec, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    source = save_state("tiny.json", tmp_path / "t.safetensors")
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        install_weights(source, spec, paths, cancel)
    assert not any(paths.models.iterdir())
    with pytest.raises(ModelError, match="has no weights file to install"):
        install_weights(source, load_spec(TEST_MODELS / "tiny.json"), paths)


def test_weights_holding_nan_are_refused_and_nothing_is_copied(spec: ModelSpec, tmp_path: Path) -> None:
    """A NaN checkpoint would embed every photo as NaN; it is refused at install, as at any load."""
    paths = Paths(tmp_path / "home")
    model = build_model(load_spec(TEST_MODELS / "tiny.json"))
    state = model.state_dict()
    state["text_projection"] = torch.full_like(state["text_projection"], float("nan"))
    source = tmp_path / "nan.safetensors"
    safetensors.torch.save_file(state, str(source))
    with pytest.raises(ModelError, match=r"damaged: 1 of its tensors \(text_projection\)"):
        install_weights(source, spec, paths)
    assert not paths.models.exists() or not any(paths.models.iterdir())
