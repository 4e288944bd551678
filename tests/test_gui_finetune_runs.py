"""Runs that do not go straight through: paused from the close dialog and resumed by a new wizard (as after
a restart), discarded from the result page or while training, and a trainer that fails, with its error and
log shown."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from finetune_helpers import TRAIN_MS, main_window, prepared_run, tiny_library
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS
from test_packaging import decoy_folder

from photosift.app.gui.finetune import DATA, RESULT, TRAINING, training_page
from photosift.app.gui.finetune.process import TrainerProcess
from photosift.app.gui.finetune.runs import LOG_FILE, load_record
from photosift.app.gui.finetune.wizard import FineTuneWizard
from photosift.core.settings import Paths


def evaluated_epochs(log: Path) -> int:
    """How many epochs (0 for the baseline) the trainer logged a held-out score for."""
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    whens = {e["when"] for e in events if e.get("event") == "eval"}
    return len({w for w in whens if w == "before" or w.startswith("epoch ")})


def button(box: QMessageBox, text: str) -> QPushButton:
    found = next(b for b in box.buttons() if b.text() == text)
    assert isinstance(found, QPushButton)
    return found


def test_pause_then_resume_in_a_new_session_then_discard(
    qtbot: QtBot, home: Path, tmp_path: Path, tiny_export: Path
) -> None:
    library, models = tiny_library(home, tmp_path / "photos", tiny_export)
    record = prepared_run(library, "paused-run", epochs=3, realign_after=False)  # pausing is stage (a)'s
    with main_window(qtbot, library, models) as window:
        first = FineTuneWizard(window, window.parts.state, window.parts.thumbnails)
        first.show()
        (offered,) = [r for r in [load_record(record.run_dir)] if r is not None]
        assert offered.status == "prepared"  # set up but never started: not offered
        assert not hasattr(first.data_page, "resume_button")
        first.resume(offered)
        assert first.currentId() == TRAINING

        def at_stage_a(event: dict[str, Any]) -> bool:
            return event["event"] == "stage"

        process = first.training_page._process
        assert process is not None
        with qtbot.waitSignal(process.trainer_event, check_params_cb=at_stage_a, timeout=TRAIN_MS):
            pass
        with qtbot.waitSignal(first.training_page.paused, timeout=TRAIN_MS):
            box = first.ask_how_to_close()
            button(box, "Pause it").click()
        assert not first.isVisible() and first.training_page.pause_button.text() == "&Resume"
        paused = load_record(record.run_dir)
        assert paused is not None and paused.status == "stopped" and (record.run_dir / "checkpoint.pt").exists()

        # As the next session would: offered.
        second = FineTuneWizard(window, window.parts.state, window.parts.thumbnails)
        second.show()
        assert "“paused-run” is paused" in second.data_page.banner.text()
        with qtbot.waitSignal(second.training_page.finished_run, timeout=TRAIN_MS) as trained:
            second.data_page.resume_button.click()
            assert second.currentId() == TRAINING
            # Replayed from the first session: its baseline, and an epoch's score if one ended before the pause.
            assert second.training_page.charts.curve_lengths()["map"] == evaluated_epochs(record.file(LOG_FILE)) >= 1
        assert trained.args == [True] and "Resumed at step" in second.training_page.notes.text()
        assert second.currentId() == RESULT
        no_split = "no held-out photos"  # set up without the wizard's plan, which records the split
        qtbot.waitUntil(lambda: no_split in second.result_page.comparing.text(), timeout=WAIT_MS)
        second.confirm_discard().button(QMessageBox.StandardButton.Discard).click()
        assert not record.run_dir.exists() and not (library.paths.user_specs / "paused-run.json").exists()
    library.close()


def fake_trainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Make the wizard start `script` (sh) instead of Python: the trainer's own refusals and exit codes are
    tested through its `main` (test_training.py); here only the wizard's side is, without the seconds a
    real trainer process spends importing torch."""
    fake = tmp_path / "fake-trainer"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    monkeypatch.setattr(training_page, "TrainerProcess", functools.partial(TrainerProcess, python=str(fake)))


