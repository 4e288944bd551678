"""The model catalogue: every built-in spec says what it is in plain words, its licence, languages, size and
measured speed; user specs without those fields still load and show "not stated"."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import open_clip
import pytest
import safetensors.torch
import torch
from conftest import TEST_MODELS

from photosift.app.cli import run
from photosift.app.main import build_library
from photosift.core.catalog import model_rows
from photosift.core.catalog.model_rows import StoredModel
from photosift.core.errors import ModelError
from photosift.core.models.build import build_model, tokenizer_is_bundled
from photosift.core.models.card import NOT_MEASURED, NOT_STATED, model_card
from photosift.core.models.encoder import Encoder
from photosift.core.models.files import needed_files
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import dump_spec, load_spec
from photosift.core.protocol import EXIT_OK
from photosift.core.settings import Paths, Settings, load_settings

SPDX_IDS = {"Apache-2.0", "MIT", "CC-BY-NC-4.0", "CC-BY-4.0", "BSD-3-Clause"}  # licences the built-ins may use


def test_every_builtin_model_has_catalogue_texts(tmp_path: Path) -> None:
    for spec in ModelRegistry(Paths(tmp_path)).specs():
        card = model_card(spec)
        assert card.title and card.title == spec.summary, spec.name
        assert spec.details and spec.languages, spec.name
        assert card.licence in SPDX_IDS | {NOT_STATED}, spec.name
        assert card.download_mb > 0 and card.embed_dim == spec.embed_dim, spec.name


def test_card_reads_plain_words_and_says_what_was_not_measured(tmp_path: Path) -> None:
    spec = ModelRegistry(Paths(tmp_path)).resolve("vit-b-32-metaclip")
    card = model_card(spec)
    assert (card.licence, card.languages) == ("CC-BY-NC-4.0", "English")
    assert card.cpu_speed == "42 photos/s" and card.gpu_speed == NOT_MEASURED
    assert card.download_size == "605 MB"
    assert json.loads(json.dumps(card.as_json()))["gpu_photos_per_s"] is None


def test_a_spec_without_catalogue_texts_still_loads_and_says_not_stated() -> None:
    spec = load_spec(TEST_MODELS / "tiny.json")
    card = model_card(spec)
    assert card.title == "Tiny test model"  # the title stands in for a missing summary
    assert card.details == "tiny-arch, its own weights"
    assert (card.licence, card.languages, card.download_size) == (NOT_STATED, NOT_STATED, "none")


def test_catalogue_texts_round_trip_and_leave_the_key_alone(tmp_path: Path) -> None:
    raw = json.loads((TEST_MODELS / "tiny.json").read_text(encoding="utf-8"))
    raw |= {"open_clip_config": str(TEST_MODELS / "tiny-arch.json"), "licence": "MIT", "languages": "Japanese"}
    source = tmp_path / "tiny.json"
    source.write_text(json.dumps(raw), encoding="utf-8")
    spec = load_spec(source)
    target = tmp_path / "copy" / "tiny.json"
    dump_spec(spec, target)
    assert load_spec(target) == replace(spec, path=target)
    assert spec.key == replace(spec, licence="", languages="", summary="x", details="y").key


def test_download_sizes_read_as_people_write_them() -> None:
    card = model_card(replace(load_spec(TEST_MODELS / "tiny.json"), download_mb=1530))
    assert card.download_size == "1.5 GB"
    assert re.fullmatch(r"\d+ photos/s|not measured", card.cpu_speed)


def test_the_cpu_default_is_licence_clean_and_multilingual(tmp_path: Path) -> None:
    card = model_card(ModelRegistry(Paths(tmp_path)).default_spec("cpu"))
    assert card.licence in {"Apache-2.0", "MIT"} and "100 languages" in card.languages
    assert card.title == "Fast, works on any computer"


def test_a_library_indexed_with_the_former_default_keeps_it(tmp_path: Path) -> None:
    registry = ModelRegistry(Paths(tmp_path))
    default, metaclip = registry.default_spec("cpu"), registry.resolve("vit-b-32-metaclip")
    assert registry.model_for_library("cpu", {}) == default  # a new library gets the new default
    assert registry.model_for_library("cpu", {metaclip.key: 40}) == metaclip
    assert registry.model_for_library("cpu", {metaclip.key: 40, default.key: 1}) == default  # already moved on
    assert registry.model_for_library("cpu", {metaclip.key: 0, "other@key": 9}) == default


def test_opening_a_metaclip_library_selects_metaclip_for_good(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = Paths.default()
    metaclip = ModelRegistry(paths).resolve("vit-b-32-metaclip")
    stored = [StoredModel(1, metaclip.key, metaclip.name, metaclip.embed_dim, 398)]
    monkeypatch.setattr(model_rows, "stored_models", lambda _engine: stored)
    library = build_library(paths, Settings(device="cpu"))
    try:
        assert library.spec.name == "vit-b-32-metaclip" and library.settings.model == "vit-b-32-metaclip"
    finally:
        library.close()
    assert load_settings(paths).model == "vit-b-32-metaclip"  # saved: no front end switches it later

    monkeypatch.setattr(model_rows, "stored_models", lambda _engine: [])
    fresh = Paths(home / "fresh")
    new_library = build_library(fresh, Settings(device="cpu"))
    try:
        assert new_library.spec == ModelRegistry(fresh).default_spec("cpu") and new_library.settings.model is None
    finally:
        new_library.close()


def test_every_builtin_architecture_and_pretrained_tag_is_in_open_clip(tmp_path: Path) -> None:
    """Names drift between open_clip releases: a renamed tag would otherwise surface as a failed download."""
    for spec in ModelRegistry(Paths(tmp_path)).specs():
        config = open_clip.get_model_config(spec.architecture)
        assert config is not None, f"{spec.name}: open_clip {open_clip.__version__} lacks {spec.architecture}"
        assert (config["embed_dim"], config["vision_cfg"]["image_size"]) == (spec.embed_dim, spec.image_size)
        if spec.pretrained is None:
            continue
        assert spec.pretrained in open_clip.list_pretrained_tags_by_model(spec.architecture), spec.name
        trained = open_clip.get_pretrained_cfg(spec.architecture, spec.pretrained)
        assert (spec.resize_mode, spec.interpolation) == (trained["resize_mode"], trained["interpolation"]), spec.name
        assert spec.mean == pytest.approx(trained["mean"]) and spec.std == pytest.approx(trained["std"]), spec.name


def test_models_with_hugging_face_tokenizers_list_their_files(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    for spec in ModelRegistry(paths).specs():
        if tokenizer_is_bundled(spec):
            continue
        assert {"tokenizer.json", "tokenizer_config.json"} <= {file.name for file in spec.files}, spec.name
        files = needed_files(spec, paths)
        assert all(url.startswith("https://") for file in files for url in file.urls), spec.name
        assert [file.path for file in files][1:] == [paths.models / spec.files_folder / f.name for f in spec.files]


# NLLB-200 distilled 600M as its published config.json describes it (an M2M100 encoder-decoder; open_clip
# keeps the encoder): the stand-in the strict load test builds NLLB-CLIP's text tower from.
NLLB_600M_CONFIG = {
    "model_type": "m2m_100",
    "is_encoder_decoder": True,
    "vocab_size": 256206,
    "d_model": 1024,
    "encoder_layers": 12,
    "decoder_layers": 12,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
    "scale_embedding": True,
    "activation_function": "relu",
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "decoder_start_token_id": 2,
}
TINY_M2M100 = NLLB_600M_CONFIG | {
    "vocab_size": 300,
    "d_model": 16,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 32,
    "decoder_ffn_dim": 32,
    "max_position_embeddings": 32,
}


@pytest.fixture
def tiny_nllb(tmp_path: Path) -> Path:
    """A spec like NLLB-CLIP's: tiny.json's image tower, a Hugging Face M2M100 text tower named after the hub
    model, and a tiny config.json for it in the spec's files folder."""
    vision_cfg = json.loads((TEST_MODELS / "tiny-arch.json").read_text())["vision_cfg"]
    hub = "facebook/nllb-200-distilled-600M"
    text_cfg = {
        "hf_model_name": hub,
        "hf_tokenizer_name": hub,
        "hf_proj_type": "linear",
        "hf_pooler_type": "cls_pooler",
    }
    arch = {"embed_dim": 32, "custom_text": True, "vision_cfg": vision_cfg, "text_cfg": text_cfg}
    (tmp_path / "tiny-nllb-arch.json").write_text(json.dumps(arch))
    spec = json.loads((TEST_MODELS / "tiny.json").read_text())
    spec |= {"name": "tiny-nllb", "architecture": "tiny-nllb-arch", "open_clip_config": "tiny-nllb-arch.json"}
    spec |= {
        "files_folder": "tiny-nllb",
        "files": [{"name": "config.json", "urls": ["https://example.org/config.json"]}],
    }
    (tmp_path / "tiny-nllb.json").write_text(json.dumps(spec))
    return tmp_path / "tiny-nllb.json"


