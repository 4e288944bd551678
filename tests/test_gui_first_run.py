"""A new user's first run offscreen, from an empty data folder with no network: the recommended model
cannot be downloaded, the welcome says so in one sentence, the tiny test model's spec is chosen from the
disk through the GUI, and the chosen folder ends up indexed and searchable. And the ways back in: Cancel
keeps the folders, the welcome is offered again while no model is usable, the window says what is
missing instead of an error box per action, and Help ▸ Welcome… reopens it.

The "network" is a closed port on the loopback interface; file dialogs are replaced at Qt's boundary.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_MODELS, WAIT_MS, make_colour_classes
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWizard
from pytestqt.qtbot import QtBot
from test_model_weights import closed_port_url

from photosift.app.gui.main_window import MainWindow
from photosift.app.main import ModelProvider
from photosift.app.tasks import TaskRunner
from photosift.core.catalog import Catalog
from photosift.core.library import Library
from photosift.core.models.card import model_card
from photosift.core.models.encoder import Encoder, select_device
from photosift.core.models.registry import BUILTIN_SPECS_DIR, ModelRegistry
from photosift.core.settings import Paths, Settings, load_settings

PHOTOS = 6  # two per colour


@pytest.fixture
def offline_models(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> ModelProvider:
    """The built-in models, each to be downloaded from a server that is not there."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    for spec_file in BUILTIN_SPECS_DIR.glob("*.json"):
        raw = json.loads(spec_file.read_text(encoding="utf-8"))
        raw["weights"]["urls"] = [closed_port_url()]
        (builtin / spec_file.name).write_text(json.dumps(raw), encoding="utf-8")
    paths = Paths(home)
    return ModelProvider(
        ModelRegistry(paths, builtin), lambda spec, device: Encoder(spec, paths, select_device(device))
    )


@pytest.fixture
def window(qtbot: QtBot, home: Path, offline_models: ModelProvider) -> Iterator[MainWindow]:
    """The app as `run_gui` builds it over an empty data folder (no settings, no folders, no model)."""
    paths = Paths(home)
    paths.ensure()
    settings = Settings()
    spec = offline_models.resolve(settings.model, settings.device)
    encoder = offline_models.make_encoder(spec, settings.device)
    library = Library(paths, settings, Catalog(paths.database), spec, encoder)
    runner = TaskRunner(library)
    win = MainWindow(library, runner, open_url=lambda url: True, models=offline_models)
    qtbot.addWidget(win)
    win.show()
    yield win
    runner.shutdown()
    win.parts.thumbnails.wait()
    runner.library.close()


@pytest.fixture
def photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_colour_classes(tmp_path / "Pictures", per_class=PHOTOS // 3)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(root)))
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *args, **kwargs: (str(TEST_MODELS / "tiny.json"), ""))
    )
    return root


def open_boxes(window: MainWindow) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_a_new_user_offline_reaches_a_searchable_library(qtbot: QtBot, window: MainWindow, photos: Path) -> None:
    dialog = window.parts.first_run.offer_at_start()
    assert dialog is not None and dialog.isVisible()
    assert window.parts.first_run.bar.isVisibleTo(window)  # the window says what is missing meanwhile
    qtbot.mouseClick(dialog.folders_page.add_button, Qt.MouseButton.LeftButton)
    dialog.next()
    (chosen,) = [button.text() for button in dialog.model_page.buttons if button.isChecked()]
    assert chosen == f"{model_card(window.library.spec).title} (recommended for this computer)"
    download = dialog.download_page
    with qtbot.waitSignal(download.failed, timeout=WAIT_MS) as failed:
        dialog.next()
    assert "could not be downloaded" in failed.args[0] and "http://" not in failed.args[0]

    with qtbot.waitSignal(download.ready, timeout=WAIT_MS):
        qtbot.mouseClick(download.file_button, Qt.MouseButton.LeftButton)  # tiny.json, through the file dialog
    assert dialog.chosen_spec() is not None and dialog.chosen_spec().name == "tiny"  # type: ignore[union-attr]
    qtbot.mouseClick(dialog.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    # Searchable once embedded; the same run then prepares the tag vocabulary (a minute on a busy CPU).
    qtbot.waitUntil(lambda: window.library.status().embedded == PHOTOS, timeout=WAIT_MS)

    assert window.library.spec.name == "tiny" and not window.parts.first_run.bar.isVisibleTo(window)
    assert load_settings(window.library.paths).model == str(TEST_MODELS / "tiny.json")
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.search_for("a red photo")
    assert window.parts.results_model.rowCount() == PHOTOS and open_boxes(window) == []
    assert window.parts.first_run.offer_at_start() is None  # a usable model and a folder: no welcome at start


def test_cancel_keeps_the_folders_and_the_way_back_stays_open(qtbot: QtBot, window: MainWindow, photos: Path) -> None:
    dialog = window.parts.first_run.open_welcome()
    qtbot.mouseClick(dialog.folders_page.add_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.parts.state.changed, timeout=WAIT_MS):
        dialog.reject()
    assert [Path(f.path) for f in window.library.folders()] == [photos]
    assert load_settings(window.library.paths).model is None  # the settings file now exists

    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS):  # F5 with no model: no box, the bar says it
        next(a for a in window.findChildren(QAction) if a.text() == "&Rescan all folders").trigger()
    assert open_boxes(window) == [] and window.parts.first_run.bar.isVisibleTo(window)
    assert "No model is on this computer yet" in window.parts.first_run.message.text()

    again = window.parts.first_run.offer_at_start()  # a later start with no usable model offers it again
    assert again is not None and again.folders() == [photos] and again.new_folders() == []
    again.reject()
    with qtbot.waitSignal(window.parts.first_run.welcome_opened, timeout=WAIT_MS):
        next(a for a in window.findChildren(QAction) if a.text() == "&Welcome…").trigger()
