"""The fine-tuning wizard end to end, offscreen, with the tiny model and real trainer processes: folders as
classes, a preset adjusted by hand, caption coverage from the trainer's plan, training with live charts,
the before/after result with the side by side, and activation switching the main window's library."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from finetune_helpers import COLOURS, PER_CLASS, TRAIN_MS, main_window, prepared_run, tiny_library
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QSpinBox, QWizard
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS

from photosift.app.gui.finetune import ADVANCED, CAPTIONS, DATA, METHOD, RESULT, TRAINING
from photosift.app.gui.finetune.runs import load_record
from photosift.app.gui.finetune.wizard import FineTuneWizard, open_finetune
from photosift.core.models.registry import ModelRegistry
from photosift.core.settings import load_settings


@pytest.mark.slow  # two trainer processes (the plan, the run): ~30 s; the sibling below covers training to activation
def test_from_folders_to_a_new_model_searching(qtbot: QtBot, home: Path, tmp_path: Path, tiny_export: Path) -> None:
    library, models = tiny_library(home, tmp_path / "photos", tiny_export)
    with main_window(qtbot, library, models) as window:
        tools = next(a for a in window.menuBar().actions() if a.text() == "&Tools").menu()
        personalise = next(a for a in tools.actions() if a.text().startswith("&Personalise"))
        with qtbot.waitSignal(window.parts.runner.busy_changed, timeout=WAIT_MS, raising=False):
            personalise.trigger()
        wizard = window.findChild(FineTuneWizard)
        # One wizard at a time.
        assert wizard is not None and open_finetune(window, window.parts.state, window.parts.thumbnails) is wizard

        # 1. Data: folders as classes, counts, thumbnails, warnings as classes are left out.
        qtbot.waitUntil(lambda: wizard.data_page.classes.topLevelItemCount() == len(COLOURS), timeout=WAIT_MS)
        rows = {
            wizard.data_page.classes.topLevelItem(i).text(0): wizard.data_page.classes.topLevelItem(i).text(1)
            for i in range(4)
        }
        assert rows == {colour: str(PER_CLASS) for colour in COLOURS}
        for colour in ("green", "blue", "yellow"):
            wizard.data_page.set_included(colour, False)
        assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
        assert "at least two classes" in wizard.data_page.problems.text()
        for colour in ("green", "blue", "yellow"):
            wizard.data_page.set_included(colour, True)
        assert wizard.data_page.isComplete()
        qtbot.waitUntil(lambda: wizard.data_page.strip.count() == PER_CLASS, timeout=WAIT_MS)

        # 2. Method: MCIP, the quick preset on a CPU, estimates, then the settings by hand.
        wizard.next()
        assert wizard.currentId() == METHOD and wizard.method_page.method() == "mcip"
        assert wizard.method_page.preset() == "quick" and "No GPU" in wizard.method_page.device_note.text()
        assert "time not known yet" in wizard.method_page.estimates["quick"].text()  # the tiny model has no speed
        wizard.method_page.name.setText("Bad Name")
        assert not wizard.method_page.isComplete()
        wizard.method_page.name.setText("tiny-colours")
        wizard.method_page.advanced.setChecked(True)
        wizard.next()
        assert wizard.currentId() == ADVANCED
        editors = wizard.advanced_page.editors
        assert isinstance(editors["epochs"], QSpinBox) and editors["epochs"].value() == 2
        editors["workers"].setValue(0)
        editors["batch_size"].setValue(8)
        for name, value in (("lr_tower", "1e-3"), ("lr_proxies", "1e-2")):
            editor = editors[name]
            assert isinstance(editor, QLineEdit)
            editor.setText(value)

        # 3. Captions: the plan's coverage and a measured estimate before training starts.
        with qtbot.waitSignal(wizard.captions_page.plan_finished, timeout=TRAIN_MS) as planned:
            wizard.next()
        assert planned.args == [True] and wizard.currentId() == CAPTIONS
        assert "training photos" in wizard.captions_page.status.text()
        assert "got pseudo-captions" in wizard.captions_page.status.text()
        assert wizard.captions_page.classes.topLevelItemCount() == len(COLOURS)
        assert "measured on this computer" in wizard.captions_page.estimate.text()
        assert wizard.button(QWizard.WizardButton.NextButton).text() == "&Start training"
        record = wizard.record
        assert record is not None and len(record.held_out) == len(COLOURS)  # one of six per class held out
        assert load_record(record.run_dir) == record
        assert "tiny-colours" not in wizard._names_taken()  # its own run folder does not take its name

        # 4. Training in its own process; the window keeps searching meanwhile.
        with qtbot.waitSignal(wizard.training_page.finished_run, timeout=TRAIN_MS) as trained:
            wizard.next()
            assert wizard.currentId() == TRAINING and not wizard.button(QWizard.WizardButton.BackButton).isEnabled()
            with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
                window.search_for("red")
            assert window.parts.results_model.rowCount() == len(COLOURS) * PER_CLASS and wizard.training_page.running()
        assert trained.args == [True]
        charts = wizard.training_page.charts.curve_lengths()
        assert charts["loss"] >= 1 and charts["loss_am"] >= 1 and charts["loss_mc"] >= 1 and charts["map"] == 3
        assert (record.run_dir / "train.log").read_text().count('"event": "step"') >= 1

        # 5. Result: scores before and after, the side by side, then activation.
        assert wizard.currentId() == RESULT
        assert wizard.result_page.table.item(0, 0).text() != "—" and re.fullmatch(
            r"[+-]\d+\.\d points|no change", wizard.result_page.table.item(0, 2).text()
        )
        what_ran = wizard.result_page.recipe.text()  # the applied tricks, from eval.json
        assert "0.75 ArcMargin + 0.25 MCArcMargin" in what_ran and "Patch dropout 0.33. Gradient clipping" in what_ran
        qtbot.waitUntil(lambda: wizard.result_page.grid.count() > 3, timeout=WAIT_MS)
        assert wizard.result_page.grid.rowCount() == 4  # a header and three query photos
        activated: list[str] = []
        wizard.activated.connect(activated.append)
        with qtbot.waitSignal(window.parts.state.model_switched, timeout=TRAIN_MS) as switched:
            wizard.result_page.activate_button.click()
        assert activated == ["tiny-colours"]
        assert switched.args[0].spec.name == "tiny-colours" and window.library.spec.name == "tiny-colours"
        assert window.library.status().embedded == len(COLOURS) * PER_CLASS
        assert load_settings(library.paths).model == "tiny-colours"
        assert ModelRegistry(library.paths).resolve("tiny-colours").checkpoint is not None
        assert json.loads((record.run_dir / "wizard.json").read_text())["status"] == "activated"
        assert not wizard.isVisible() and wizard.result() == QWizard.DialogCode.Accepted.value
    library.close()


def test_a_prepared_run_trains_shows_what_ran_and_takes_over(
    qtbot: QtBot, home: Path, tmp_path: Path, tiny_export: Path
) -> None:
    """The journey's second half with one trainer process and no plan: training with live charts of the
    loss parts, the result with the recipe that ran, and activation switching the window's library."""
    library, models = tiny_library(home, tmp_path / "photos", tiny_export)
    record = prepared_run(library, "tiny-colours")
    with main_window(qtbot, library, models) as window:
        wizard = FineTuneWizard(window, window.parts.state, window.parts.thumbnails)
        wizard.show()
        with qtbot.waitSignal(wizard.training_page.finished_run, timeout=TRAIN_MS) as trained:
            wizard.resume(record)
            assert wizard.currentId() == TRAINING
        assert trained.args == [True] and wizard.currentId() == RESULT
        charts = wizard.training_page.charts.curve_lengths()
        assert charts["loss_am"] >= 1 and charts["loss_mc"] >= 1 and charts["map"] == 3  # before and 2 epochs
        what_ran = wizard.result_page.recipe.text()
        assert "0.75 ArcMargin + 0.25 MCArcMargin" in what_ran and "Patch dropout 0.33. Gradient clipping" in what_ran
        with qtbot.waitSignal(window.parts.state.model_switched, timeout=TRAIN_MS) as switched:
            wizard.result_page.activate_button.click()
        assert switched.args[0].spec.name == "tiny-colours" and window.library.spec.name == "tiny-colours"
        assert window.library.status().embedded == len(COLOURS) * PER_CLASS
        assert load_settings(library.paths).model == "tiny-colours"
    library.close()


def test_closing_before_training_leaves_nothing_behind(
    qtbot: QtBot, home: Path, tmp_path: Path, tiny_export: Path
) -> None:
    library, models = tiny_library(home, tmp_path / "photos", tiny_export)
    with main_window(qtbot, library, models) as window:
        wizard = open_finetune(window, window.parts.state, window.parts.thumbnails)
        qtbot.waitUntil(wizard.data_page.isComplete, timeout=WAIT_MS)
        assert wizard.currentId() == DATA
        wizard.data_page.source.setCurrentIndex(wizard.data_page.source.findData("albums"))
        qtbot.waitUntil(lambda: "no albums yet" in wizard.data_page.problems.text(), timeout=WAIT_MS)
        assert not wizard.data_page.isComplete()
        wizard.reject()
        assert not wizard.isVisible() and not (home / "runs").exists()
        assert Qt.WindowType.Dialog & wizard.windowFlags()  # a window of its own, over the main window
    library.close()
