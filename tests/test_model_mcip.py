"""The MCIP loading path at full size: a ViT-SO400M-14-SigLIP-384 state dict laid out like the release.

The released file is a plain state dict over the whole CLIP model. We cannot download it here, so a
randomly initialised model of the same architecture stands in: its state dict, saved as `.pth` where
the built-in spec expects the download, must load strictly and embed exactly like the model it came
from. About 880M parameters (3.5 GB in fp32): slow, and run with `-m slow`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photosift.core.models.build import build_model
from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.models.weights import apply_state_dict, load_state_dict
from photosift.core.settings import Paths

pytestmark = pytest.mark.slow

OFFSET = 0.02  # added to every weight so the checkpoint differs from the encoder's own seeded init


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    return Paths(tmp_path_factory.mktemp("mcip") / "home")


@pytest.fixture(scope="module")
def mcip(home: Paths) -> ModelSpec:
    return ModelRegistry(home).resolve("mcip-siglip-so400m-384")


@pytest.fixture(scope="module")
def source(mcip: ModelSpec, home: Paths) -> Iterator[torch.nn.Module]:
    """The stand-in model, saved where the built-in spec's download would land."""
    model = build_model(mcip)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(OFFSET)
    weights = mcip.weights_file(home)
    assert weights is not None
    weights.parent.mkdir(parents=True)
    torch.save(model.state_dict(), weights)
    yield model
    weights.unlink()


def test_the_builtin_mcip_spec_loads_a_released_style_checkpoint(
    mcip: ModelSpec, home: Paths, source: torch.nn.Module
) -> None:
    assert ModelRegistry(home).is_downloaded(mcip)  # present, so nothing is downloaded
    encoder = Encoder(mcip, home, "cpu")
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
    batch = encoder.preprocess(img)[None]
    assert batch.shape == (1, 3, 384, 384)

    got = encoder.encode_images(batch)

    with torch.inference_mode():
        features = source.encode_image(torch.from_numpy(batch))  # type: ignore[operator]
    want = torch.nn.functional.normalize(features, dim=-1).numpy()
    assert got.shape == (1, 1152)
    np.testing.assert_allclose(got, want, atol=1e-4)
    encoder.release()
    assert not encoder.is_loaded


def test_a_ddp_wrapped_mcip_checkpoint_loads_strictly(mcip: ModelSpec, source: torch.nn.Module, tmp_path: Path) -> None:
    wrapped = tmp_path / "ddp.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}, "epoch": 2}, wrapped)
    state = load_state_dict(wrapped)
    assert not any(key.startswith("module.") for key in state)
    apply_state_dict(source, state, mcip.name)  # strict: raises if a single key or shape is off
    wrapped.unlink()
