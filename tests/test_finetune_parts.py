"""The wizard's parts that need no trainer process: error explanations, time and memory estimates, the
presets' split arithmetic against the trainer's own, the run records, and the charts."""

from __future__ import annotations

import dataclasses
import errno
import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from photosift.app.gui.finetune import training_page
from photosift.app.gui.finetune.charts import TrainingCharts
from photosift.app.gui.finetune.estimates import (
    CPU_ONNX_SPEEDUP,
    STARTUP_S,
    TRAIN_COST,
    Estimate,
    describe,
    duration_text,
    estimate,
    run_work,
    training_memory_gb,
)
from photosift.app.gui.finetune.presets import VAL_FRACTION, preset_config, split_sizes
from photosift.app.gui.finetune.problems import explain
from photosift.app.gui.finetune.process import ProcessEnd, TrainerProcess
from photosift.app.gui.finetune.result_page import NOT_COMPARED, ResultPage
from photosift.app.gui.finetune.runs import (
    HeldOut,
    RunRecord,
    clear_progress,
    discard_run,
    load_record,
    new_record,
    save_record,
    unfinished_runs,
)
from photosift.app.gui.presenter import CHECK_DISK, NO_SPACE
from photosift.core.errors import EnvironmentFault
from photosift.core.models.registry import ModelRegistry
from photosift.core.settings import Paths
from photosift.training.data import split_by_image

LOG = Path("/runs/x/train.log")


def end(code: int | None, message: str = "", kind: str = "bug", stderr: tuple[str, ...] = ()) -> ProcessEnd:
    error = {"event": "error", "kind": kind, "message": message} if message else None
    return ProcessEnd(code, error, stderr, LOG)


@pytest.mark.parametrize(
    ("ended", "title", "actions"),
    [
        (end(4, "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"), "The GPU ran out of memory",
         ("smaller_batch", "quick_preset")),
        (end(3, "Not even one photo per step fits in GPU memory; try a smaller model.", "environment"),
         "The GPU ran out of memory", ("smaller_batch", "quick_preset")),
        (end(4, "OSError: [Errno 28] No space left on device"), "The disk is full", ("resume",)),
        (end(1, "Fine-tuning needs at least two classes; found only 'red'.", "user"),
         "Training cannot use these photos or settings", ("change_settings",)),
        (end(4, "KeyError: 'x'"), "Training stopped because of a bug in Photosift", ("resume",)),
        (end(None, stderr=("Killed",)), "The training process stopped unexpectedly", ("resume", "smaller_batch")),
    ],
)  # fmt: skip
def test_problems_are_explained_by_what_went_wrong(ended: ProcessEnd, title: str, actions: tuple[str, ...]) -> None:
    problem = explain(ended)
    assert (problem.title, problem.actions) == (title, actions)
    assert str(LOG) in problem.message


def test_a_process_that_cannot_start_says_so() -> None:
    problem = explain(ProcessEnd(None, None, ("The training process could not be started (No such file).",), LOG, True))
    assert problem.title == "Training could not start" and "No such file" in problem.message


def test_the_presets_split_like_the_trainer() -> None:
    sizes = [1, 2, 3, 7, 12, 40]
    items = [(Path(f"{label}-{i}.jpg"), label) for label, n in enumerate(sizes) for i in range(n) if n >= 2]
    split = split_by_image(items, VAL_FRACTION, seed=0)
    assert split_sizes(sizes, VAL_FRACTION) == (len(split.train), len(split.validation))


