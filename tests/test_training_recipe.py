"""What the trainer really applies: patch dropout built into the tower (timm towers included), the
optimizers' effective parameter groups, stage (b)'s logit-scale clamp, and checkpoints that survive a
crash while saving or say that they are damaged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TEST_MODELS

from photosift.core.errors import UserError
from photosift.core.models.encoder import Encoder
from photosift.core.models.spec import load_spec
from photosift.core.progress import CancelToken
from photosift.core.settings import Paths, Settings, save_settings
from photosift.training import stage_b
from photosift.training.checkpoint import load_checkpoint, save_checkpoint
from photosift.training.config import SMALL_COLLECTION, TrainConfig, load_config
from photosift.training.runtime import Runtime
from photosift.training.stage_a import RetrievalTrainer, epoch_batches
from photosift.training.stage_b import false_negatives, frozen_text_blocks_once, realign, realign_optimizer
from photosift.training.towers import applied_patch_dropout, image_tower, prepare_image_tower, text_tail_parameters

TIMM_SIZE = 160  # timm's `test_vit`: 16 px patches, so 100 patch tokens and one class token


@pytest.fixture
def timm_spec(tmp_path: Path) -> Path:
    """A tiny timm-based open_clip model (as SigLIP's towers are timm models) with tiny.json's text tower."""
    text_cfg = json.loads((TEST_MODELS / "tiny-arch.json").read_text())["text_cfg"]
    vision_cfg = {"timm_model_name": "test_vit", "timm_model_pretrained": False, "timm_pool": "", "timm_proj": "linear"}
    arch = {"embed_dim": 32, "vision_cfg": vision_cfg | {"image_size": TIMM_SIZE}, "text_cfg": text_cfg}
    (tmp_path / "tiny-timm-arch.json").write_text(json.dumps(arch))
    spec = json.loads((TEST_MODELS / "tiny.json").read_text())
    spec |= {"name": "tiny-timm", "architecture": "tiny-timm-arch", "open_clip_config": "tiny-timm-arch.json"}
    spec |= {"image_size": TIMM_SIZE, "resize": TIMM_SIZE}
    (tmp_path / "tiny-timm.json").write_text(json.dumps(spec))
    return tmp_path / "tiny-timm.json"


def _tokens_seen(model: torch.nn.Module) -> int:
    """How many tokens the timm trunk's first block receives for one image."""
    seen: list[int] = []
    trunk = image_tower(model).trunk
    handle = trunk.blocks[0].register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape[1]))
    with torch.no_grad():
        model.encode_image(torch.randn(1, 3, TIMM_SIZE, TIMM_SIZE))  # type: ignore[operator]
    handle.remove()
    return seen[0]


def test_patch_dropout_reaches_a_timm_tower(home: Path, timm_spec: Path) -> None:
    """Setting it only where `visual.patch_dropout` exists missed every timm tower (SigLIP, PE-Core)."""
    model = Encoder(load_spec(timm_spec), Paths(home), "cpu", patch_dropout=0.33).model
    assert applied_patch_dropout(model) == pytest.approx(0.33)
    assert prepare_image_tower(model, grad_checkpointing=False) == ["patch dropout 0.33"]
    model.train()
    assert _tokens_seen(model) == 1 + round(100 * (1 - 0.33))  # the class token is always kept
    model.eval()
    assert _tokens_seen(model) == 101  # evaluation sees every patch
    plain = Encoder(load_spec(timm_spec), Paths(home), "cpu").model
    assert applied_patch_dropout(plain) == 0.0 and prepare_image_tower(plain, False) == ["no patch dropout"]


def test_patch_dropout_of_open_clip_s_own_vit(home: Path) -> None:
    model = Encoder(load_spec(TEST_MODELS / "tiny.json"), Paths(home), "cpu", patch_dropout=0.5).model
    assert applied_patch_dropout(model) == pytest.approx(0.5)


def _runtime(tmp_path: Path) -> Runtime:
    return Runtime(tmp_path / "run", "cpu", lambda *_a, **_k: None, CancelToken())


def test_stage_a_parameter_groups_are_the_tower_and_the_proxies(home: Path, tmp_path: Path) -> None:
    model = Encoder(load_spec(TEST_MODELS / "tiny.json"), Paths(home), "cpu").model
    prepare_image_tower(model, grad_checkpointing=False)
    config = TrainConfig(data="x", lr_tower=2e-6, lr_proxies=3e-4)
    trainer = RetrievalTrainer(model, 5, 32, config, _runtime(tmp_path), None)
    tower, proxies = trainer.optimizer.param_groups
    assert {id(p) for p in tower["params"]} == {id(p) for p in image_tower(model).parameters()}
    assert tower["lr"] == 2e-6 and proxies["lr"] == 3e-4
    assert [p.shape for p in proxies["params"]] == [torch.Size([5, 32])]
    assert all(g["weight_decay"] == 0.01 for g in trainer.optimizer.param_groups)
    text = [p for name, p in model.named_parameters() if not name.startswith("visual.")]
    assert text and not any(p.requires_grad for p in text)  # the text tower is frozen


