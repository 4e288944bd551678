"""The MCIP loading paths at full size: state dicts laid out like the two releases, ViT-SO400M-14-SigLIP-384
(1152-d) and OpenAI's ViT-L-14-336 (768-d).

Each released file is a plain state dict over the whole CLIP model. We cannot download them here, so a
randomly initialised model of the same architecture stands in: its state dict, saved as `.pth` where
the built-in spec expects the download, must load strictly and embed exactly like the model it came
from. About 880M and 430M parameters (3.5 and 1.7 GB in fp32): slow, and run with `-m slow`.
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
from photosift.core.models.files import missing_files
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.models.weights import apply_state_dict, load_state_dict
from photosift.core.settings import Paths

OFFSET = 0.02  # added to every weight so the checkpoint differs from the encoder's own seeded init


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    return Paths(tmp_path_factory.mktemp("mcip") / "home")


RELEASES = {"mcip-siglip-so400m-384": (384, 1152), "mcip-vit-l-14-336": (336, 768)}  # image side, embedding


@pytest.fixture(scope="module", params=sorted(RELEASES))
def mcip(home: Paths, request: pytest.FixtureRequest) -> ModelSpec:
    return ModelRegistry(home).resolve(request.param)


@pytest.fixture(scope="module")
def source(mcip: ModelSpec, home: Paths) -> Iterator[torch.nn.Module]:
    """The stand-in model, saved where the built-in spec's download would land. The spec's other files
    (its tokenizer's) get empty stand-ins, so the model counts as installed: encoding images reads none."""
    model = build_model(mcip)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(OFFSET)
    weights = mcip.weights_file(home)
    assert weights is not None
    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), weights)
    stand_ins = [file.path for file in missing_files(mcip, home)]
    for path in stand_ins:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")
    yield model
    weights.unlink()
    for path in stand_ins:
        path.unlink()


@pytest.mark.slow
def test_the_builtin_mcip_spec_loads_a_released_style_checkpoint(
    mcip: ModelSpec, home: Paths, source: torch.nn.Module
) -> None:
    assert ModelRegistry(home).is_downloaded(mcip)  # present, so nothing is downloaded
    encoder = Encoder(mcip, home, "cpu")
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
    batch = encoder.preprocess(img)[None]
    side, dim = RELEASES[mcip.name]
    assert batch.shape == (1, 3, side, side)

    got = encoder.encode_images(batch)

    with torch.inference_mode():
        features = source.encode_image(torch.from_numpy(batch))  # type: ignore[operator]
    want = torch.nn.functional.normalize(features, dim=-1).numpy()
    assert got.shape == (1, dim)
    np.testing.assert_allclose(got, want, atol=1e-4)
    encoder.release()
    assert not encoder.is_loaded


@pytest.mark.slow
def test_a_ddp_wrapped_mcip_checkpoint_loads_strictly(mcip: ModelSpec, source: torch.nn.Module, tmp_path: Path) -> None:
    wrapped = tmp_path / "ddp.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}, "epoch": 2}, wrapped)
    state = load_state_dict(wrapped)
    assert not any(key.startswith("module.") for key in state)
    apply_state_dict(source, state, mcip.name)  # strict: raises if a single key or shape is off
    wrapped.unlink()


def test_the_vit_l_release_is_built_and_preprocessed_as_openai_trained_it(tmp_path: Path) -> None:
    """OpenAI's weights were trained with QuickGELU, which open_clip's plain `ViT-L-14-336` config lacks
    (it takes it from the `openai` pretrained tag, which we never pass): a strict load cannot tell the two
    apart, since activations have no weights, so the spec must name the quickgelu config itself."""
    import open_clip

    spec = ModelRegistry(Paths(tmp_path)).resolve("mcip-vit-l-14-336")
    pretrained = open_clip.get_pretrained_cfg("ViT-L-14-336", "openai")
    assert pretrained["quick_gelu"] and open_clip.get_model_config(spec.architecture)["quick_gelu"]
    assert spec.mean == pytest.approx(pretrained["mean"]) and spec.std == pytest.approx(pretrained["std"])
    assert (spec.resize_mode, spec.resize, spec.image_size) == (pretrained["resize_mode"], 336, 336)
    assert spec.embed_dim == 768 and not spec.default_for  # a GPU model, never a default
    assert spec.weights is not None and spec.weights.urls == (
        "https://visual-computing.com/files/MCIP/MCIP-ViT-L-14-336.pth",
    )