def test_estimates_count_the_work_and_say_what_they_rest_on(home: Path) -> None:
    paths = Paths(home)
    config = preset_config("quick", data="d", model="m", method="mcip", name="n", output="o", device_kind="cpu")
    assert not config.grad_checkpointing and config.batch_size == 0 and config.epochs == 2 and config.device == "cpu"
    work = run_work(config, 100, 20, 50)
    assert work == pytest.approx(20 * 4 + 100 + 50 + 100 * 2 * TRAIN_COST + 100)  # mcip re-aligns after: +100
    gpu = preset_config("quick", data="d", model="m", method="2sft", name="n", output="o", device_kind="cuda")
    assert gpu.grad_checkpointing and run_work(gpu, 100, 20, 50) > work  # recomputation and re-alignment
    metaclip = ModelRegistry(paths).resolve("vit-b-32-metaclip")
    reference = estimate(config, metaclip, paths, "cpu", (100, 20), 50)
    torch_rate = 42 / CPU_ONNX_SPEEDUP  # the spec's onnxruntime indexing speed, as torch inference photos
    assert reference.seconds == pytest.approx(STARTUP_S + work / torch_rate) and not reference.measured
    assert reference.memory_gb is None  # a CPU run has no GPU memory to fit
    measured = estimate(config, metaclip, paths, "cpu", (100, 20), 50, measured_rate=38.0)
    assert measured.measured and measured.seconds is not None and measured.seconds < reference.seconds
    so400m = ModelRegistry(paths).resolve("mcip-siglip-so400m-384")
    memory = training_memory_gb(so400m, paths)
    assert memory is not None and 9 < memory < 12
    assert "time not known yet" in describe(estimate(config, so400m, paths, "cpu", (100, 20), 50))
    assert describe(Estimate(600, True, 10.2)) == (
        "about 10 minutes at most (measured on this computer); GPU memory about 10 GB plus the batch (estimate)"
    )
    assert [duration_text(s) for s in (30, 61, 3 * 3600, 40 * 3600)] == [
        "under a minute",
        "about 1 minute",
        "about 3.0 hours",
        "about 40 hours",
    ]


def test_run_records_survive_a_restart_and_list_what_is_unfinished(home: Path) -> None:
    paths = Paths(home)
    kept = new_record(paths, "kept", "tiny")
    save_record(dataclasses.replace(kept, status="stopped", held_out=(HeldOut("/p/a.jpg", "ants"),)))
    save_record(new_record(paths, "set-up-only", "tiny"))  # prepared: nothing to come back to
    save_record(new_record(paths, "done", "tiny").with_status("activated"))
    (paths.root / "runs" / "cli-run").mkdir()  # a run started from the command line has no record
    loaded = load_record(kept.run_dir)
    assert loaded is not None and loaded.status == "stopped" and loaded.held_out == (HeldOut("/p/a.jpg", "ants"),)
    assert [r.name for r in unfinished_runs(paths)] == ["kept"]
    for name in ("checkpoint.pt", "config.json", "labels.json", "train.log"):
        (kept.run_dir / name).write_text("x")
    clear_progress(kept)
    assert sorted(p.name for p in kept.run_dir.iterdir()) == ["labels.json", "train.log", "wizard.json"]
    paths.user_specs.mkdir(parents=True)
    (paths.user_specs / "kept.json").write_text("{}")
    discard_run(kept, paths)
    assert not kept.run_dir.exists() and not (paths.user_specs / "kept.json").exists()


def test_charts_follow_steps_and_evaluations(qtbot: QtBot) -> None:
    charts = TrainingCharts()
    qtbot.addWidget(charts)
    for step in (10, 20):
        charts.add_step({"event": "step", "stage": "a", "step": step, "loss": 2.0, "loss_am": 1.5, "loss_mc": 3.0})
    charts.add_step({"event": "step", "stage": "b", "step": 5, "loss_nce": 0.7})
    for when, value in (("before", 0.2), ("epoch 1", 0.3), ("epoch 1", 0.35), ("after", 0.35)):
        charts.add_eval({"event": "eval", "when": when, "map": value})
    assert charts.curve_lengths() == {"loss": 2, "loss_am": 2, "loss_mc": 2, "loss_nce": 1, "map": 2}
    assert charts._points["loss_nce"][0] == [25.0]  # drawn after stage (a)'s 20 steps
    charts.clear()
    assert charts.curve_lengths() == {"map": 0}


def test_the_process_wrapper_reads_split_lines_keeps_a_log_and_reports_a_crash(qtbot: QtBot, tmp_path: Path) -> None:
    fake = (
        tmp_path / "fake-python"
    )  # stands in for `python -m photosift.training`: a line in two writes, stderr, a crash
    fake.write_text(
        "#!/bin/sh\n"
        'printf \'{"event": "start", \'\n'
        "sleep 0.2\n"
        "printf '\"train\": 3}\\nnot json\\n'\n"
        "echo 'Traceback: boom' >&2\n"
        "kill -9 $$\n"
    )
    fake.chmod(0o755)
    process = TrainerProcess(Paths(tmp_path / "home"), tmp_path / "run" / "train.log", python=str(fake))
    events: list[dict[str, object]] = []
    process.trainer_event.connect(events.append)
    with qtbot.waitSignal(process.ended, timeout=10_000) as ended:
        process.start(["--resume", "run"])
    finish: ProcessEnd = ended.args[0]
    assert events == [{"event": "start", "train": 3}]
    assert finish.exit_code is None and not finish.finished and finish.stderr_tail == ("Traceback: boom",)
    log = (tmp_path / "run" / "train.log").read_text().splitlines()
    assert log[0] == "$ python -m photosift.training --resume run" and "not json" in log and "Traceback: boom" in log
    assert explain(finish).title == "The training process stopped unexpectedly"