def test_stage_a_clips_the_tower_and_the_proxies_separately(home: Path, tmp_path: Path) -> None:
    """Each group is clipped to `grad_clip` on its own: clipped together, the two norms would share one
    budget (their root sum of squares at the limit), so neither group could reach the limit itself."""
    model = Encoder(load_spec(TEST_MODELS / "tiny.json"), Paths(home), "cpu").model
    prepare_image_tower(model, grad_checkpointing=False)
    limit = 1e-4  # far below both groups' raw gradient norms, so both are clipped
    trainer = RetrievalTrainer(model, 4, 32, TrainConfig(data="x", grad_clip=limit), _runtime(tmp_path), None)
    norms: list[list[float]] = []

    def record(optimizer: torch.optim.Optimizer, _args: object, _kwargs: object) -> None:
        norms.append([_group_norm(group["params"]) for group in optimizer.param_groups])

    trainer.optimizer.register_step_pre_hook(record)
    trainer._step(torch.randn(4, 3, 32, 32), torch.arange(4), torch.arange(4))
    assert norms == [[pytest.approx(limit, rel=1e-3), pytest.approx(limit, rel=1e-3)]]


def _group_norm(params: list[torch.Tensor]) -> float:
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params if p.grad is not None])))


def test_stage_b_decays_matrices_only_and_trains_the_text_tail(home: Path) -> None:
    model = Encoder(load_spec(TEST_MODELS / "tiny.json"), Paths(home), "cpu").model
    optimizer = realign_optimizer(model, TrainConfig(data="x"))
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.2 and plain["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decayed["params"]) and all(p.ndim < 2 for p in plain["params"])
    assert any(p is model.logit_scale for p in plain["params"])  # the logit scale is not decayed
    assert {id(p) for p in decayed["params"] + plain["params"]} == {id(p) for p in text_tail_parameters(model)}
    assert {id(p) for p in model.parameters() if p.requires_grad} == {id(p) for p in text_tail_parameters(model)}


def test_stage_b_clamps_the_logit_scale_to_ln_100(home: Path, tmp_path: Path) -> None:
    encoder = Encoder(load_spec(TEST_MODELS / "tiny.json"), Paths(home), "cpu")
    model = encoder.model
    with torch.no_grad():
        model.logit_scale.fill_(8.0)  # exp(8) ~ 2981, far above CLIP's cap of 100
    per_item = [np.array([0]), np.array([1]), np.array([0, 2])]  # photos 0 and 2 share caption 0
    tokens = encoder.tokenize(["a red photo", "a green photo", "a photo of red"])
    config = TrainConfig(data="x", realign_epochs=1, realign_batch_size=4, seed=0)
    steps = realign(model, torch.randn(3, 32), per_item, tokens, config, _runtime(tmp_path))
    assert steps == 1
    assert float(model.logit_scale) == pytest.approx(math.log(100.0))


@pytest.mark.parametrize("layout", ["CLIP", "CustomTextCLIP"])
def test_stage_b_runs_the_frozen_text_blocks_once_and_the_tail_sees_what_they_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    import open_clip

    config = json.loads((TEST_MODELS / "tiny-arch.json").read_text())
    name = f"tiny-arch-{layout}"
    (tmp_path / f"{name}.json").write_text(json.dumps(config | {"custom_text": layout == "CustomTextCLIP"}))
    open_clip.add_model_config(tmp_path / f"{name}.json")
    model = open_clip.create_model(name, pretrained=None)
    realign_optimizer(model, TrainConfig(data="x"))  # the tail trainable, the rest frozen
    model.train()
    text = getattr(model, "text", model)
    blocks = text.transformer.resblocks
    tokens = torch.randint(1, config["text_cfg"]["vocab_size"], (5, config["text_cfg"]["context_length"]))
    batch = torch.tensor([3, 1, 1, 4])
    expected = model.encode_text(tokens[batch])
    runs: list[int] = []
    blocks[0].register_forward_hook(lambda *_: runs.append(1))
    reports: list[dict[str, object]] = []
    runtime = Runtime(tmp_path / "run", "cpu", lambda e, **f: reports.append({"event": e, **f}), CancelToken())
    with frozen_text_blocks_once(model, tokens, runtime) as select:
        once = len(runs)
        select(batch)
        features = model.encode_text(tokens[batch])
        assert len(runs) == once  # the frozen blocks ran for the bank before, not for the batch
    torch.testing.assert_close(features, expected)
    features.sum().backward()
    tail = [p for p in text_tail_parameters(model) if p is not model.logit_scale]  # the scale is the loss's
    assert all(p.grad is not None for p in tail)  # the tail still learns through the stand-in
    assert text.transformer.resblocks is blocks  # the real blocks are back
    assert reports[-1]["cached"] is True

    monkeypatch.setattr(stage_b, "PREFIX_CACHE_BYTES", 1)  # too big to keep: the blocks run every step
    with frozen_text_blocks_once(model, tokens, runtime) as select:
        select(batch)
        torch.testing.assert_close(model.encode_text(tokens[batch]), expected)
    assert reports[-1]["cached"] is False


def test_a_checkpoint_is_replaced_only_once_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "checkpoint.pt"
    state = {"tower": {"w": torch.ones(2)}, "arc": {}, "optimizer": {}, "progress": {"step": 1}}
    save_checkpoint(state, path)

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", full_disk)
    with pytest.raises(Exception, match="No space left"):
        save_checkpoint(state | {"progress": {"step": 2}}, path)
    monkeypatch.undo()
    assert load_checkpoint(path, "cpu")["progress"] == {"step": 1}  # the previous one, intact
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary file left behind


def test_a_damaged_checkpoint_is_reported_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"tower": {}, "arc": {}, "optimizer": {}, "progress": {}}, path)
    path.write_bytes(path.read_bytes()[:100])  # a crash mid-write of an older, non-atomic version
    with pytest.raises(UserError, match="damaged") as caught:
        load_checkpoint(path, "cpu")
    assert "Delete it" in str(caught.value)
    path.write_bytes(b"")
    with pytest.raises(UserError, match="damaged"):
        load_checkpoint(path, "cpu")


