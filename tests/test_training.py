"""The trainer end to end through `main(argv)` with the tiny model: every method runs, the result loads
into the core as a new model, a stopped run resumes, and bad data fails with a sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import COLOURS, TEST_MODELS, make_colour_classes, make_photo
from PIL import Image

from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.progress import CancelToken
from photosift.core.settings import Paths
from photosift.training.__main__ import EXIT_STOPPED, main
from photosift.training.config import load_config
from photosift.training.run import execute, make_runtime

TINY = str(TEST_MODELS / "tiny.json")
FAST = ["--model", TINY, "--workers", "0", "--batch-size", "8", "--lr-tower", "1e-3", "--lr-proxies", "1e-2"]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "classes", per_class=8, colours=tuple(COLOURS))


def events(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("method", ["mcip", "gpr-ft", "2sft"])
def test_each_method_trains_and_exports_a_loadable_model(
    home: Path, photos: Path, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    assert main(["--data", str(photos), "--method", method, "--epochs", "2", "--name", f"t-{method}", *FAST]) == 0
    log = events(capsys.readouterr().out)
    kinds = [e["event"] for e in log if e["event"] != "progress"]
    assert kinds[:2] == ["start", "eval"] and kinds[-1] == "done" and "step" in kinds
    assert ("captions" in kinds) == (method != "gpr-ft")
    assert any(e["event"] == "stage" and e["stage"] == "b" for e in log) == (method != "gpr-ft")  # mcip: + Re-A
    (recipe,) = [e for e in log if e["event"] == "recipe"]  # the run log says what really ran
    assert recipe["loss"] == ("0.75 ArcMargin + 0.25 MCArcMargin" if method == "mcip" else "ArcMargin")
    assert recipe["batch_size"] == 8 and recipe["patch_dropout"] == pytest.approx(0.33)
    assert "separately" in str(recipe["gradient_clipping"])
    steps = [e for e in log if e["event"] == "step" and e["stage"] == "a"]
    assert all(np.isfinite(float(e["loss"])) for e in steps)  # type: ignore[arg-type]
    assert ("loss_mc" in steps[-1]) == (method == "mcip")

    paths = Paths(home)
    spec = ModelRegistry(paths).resolve(f"t-{method}")
    run_dir = home / "runs" / f"t-{method}"
    assert json.loads((run_dir / "config.json").read_text())["method"] == method
    summary = json.loads((run_dir / "eval.json").read_text())
    assert 0 <= summary["before"]["map"] <= 1 and 0 <= summary["after"]["map"] <= 1
    assert summary["recipe"] == {k: v for k, v in recipe.items() if k not in ("event", "time")}
    tuned, base = Encoder(spec, paths, "cpu"), Encoder(ModelRegistry(paths).resolve(TINY), paths, "cpu")
    img = tuned.preprocess(Image.open(photos / "red" / "red-0.jpg").convert("RGB"))[None]
    assert not np.allclose(tuned.encode_images(img), base.encode_images(img))  # the weights really changed


def test_a_stopped_run_resumes_where_it_stopped(home: Path, photos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import photosift.training.run as run_module

    mined: list[tuple[np.ndarray, ...]] = []
    mine = run_module.FineTuneRun._mine

    def counted(self: run_module.FineTuneRun, *args: object) -> object:
        assignment = mine(self, *args)  # type: ignore[arg-type]
        mined.append(assignment.captions)
        return assignment

    monkeypatch.setattr(run_module.FineTuneRun, "_mine", counted)
    args = {
        "data": str(photos),
        "method": "mcip",
        "epochs": 3,
        "name": "resumable",
        "model": TINY,
        "workers": 0,
        "batch_size": 8,
        "lr_tower": 1e-3,
    }
    config = load_config(None, args)
    paths = Paths(home)
    paths.ensure()
    stop = CancelToken()
    seen: list[dict[str, object]] = []

    def report(event: str, **fields: object) -> None:
        seen.append({"event": event, **fields})
        if event == "stage":
            stop.cancel()  # stop at the first step of stage (a)

    first = execute(config, paths, make_runtime(config, paths, report, stop))
    assert not first.finished and (first.run_dir / "checkpoint.pt").exists()
    resumed: list[dict[str, object]] = []
    second = execute(
        config, paths, make_runtime(config, paths, lambda e, **f: resumed.append({"event": e, **f}), CancelToken())
    )
    assert second.finished and second.spec_name == "resumable"
    (resume_event,) = [e for e in resumed if e["event"] == "resumed"]
    assert resume_event["step"] == 1
    assert not any(e["event"] == "eval" and e.get("when") == "before" for e in resumed)  # not redone
    assert len(mined) == 1  # the captions mined before the stop were read back, not mined again
    (first_captions,) = [e for e in seen if e["event"] == "captions"]
    (resumed_captions,) = [e for e in resumed if e["event"] == "captions"]
    assert first_captions == resumed_captions


@pytest.mark.parametrize("method", ["gpr-ft", "mcip"])
def test_validation_embeds_the_class_prompts_once_per_text_tower(
    home: Path, photos: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    import photosift.training.run as run_module

    timeline: list[str] = []
    embed = run_module.class_text_embeddings

    def counted(*args: object, **kwargs: object) -> np.ndarray:
        timeline.append("prompts embedded")
        return embed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "class_text_embeddings", counted)
    config = load_config(
        None,
        {
            "data": str(photos),
            "method": method,
            "epochs": 3,
            "name": f"v-{method}",
            "model": TINY,
            "workers": 0,
            "batch_size": 8,
        },
    )
    paths = Paths(home)
    paths.ensure()

    def report(event: str, **fields: object) -> None:
        if event == "eval" or (event == "stage" and fields["stage"] == "b"):
            timeline.append(f"eval {fields['when']}" if event == "eval" else "re-alignment")

    assert execute(config, paths, make_runtime(config, paths, report, CancelToken())).finished
    evals = ["eval before", "eval epoch 1", "eval epoch 2", "eval epoch 3"]
    # Stage (a) trains the image tower only: one embedding of the prompts serves every validation; the text
    # tower that re-alignment (mcip's default) trains embeds them again for the last one.
    after = ["re-alignment", "prompts embedded", "eval after"] if method == "mcip" else ["eval after"]
    assert timeline == ["prompts embedded", *evals, *after]


def test_stop_signal_exit_code_and_bad_data(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_class = tmp_path / "one"
    for i in range(6):
        make_photo(one_class / "only" / f"{i}.jpg")
    assert main(["--data", str(one_class), *FAST]) == 1
    (error,) = [e for e in events(capsys.readouterr().out) if e["event"] == "error"]
    assert error["kind"] == "user" and "at least two classes" in str(error["message"])
    assert main(["--data", str(tmp_path / "missing"), *FAST]) == 1
    assert EXIT_STOPPED == 75


def test_photosift_train_runs_the_trainer_process(home: Path, photos: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from photosift.app.cli import run

    assert run(["train", "--data", str(photos), "--method", "gpr-ft", "--epochs", "1", "--name", "via-cli", *FAST]) == 0
    assert any(e["event"] == "done" and e["model"] == "via-cli" for e in events(capfd.readouterr().out))


def test_automatic_batch_size_and_a_collection_smaller_than_a_batch(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for colour in ("red", "blue"):
        for i in range(5):
            make_photo(tmp_path / "small" / colour / f"{i}.jpg", colour)
    args = ["--data", str(tmp_path / "small"), "--method", "gpr-ft", "--epochs", "1", "--model", TINY, "--workers", "0"]
    assert main([*args, "--batch-size", "0", "--min-images-per-class", "2"]) == 0
    log = events(capsys.readouterr().out)
    assert [e["batch_size"] for e in log if e["event"] == "batch_size"] == [32]  # CPU default
    assert any(e["event"] == "step" for e in log)  # 8 training photos < 32 still train


def test_text_tail_of_both_open_clip_layouts(tmp_path: Path) -> None:
    import open_clip

    from photosift.training.towers import text_tail_parameters

    config = json.loads((TEST_MODELS / "tiny-arch.json").read_text())
    custom = tmp_path / "tiny-custom-text.json"
    custom.write_text(json.dumps(config | {"custom_text": True}))
    open_clip.add_model_config(custom)
    for name in ("tiny-arch", "tiny-custom-text"):
        if name == "tiny-arch":
            open_clip.add_model_config(TEST_MODELS / "tiny-arch.json")
        model = open_clip.create_model(name, pretrained=None)
        tail = text_tail_parameters(model)
        text = getattr(model, "text", model)
        expected = {id(p) for p in text.transformer.resblocks[-1].parameters()} | {id(model.logit_scale)}
        assert expected <= {id(p) for p in tail}
        assert not {id(p) for p in model.visual.parameters()} & {id(p) for p in tail}