def test_a_failed_comparison_is_worded_as_the_presenter_does_and_a_bug_is_presented(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The result page says a fault of the machine in place with what to do about it, and leaves a bug to
    the runner's presenter (the crash dialog and the log) instead of printing it (issue 14)."""
    record = RunRecord(tmp_path, "run", "base", "finished", "2025-01-01T00:00:00", ())
    failures: list[BaseException] = [EnvironmentFault("The photos could not be read."), RuntimeError("a bug")]
    presented: list[BaseException] = []
    page = ResultPage(
        lambda: record, lambda _record, _done, failed: failed(failures.pop(0)), lambda: "Base", presented.append
    )
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.compared):
        page.initializePage()
    assert page.comparing.text() == f"{NOT_COMPARED}: The photos could not be read. {CHECK_DISK}" and not presented
    with qtbot.waitSignal(page.compared):
        page.initializePage()
    assert page.comparing.text() == f"{NOT_COMPARED}." and [str(exc) for exc in presented] == ["a bug"]


@pytest.mark.parametrize("content", ['{"before": {"map": 0.5}, "af', '{"before": 1, "after": 2}', None])
def test_scores_that_cannot_be_read_are_explained_and_the_model_stays_usable(
    qtbot: QtBot, tmp_path: Path, content: str | None
) -> None:
    """A truncated, malformed or missing eval.json: the page says which file and that the model is not
    affected, in words rather than a parser's message, and still offers to use the model."""
    record = RunRecord(tmp_path, "run", "base", "finished", "2025-01-01T00:00:00", ())
    if content is not None:
        record.file("eval.json").write_text(content, encoding="utf-8")
    page = ResultPage(lambda: record, lambda _record, _done, failed: None, lambda: "Base", lambda exc: None)
    qtbot.addWidget(page)
    page.initializePage()
    verdict = page.verdict.text()
    assert f"{record.file('eval.json')} is missing or damaged" in verdict and "not affected" in verdict
    assert "Expecting" not in verdict and "'after'" not in verdict and "subscriptable" not in verdict
    assert page.activate_button.isEnabled()


@pytest.mark.parametrize(
    ("after", "verdict", "change"),
    [(0.5482, "no better", "no change"), (0.560, "better", "+1.2 points"), (0.530, "worse", "-1.8 points")],
)
def test_the_verdict_follows_the_figures_it_shows(
    qtbot: QtBot, tmp_path: Path, after: float, verdict: str, change: str
) -> None:
    """A change too small to show in one decimal is no change: never "worse" beside "54.8 → 54.8"."""
    record = RunRecord(tmp_path, "run", "base", "finished", "2025-01-01T00:00:00", ())
    scores = {
        "before": {"map": 0.548, "n_images": 80, "n_classes": 2},
        "after": {"map": after, "n_images": 80, "n_classes": 2},
    }
    record.file("eval.json").write_text(json.dumps(scores), encoding="utf-8")
    page = ResultPage(lambda: record, lambda _record, _done, failed: None, lambda: "Base", lambda exc: None)
    qtbot.addWidget(page)
    page.initializePage()
    assert f"finds similar photos {verdict}</b>" in page.verdict.text()
    assert "on 80 held-out photos of 2 classes." in page.verdict.text()
    assert page.table.item(0, 2).text() == change
    assert ("Keep the current model" in page.verdict.text()) == (verdict != "better")


def test_a_run_record_that_cannot_be_saved_says_what_to_do_and_training_goes_on(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = RunRecord(tmp_path, "run", "base", "training", "2025-01-01T00:00:00", ())

    def disk_full(_record: RunRecord) -> None:
        raise EnvironmentFault(f"Could not save the run record in {tmp_path}: No space left on device.") from OSError(
            errno.ENOSPC, "No space left on device"
        )

    monkeypatch.setattr(training_page, "save_record", disk_full)
    page = training_page.TrainingPage(Paths(tmp_path / "home"), "cpu", lambda: record)
    qtbot.addWidget(page)
    page.record = record
    with qtbot.waitSignal(page.record_changed) as changed:
        page._set_status("finished")
    assert changed.args[0].status == "finished"
    assert NO_SPACE in page.notes.text() and "Training goes on" in page.notes.text()
