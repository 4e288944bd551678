"""Model specs, the registry, preprocessing and the encoder, on a tiny random-weight open_clip model.

Everything runs real open_clip code with `tests/models/tiny.json`; nothing here touches the network.
Downloads and checkpoint loading are in test_model_weights.py, the full-size MCIP model in
test_model_mcip.py.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image
from torchvision import transforms

from photosift.core.errors import ModelError, UserError
from photosift.core.models import build as build_module
from photosift.core.models.build import build_model, tokenizer_is_bundled
from photosift.core.models.encoder import Encoder, select_device
from photosift.core.models.preprocess import Preprocessor
from photosift.core.models.registry import BUILTIN_SPECS_DIR, ModelRegistry
from photosift.core.models.spec import ModelSpec, dump_spec, load_spec
from photosift.core.progress import Progress
from photosift.core.settings import Paths

TEST_MODELS = Path(__file__).resolve().parent / "models"
TINY = TEST_MODELS / "tiny.json"
PHOTO_SIZES = [(50, 70), (70, 50), (333, 101), (32, 32), (31, 90), (640, 480)]


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "home")


@pytest.fixture(scope="module")
def tiny() -> ModelSpec:
    return load_spec(TINY)


def photo(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A noisy RGB photo: noise makes resampling differences show, unlike a flat colour."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def perturbed_checkpoint(spec: ModelSpec, path: Path, seed: int = 1) -> torch.nn.Module:
    """Save a state dict that differs from the seeded random init, so loading it visibly matters."""
    model = build_model(spec)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.2)
    torch.save(model.state_dict(), path)
    return model


def reference_embedding(model: torch.nn.Module, batch: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        features = model.encode_image(torch.from_numpy(batch))  # type: ignore[operator]
    return torch.nn.functional.normalize(features, dim=-1).numpy()


# --- specs ---------------------------------------------------------------------------------------


def test_tiny_spec_resolves_its_architecture_config_next_to_itself(tiny: ModelSpec) -> None:
    assert tiny.name == "tiny"
    assert tiny.random_init and tiny.weights is None and tiny.checkpoint is None
    assert tiny.open_clip_config == TEST_MODELS / "tiny-arch.json"
    assert tiny.path == TINY
    assert (tiny.embed_dim, tiny.image_size, tiny.resize) == (32, 32, 32)
    assert tiny.key.startswith("tiny@") and len(tiny.key) == len("tiny@") + 12


def test_key_follows_weights_and_preprocessing_but_not_wording(tiny: ModelSpec) -> None:
    assert replace(tiny, title="Another title", description="Other words", download_mb=9.0).key == tiny.key
    assert replace(tiny, mean=(0.5, 0.5, 0.5)).key != tiny.key
    assert replace(tiny, resize=40).key != tiny.key
    assert replace(tiny, sha256="ab" * 32).key != tiny.key
    assert replace(tiny, architecture="other").key != tiny.key


def test_messages_name_a_model_without_saying_model_twice(tiny: ModelSpec) -> None:
    assert replace(tiny, title="SigLIP 2 ViT-B/16").called == "SigLIP 2 ViT-B/16 model"
    assert replace(tiny, title="Tiny test model").called == "Tiny test model"
    assert replace(tiny, title="Holiday Model").called == "Holiday Model"


def write_spec(folder: Path, **fields: object) -> Path:
    base: dict[str, object] = {
        "name": "broken",
        "architecture": "tiny-arch",
        "open_clip_config": str(TEST_MODELS / "tiny-arch.json"),
        "random_init": True,
        "embed_dim": 32,
        "image_size": 32,
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
    }
    base.update(fields)
    path = folder / "broken.json"
    path.write_text(json.dumps({k: v for k, v in base.items() if v is not None}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"embed_dim": None}, "'embed_dim' is missing"),
        ({"embed_dim": "32"}, "'embed_dim' must be of type int"),
        ({"embed_dim": True}, "'embed_dim' must not be true or false"),
        ({"resize_mode": "crop"}, "'resize_mode' must be one of squash, shortest"),
        ({"mean": [0.5, 0.5]}, "'mean' must be a list of three numbers"),
        ({"std": [0.5, 0.0, 0.5]}, "'std' must be positive"),
        ({"resize": 16}, "must be at least 'image_size'"),
        ({"default_for": ["tpu"]}, "'default_for' may hold only"),
        ({"random_init": None}, "exactly one of 'weights', 'checkpoint' or 'random_init'"),
        ({"checkpoint": "x.pth"}, "exactly one of"),
        ({"weights": {"urls": [], "filename": "x.pth"}}, "'weights.urls' must be a non-empty list"),
        ({"weights": {"urls": ["https://x/y"], "filename": "../x.pth"}}, "'weights.filename' must be a plain"),
        ({"architecture": "tiny"}, "'architecture' must be 'tiny-arch'"),
        ({"open_clip_config": "nowhere.json"}, "does not exist"),
        ({"name": "Has Spaces"}, "'name' must be lowercase"),
        ({"resise": 40}, "unknown field 'resise'"),
        ({"sha256": "abc"}, "'sha256' must be 64 lowercase hex digits"),
    ],
)
def test_load_spec_names_the_bad_field(tmp_path: Path, fields: dict[str, object], said: str) -> None:
    path = write_spec(tmp_path, **fields)
    with pytest.raises(ModelError, match="invalid") as caught:
        load_spec(path)
    assert said in str(caught.value)
    assert str(path) in str(caught.value)


def test_load_spec_refuses_non_json_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="is not valid JSON"):
        load_spec(bad)
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelError, match="must hold a JSON object"):
        load_spec(bad)
    with pytest.raises(ModelError, match="does not exist"):
        load_spec(tmp_path / "missing.json")


def test_dump_spec_round_trips(tiny: ModelSpec, tmp_path: Path) -> None:
    target = tmp_path / "copy" / "tiny.json"
    dump_spec(tiny, target)
    assert load_spec(target) == replace(tiny, path=target)


# --- built-in specs and the registry -------------------------------------------------------------


def test_builtin_specs_parse_and_pick_defaults_per_device(paths: Paths) -> None:
    registry = ModelRegistry(paths)
    names = [spec.name for spec in registry.specs()]
    assert {"mcip-siglip-so400m-384", "mcip-vit-l-14-336", "vit-b-32-metaclip"} <= set(names) and names == sorted(names)
    assert registry.default_spec("cpu").name == "vit-b-32-siglip2-256"
    assert registry.default_spec("cuda").name == "mcip-siglip-so400m-384"
    assert registry.default_spec("mps").name == "mcip-siglip-so400m-384"
    assert not any(registry.is_downloaded(spec) for spec in registry.specs())
    with pytest.raises(ModelError, match="default for the 'tpu' device"):
        registry.default_spec("tpu")


def test_builtin_specs_agree_with_open_clip() -> None:
    for path in BUILTIN_SPECS_DIR.glob("*.json"):
        spec = load_spec(path)
        config = open_clip.get_model_config(spec.architecture)
        assert config is not None, spec.architecture
        assert config["embed_dim"] == spec.embed_dim
        assert config["vision_cfg"]["image_size"] == spec.image_size
        assert spec.weights is not None and all(url.startswith("https://") for url in spec.weights.urls)


def test_metaclip_preprocessing_is_open_clips_pretrained_config() -> None:
    spec = load_spec(BUILTIN_SPECS_DIR / "vit-b-32-metaclip.json")
    pretrained = open_clip.get_pretrained_cfg(spec.architecture, spec.pretrained)
    assert pretrained["quick_gelu"] and open_clip.get_model_config(spec.architecture)["quick_gelu"]
    assert spec.mean == pytest.approx(pretrained["mean"]) and spec.std == pytest.approx(pretrained["std"])
    assert (spec.interpolation, spec.resize_mode, spec.resize) == (pretrained["interpolation"], "shortest", 224)


def test_mcip_preprocessing_is_the_authors_evaluation_transform() -> None:
    spec = load_spec(BUILTIN_SPECS_DIR / "mcip-siglip-so400m-384.json")
    assert (spec.resize_mode, spec.resize, spec.image_size, spec.interpolation) == ("squash", 432, 384, "bicubic")
    assert spec.mean == spec.std == (0.5, 0.5, 0.5)
    assert spec.weights is not None and spec.weights.urls[0].endswith("MCIP-ViT-SO400M-14-SigLIP-384.pth")


def test_resolve_by_name_or_by_path(paths: Paths, tiny: ModelSpec) -> None:
    registry = ModelRegistry(paths)
    assert registry.resolve("vit-b-32-metaclip").architecture == "ViT-B-32-quickgelu"
    assert registry.resolve(str(TINY)) == tiny
    with pytest.raises(ModelError) as caught:
        registry.resolve("nonesuch")
    message = str(caught.value)
    assert "'nonesuch'" in message and "mcip-siglip-so400m-384" in message and "vit-b-32-metaclip" in message
    with pytest.raises(ModelError, match="does not exist"):
        registry.resolve("elsewhere/nonesuch.json")


def test_broken_or_duplicate_user_specs_are_skipped(paths: Paths, caplog: pytest.LogCaptureFixture) -> None:
    paths.user_specs.mkdir(parents=True)
    (paths.user_specs / "broken.json").write_text("{", encoding="utf-8")
    dump_spec(replace(load_spec(TINY), name="vit-b-32-metaclip"), paths.user_specs / "clash.json")
    dump_spec(load_spec(TINY), paths.user_specs / "tiny.json")
    names = [spec.name for spec in ModelRegistry(paths).specs()]
    assert names == [path.stem for path in sorted(BUILTIN_SPECS_DIR.glob("*.json"))] + ["tiny"]  # built-ins first
    assert "broken.json" in caplog.text and "already taken" in caplog.text


def test_import_checkpoint_round_trip(paths: Paths, tiny: ModelSpec, tmp_path: Path) -> None:
    source = tmp_path / "user" / "finetuned.pt"
    source.parent.mkdir()
    trained = perturbed_checkpoint(tiny, source)
    before = (source.read_bytes(), source.stat().st_mtime_ns)
    registry = ModelRegistry(paths)

    imported = registry.import_checkpoint(source, tiny, "mine")

    assert (source.read_bytes(), source.stat().st_mtime_ns) == before  # the user's file is untouched
    assert imported.checkpoint == paths.models / "mine.pt" and imported.checkpoint.is_file()
    assert imported.sha256 == hashlib.sha256(before[0]).hexdigest()
    assert imported.key != tiny.key and not imported.random_init
    assert registry.resolve("mine") == imported and registry.is_downloaded(imported)
    assert json.loads((paths.user_specs / "mine.json").read_text())["checkpoint"] == "../mine.pt"
    batch = np.stack([Encoder(tiny, paths, "cpu").preprocess(photo(size)) for size in PHOTO_SIZES[:3]])
    got = Encoder(imported, paths, "cpu").encode_images(batch)
    np.testing.assert_allclose(got, reference_embedding(trained, batch), atol=1e-5)
    assert not np.allclose(got, Encoder(tiny, paths, "cpu").encode_images(batch), atol=1e-3)


def test_import_refuses_a_checkpoint_that_does_not_fit_and_writes_nothing(paths: Paths, tmp_path: Path) -> None:
    wide = tmp_path / "wide.pth"
    perturbed_checkpoint(load_spec(TEST_MODELS / "tiny-wide.json"), wide)
    registry = ModelRegistry(paths)
    with pytest.raises(ModelError, match=r"does not fit tiny: .*wrong shape"):
        registry.import_checkpoint(wide, load_spec(TINY), "wide")
    assert not paths.models.exists() or not any(paths.models.rglob("*"))


def test_import_refuses_taken_or_invalid_names(paths: Paths, tmp_path: Path) -> None:
    registry = ModelRegistry(paths)
    with pytest.raises(ModelError, match="already exists"):
        registry.import_checkpoint(tmp_path / "x.pth", load_spec(TINY), "vit-b-32-metaclip")
    with pytest.raises(ModelError, match="not a valid model name"):
        registry.import_checkpoint(tmp_path / "x.pth", load_spec(TINY), "My Model")
    with pytest.raises(ModelError, match="does not exist"):
        registry.import_checkpoint(tmp_path / "x.pth", load_spec(TINY), "fine")


# --- preprocessing -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["shortest", "squash"])
@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear"])
def test_preprocess_matches_open_clips_transform(tiny: ModelSpec, mode: str, interpolation: str) -> None:
    spec = replace(tiny, resize_mode=mode, interpolation=interpolation)  # type: ignore[arg-type]
    ours = Preprocessor.from_spec(spec)
    theirs = open_clip.image_transform(
        spec.image_size,
        is_train=False,
        mean=spec.mean,
        std=spec.std,
        resize_mode=mode,
        interpolation=interpolation,
    )
    for seed, size in enumerate(PHOTO_SIZES):
        img = photo(size, seed)
        np.testing.assert_allclose(ours(img), theirs(img).numpy(), atol=1e-5, err_msg=str(size))


def test_preprocess_squash_then_crop_matches_the_mcip_evaluation_transform() -> None:
    spec = load_spec(BUILTIN_SPECS_DIR / "mcip-siglip-so400m-384.json")
    bicubic = transforms.InterpolationMode.BICUBIC
    theirs = transforms.Compose(
        [
            transforms.Resize((432, 432), interpolation=bicubic),
            transforms.CenterCrop(384),
            transforms.ToTensor(),
            transforms.Normalize(spec.mean, spec.std),
        ]
    )
    for seed, size in enumerate([(1024, 683), (300, 500), (432, 432)]):
        img = photo(size, seed)
        got = Preprocessor.from_spec(spec)(img)
        assert got.shape == (3, 384, 384) and got.dtype == np.float32
        np.testing.assert_allclose(got, theirs(img).numpy(), atol=1e-5)


def test_preprocess_accepts_any_pil_mode_and_reports_min_side(tiny: ModelSpec) -> None:
    ours = Preprocessor.from_spec(replace(tiny, resize=40))
    rgb = photo((64, 48))
    for img in (rgb.convert("L"), rgb.convert("RGBA"), rgb.convert("P"), rgb.convert("CMYK")):
        out = ours(img)
        assert out.shape == (3, 32, 32) and out.dtype == np.float32 and out.flags.c_contiguous
    assert ours.min_side == 40
    assert Encoder(tiny, Paths(Path("unused")), "cpu").min_side == 32


# --- the encoder ---------------------------------------------------------------------------------


def test_encoder_embeds_photos_and_texts_as_unit_vectors(tiny: ModelSpec, paths: Paths) -> None:
    encoder = Encoder(tiny, paths, "cpu")
    batch = np.stack([encoder.preprocess(photo(size, seed)) for seed, size in enumerate(PHOTO_SIZES[:5])])
    assert not encoder.is_loaded  # preprocessing needs no model

    five = encoder.encode_images(batch)
    one = encoder.encode_images(batch[:1])
    texts = encoder.encode_texts(["a red apple", "a blue car on a street"])

    assert encoder.is_loaded and encoder.device == "cpu" and encoder.embed_dim == 32
    assert five.shape == (5, 32) and one.shape == (1, 32) and texts.shape == (2, 32)
    assert five.dtype == texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(five, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(one[0], five[0], atol=1e-5)
    assert not np.allclose(five[0], five[1], atol=1e-3)  # different photos, different vectors
    assert encoder.image_forward_count == 6
    assert encoder.encode_images(batch[:0]).shape == (0, 32) and encoder.encode_texts([]).shape == (0, 32)
    assert encoder.image_forward_count == 6


def test_random_init_is_identical_across_encoders(tiny: ModelSpec, paths: Paths) -> None:
    first, second = Encoder(tiny, paths, "cpu"), Encoder(tiny, paths, "cpu")
    batch = np.stack([first.preprocess(photo(size, seed)) for seed, size in enumerate(PHOTO_SIZES[:3])])
    with torch.random.fork_rng(devices=[]):  # the caller's random state must not leak into the model
        torch.manual_seed(123)
        a = first.encode_images(batch)
        torch.manual_seed(456)
        b = second.encode_images(batch)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.encode_texts(["a dog"]), second.encode_texts(["a dog"]))


def test_load_reports_progress_and_release_frees_the_model(tiny: ModelSpec, paths: Paths) -> None:
    encoder = Encoder(tiny, paths, "cpu")
    reports: list[Progress] = []
    encoder.load(reports.append)
    assert encoder.is_loaded
    assert [(r.stage, r.done, r.total) for r in reports] == [("load", 0, 1), ("load", 1, 1)]
    batch = encoder.preprocess(photo((40, 40)))[None]
    before = encoder.encode_images(batch)
    encoder.release()
    assert not encoder.is_loaded
    np.testing.assert_array_equal(encoder.encode_images(batch), before)  # loads again on demand


def test_the_model_loads_once_when_threads_race(tiny: ModelSpec, paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[str] = []

    def counting_build(spec: ModelSpec, *options: Any) -> torch.nn.Module:
        builds.append(spec.name)
        return build_model(spec, *options)

    monkeypatch.setattr(build_module, "build_model", counting_build)  # the encoder imports it when it loads
    encoder = Encoder(tiny, paths, "cpu")
    batch = encoder.preprocess(photo((40, 40)))[None]
    start = threading.Barrier(4)
    results: list[np.ndarray] = []

    def work() -> None:
        start.wait()
        results.append(encoder.encode_images(batch))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == ["tiny"] and len(results) == 4 and encoder.image_forward_count == 4


def test_encode_images_refuses_a_batch_of_the_wrong_shape(tiny: ModelSpec, paths: Paths) -> None:
    encoder = Encoder(tiny, paths, "cpu")
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        encoder.encode_images(np.zeros((2, 3, 64, 64), dtype=np.float32))
    assert not encoder.is_loaded


def test_a_spec_whose_embed_dim_is_wrong_is_caught(tiny: ModelSpec, paths: Paths) -> None:
    encoder = Encoder(replace(tiny, embed_dim=64), paths, "cpu")
    with pytest.raises(ModelError, match="embed_dim 64, but the model produces 32"):
        encoder.encode_texts(["anything"])


def test_select_device() -> None:
    assert select_device("cpu") == "cpu"
    assert select_device("auto") in ("cuda", "mps", "cpu")
    with pytest.raises(UserError, match="Unknown device 'tpu'"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no usable cuda device"):
            select_device("cuda")


def test_only_bundled_tokenizers_are_built_ahead(tiny: ModelSpec, paths: Paths, tmp_path: Path) -> None:
    """The GUI builds the tokenizer before its event loop only when that cannot mean a download."""
    siglip = load_spec(BUILTIN_SPECS_DIR / "mcip-siglip-so400m-384.json")
    assert tokenizer_is_bundled(load_spec(BUILTIN_SPECS_DIR / "vit-b-32-metaclip.json"))
    assert tokenizer_is_bundled(tiny) and not tokenizer_is_bundled(siglip)
    encoder = Encoder(tiny, paths, "cpu")
    encoder.prepare_bundled_tokenizer()
    assert encoder.has_tokenizer and not encoder.is_loaded  # the model itself still waits for its first use
    remote = Encoder(siglip, paths, "cpu")
    remote.prepare_bundled_tokenizer()
    assert not remote.has_tokenizer
    broken = replace(tiny, open_clip_config=tmp_path / "missing.json")
    Encoder(broken, paths, "cpu").prepare_bundled_tokenizer()  # no error here: loading the model reports it