def test_a_separate_caption_miner_chooses_the_captions_the_tuned_model_embeds(home: Path, tmp_path: Path) -> None:
    from conftest import make_colour_classes

    from photosift.training.run import FineTuneRun

    photos = make_colour_classes(tmp_path / "classes", per_class=4, colours=("red", "blue"))
    seen: list[dict[str, object]] = []
    config = TrainConfig(data=str(photos), model=str(TEST_MODELS / "tiny.json"), workers=0, min_images_per_class=2)
    paths = Paths(home)
    runtime = Runtime(tmp_path / "run", "cpu", lambda event, **f: seen.append({"event": event, **f}), CancelToken())
    job = FineTuneRun(config.replace(caption_miner=str(TEST_MODELS / "tiny-wide.json")), paths, runtime)
    mined = job.captions()
    assert mined is not None
    table, bank = mined
    (report,) = [e for e in seen if e["event"] == "captions"]
    assert report["miner"] == "tiny-wide"
    # The loss's caption vectors are the tuned model's own, not the miner's (the two tiny models differ).
    own = torch.from_numpy(job.encoder.encode_texts(bank))
    assert torch.allclose(table.embeddings, own, atol=1e-5)
    by_itself = FineTuneRun(config, paths, runtime).captions()
    assert by_itself is not None and seen[-1]["miner"] == "tiny"
    assert [c.tolist() for c in by_itself[0].per_item] != [c.tolist() for c in table.per_item]


def test_with_no_model_named_the_run_tunes_the_librarys_model(home: Path, tmp_path: Path) -> None:
    """Not the machine's default: a library kept on MetaCLIP when SigLIP 2 became the default tuned SigLIP 2."""
    from conftest import make_colour_classes

    from photosift.training.run import FineTuneRun

    photos = make_colour_classes(tmp_path / "classes", per_class=2, colours=("red", "blue"))
    paths = Paths(home)
    save_settings(paths, Settings(model=str(TEST_MODELS / "tiny-wide.json")))
    runtime = Runtime(tmp_path / "run", "cpu", lambda event, **f: None, CancelToken())
    config = TrainConfig(data=str(photos), workers=0, min_images_per_class=2)
    assert FineTuneRun(config, paths, runtime).base.name == "tiny-wide"


def test_the_last_partial_batch_is_kept() -> None:
    batches = epoch_batches(10, 4, seed=0, epoch=0)
    assert [len(b) for b in batches] == [4, 4, 2] and sorted(i for b in batches for i in b) == list(range(10))


def test_re_alignment_knows_its_false_negatives() -> None:
    """Pairs (photo 0, caption 0), (photo 2, caption 0), (photo 1, caption 1); photo 2 also owns caption 2."""
    per_item = [np.array([0]), np.array([1]), np.array([0, 2])]
    matches = false_negatives(np.array([0, 2, 1]), np.array([0, 0, 1]), per_item)
    assert matches.tolist() == [[True, True, False], [True, True, False], [False, False, True]]


def test_small_collection_settings_sit_between_the_defaults_and_what_is_given(tmp_path: Path) -> None:
    config = load_config(None, {"data": "x", "epochs": 7}, SMALL_COLLECTION)
    assert (config.lr_tower, config.lr_proxies, config.batch_size, config.epochs) == (1e-5, 1e-3, 0, 7)
    assert TrainConfig().batch_size == 128 and TrainConfig().lr_tower == 1e-6  # the paper's, by default