def test_a_failing_trainer_shows_what_went_wrong_and_the_log(
    qtbot: QtBot, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_export: Path
) -> None:
    library, models = tiny_library(home, tmp_path / "photos", tiny_export)
    record = prepared_run(library, "failing-run", val_fraction=1.5)
    # What the trainer does with these settings: save its resolved copy, then refuse them when it splits.
    message = "The validation fraction must be at least 0 and below 1; got 1.5."
    refusal = json.dumps({"event": "error", "kind": "user", "message": message})
    fake_trainer(tmp_path, monkeypatch, f"""echo '{{}}' > "$(dirname "$4")/config.json"\necho '{refusal}'\nexit 1\n""")
    with main_window(qtbot, library, models) as window:
        wizard = FineTuneWizard(window, window.parts.state, window.parts.thumbnails)
        wizard.show()
        with qtbot.waitSignal(wizard.training_page.finished_run, timeout=TRAIN_MS) as ended:
            wizard.resume(record)
        assert ended.args == [False]
        page = wizard.training_page
        assert page.problem is not None and page.problem.title == "Training cannot use these photos or settings"
        assert "validation fraction must be at least 0 and below 1" in page.problem_text.text()
        assert str(record.run_dir / "train.log") in page.problem_text.text()
        assert page.problem_box.isVisible() and page.log.isVisible()
        assert (
            '"event": "error"' in page.log.toPlainText()
            and '"kind": "user"' in (record.run_dir / "train.log").read_text()
        )
        actions = [page.problem_actions.itemAt(i).widget() for i in range(page.problem_actions.count())]
        (change,) = [a for a in actions if isinstance(a, QPushButton)]
        failed = load_record(record.run_dir)
        assert failed is not None and failed.status == "failed"
        change.click()  # no earlier pages in this session: the wizard starts over at the data page
        assert wizard.currentId() == DATA
        assert not (record.run_dir / "config.json").exists()  # the trainer's copy is gone: new settings apply
        wizard.reject()
        assert not wizard.isVisible() and not record.run_dir.exists()  # set up again, never trained: removed
    library.close()


def test_cancelling_a_running_run_discards_it(
    qtbot: QtBot, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_export: Path
) -> None:
    library, models = tiny_library(home, tmp_path / "photos", tiny_export)
    record = prepared_run(library, "cancelled-run")
    start = '{"event": "start", "device": "cpu", "train": 1, "validation": 1, "classes": 2}'
    fake_trainer(tmp_path, monkeypatch, f"echo '{start}'\nexec sleep 60\n")  # starts, then takes its time
    with main_window(qtbot, library, models) as window:
        wizard = FineTuneWizard(window, window.parts.state, window.parts.thumbnails)
        wizard.show()
        wizard.resume(record)
        qtbot.waitUntil(lambda: "Training on the cpu" in wizard.training_page.status.text(), timeout=WAIT_MS)
        box = wizard.ask_how_to_close()  # what the Cancel button and closing the window ask
        assert {b.text() for b in box.buttons()} >= {"Keep training in the background", "Pause it", "Discard it"}
        button(box, "Discard it").click()
        assert not wizard.isVisible() and not wizard.training_page.running() and not record.run_dir.exists()
    library.close()


def test_the_wizards_trainer_started_beside_decoy_packages_is_ours(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wizard's trainer process starts in the app's current folder: packages there named like ours
    (`photosift/`, `training/`) are not run in its place (issue 14; the command line's `photosift train`
    is tested from such a folder in test_packaging.py)."""
    monkeypatch.chdir(decoy_folder(tmp_path / "work"))
    trainer = TrainerProcess(Paths(tmp_path / "home"), tmp_path / "trainer.log")
    lines: list[str] = []
    trainer.line.connect(lines.append)
    with qtbot.waitSignal(trainer.ended, timeout=120_000):
        trainer.start(["--help"])
    output = "\n".join(lines)
    assert "--data" in output and "DECOY" not in output