def test_a_hugging_face_text_tower_is_built_from_the_spec_s_config_file(tiny_nllb: Path, tmp_path: Path) -> None:
    """open_clip would fetch the config, and the whole pretrained text model, from the hub while building."""
    spec, models = load_spec(tiny_nllb), tmp_path / "models"
    with pytest.raises(ModelError, match=r"is missing config\.json.*photosift models download tiny-nllb"):
        build_model(spec, models_dir=models)
    (models / "tiny-nllb").mkdir(parents=True)
    (models / "tiny-nllb" / "config.json").write_text(json.dumps(TINY_M2M100))
    model = build_model(spec, models_dir=models)
    assert model.text.config.d_model == 16  # type: ignore[union-attr]  # the local file's, not the hub's 1024
    assert model.text.proj.weight.shape == (32, 16)  # type: ignore[union-attr]
    tokens = torch.tensor([[0, 5, 7, 2, 1, 1]])
    assert model.encode_text(tokens).shape == (1, 32)  # type: ignore[operator]


CATALOGUE = ["vit-b-32-siglip2-256", "vit-b-16-siglip2", "vit-so400m-16-siglip2-384", "nllb-clip-base-siglip"]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # builds and saves a 1.5-4.5 GB model twice; far slower on a busy 2-core machine
@pytest.mark.parametrize("name", CATALOGUE)
def test_a_catalogue_model_loads_its_weights_strictly(name: str, tmp_path: Path) -> None:
    """A state dict of the spec's architecture, saved where its download lands, loads strictly and embeds
    as the model it came from; the tokenizer files are stand-ins (the tiny multilingual test covers those),
    and NLLB-CLIP's text tower is built from a stand-in of its published config."""
    paths = Paths(tmp_path)
    spec = ModelRegistry(paths).resolve(name)
    assert spec.files_folder is not None
    for file in spec.files:
        path = paths.models / spec.files_folder / file.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(NLLB_600M_CONFIG if file.name == "config.json" else {}), encoding="utf-8")
    source = build_model(spec, models_dir=paths.models)
    with torch.no_grad():
        for param in source.parameters():
            param.add_(0.02)  # differ from the encoder's own seeded initialisation
    weights = spec.weights_file(paths)
    assert weights is not None
    weights.parent.mkdir(parents=True, exist_ok=True)  # the tokenizer folder made it
    safetensors.torch.save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(weights))
    assert ModelRegistry(paths).is_downloaded(spec)
    encoder = Encoder(spec, paths, "cpu")
    batch = np.random.default_rng(0).standard_normal((1, 3, spec.image_size, spec.image_size)).astype(np.float32)
    got = encoder.encode_images(batch)
    with torch.inference_mode():
        want = torch.nn.functional.normalize(source.encode_image(torch.from_numpy(batch)), dim=-1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_models_list_shows_the_catalogue_columns(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "list", "--json"]) == EXIT_OK
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    fast = rows["vit-b-32-siglip2-256"]
    assert (fast["summary"], fast["licence"], fast["languages"]) == (
        "Fast, works on any computer",
        "Apache-2.0",
        "more than 100 languages",
    )
    assert rows["vit-b-32-metaclip"]["cpu_speed"] == "42 photos/s" and fast["gpu_speed"] == NOT_MEASURED
    assert fast["cpu_speed"] == "33 photos/s"  # measured end to end (README, Models)
    assert run(["models", "list"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Fast, works on any computer · more than 100 languages · licence Apache-2.0 · CPU " in text
