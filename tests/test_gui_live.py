"""The live app: watched folders update results without a restart, indexing pauses and resumes, a model
switch keeps the old model serving until it is done, settings apply and persist, and the photo actions
(add to or subtract from the query, copy image, paste an image, remove a folder) work from the window."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder, make_photo, open_window
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, colour_of, make_window, search
from test_library import fake_spec, open_library

from photosift.app.gui.controllers.first_run import is_first_run
from photosift.app.gui.controllers.indexing import PAUSED, IndexingController, RunOutcome
from photosift.app.gui.controllers.settings import apply_changes
from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.ops.folders import confirm_remove_folder
from photosift.app.gui.prefs import load_prefs
from photosift.app.main import ModelProvider
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths, load_settings

WATCH_MS = 15_000  # the watcher waits for two quiet seconds before it reports a change


class GatedEncoder(FakeEncoder):
    """A fake encoder that holds every forward pass until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        self.waiting.set()
        assert self.gate.wait(WAIT_MS / 1000)
        return super().encode_images(batch)


def fake_models(paths: Paths, encoders: dict[str, FakeEncoder]) -> ModelProvider:
    """A provider that knows the fake specs by name and builds the encoders given for them."""

    class Registry(ModelRegistry):
        def resolve(self, name_or_path: str) -> ModelSpec:
            return fake_spec(name_or_path)

    return ModelProvider(Registry(paths), lambda spec, _device: encoders[spec.name])


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for colour in ("red", "green", "blue"):
        for i in range(3):
            make_photo(root / colour / f"{colour}-{i}.jpg", colour)
    return root


@pytest.fixture
def indexed(home: Path, photos: Path) -> Iterator[Library]:
    library = open_library(home)
    library.add_folder(photos)
    library.scan()
    library.index()
    yield library
    library.close()


@pytest.fixture
def window(qtbot: QtBot, indexed: Library) -> Iterator[MainWindow]:
    with open_window(qtbot, indexed) as (win, _):
        yield win


def test_watched_folder_changes_show_up_without_a_restart(qtbot: QtBot, window: MainWindow, photos: Path) -> None:
    assert len(search(qtbot, window, "red")) == 9
    qtbot.waitUntil(lambda: window.parts.indexing.watching, timeout=WAIT_MS)
    added = make_photo(photos / "red" / "new-red.jpg", "red")
    qtbot.waitUntil(lambda: window.parts.results_model.rowCount() == 10, timeout=WATCH_MS)
    assert added.as_posix() in {h.path for h in window.parts.results_model.hits()}
    (photos / "green" / "green-0.jpg").unlink()
    qtbot.waitUntil(lambda: window.parts.results_model.rowCount() == 9, timeout=WATCH_MS)
    assert not any(h.path.endswith("green-0.jpg") for h in window.parts.results_model.hits())


def test_only_a_watching_controller_runs_its_offline_check(qtbot: QtBot, indexed: Library) -> None:
    """A controller that never watches (the OCR pass's in tests) holds no running timer: one that did, dropped
    by the garbage collector on a worker thread, left Qt a timer it cannot stop from there, and a test run
    crashed in Qt when it fired 30 s later. The window's controller runs it once it watches, and stops it."""
    runner = TaskRunner(indexed)
    try:
        idle = IndexingController(runner)
        assert not any(timer.isActive() for timer in idle.findChildren(QTimer))
        idle.watch()
        qtbot.waitUntil(lambda: idle.watching, timeout=WAIT_MS)
        assert any(timer.isActive() for timer in idle.findChildren(QTimer))
        idle.stop_watching()
        assert not any(timer.isActive() for timer in idle.findChildren(QTimer))
    finally:
        runner.shutdown()


def test_a_watcher_that_starts_as_the_window_closes_is_stopped(indexed: Library) -> None:
    """The watcher starts on a worker; closing the window stops watching and shuts the runner down, after
    which no callback reaches the GUI thread. A watcher handed over by such a callback ran on unstopped
    (three GUI tests each left one behind); it is now handed over on the worker itself."""
    before = {t.ident for t in threading.enumerate() if t.name == "folder-watcher"}
    runner = TaskRunner(indexed)
    indexing = IndexingController(runner)
    indexing.watch()
    deadline = time.monotonic() + WAIT_MS / 1000
    while not {t.ident for t in threading.enumerate() if t.name == "folder-watcher"} - before:
        assert time.monotonic() < deadline, "the watcher never started"
        time.sleep(0.01)  # not qtbot.wait: the GUI thread must not deliver the worker's callback meanwhile
    indexing.stop_watching()  # as the window's close does
    runner.shutdown()
    left = {t.ident for t in threading.enumerate() if t.name == "folder-watcher" and t.is_alive()} - before
    assert not left and not indexing.watching


def test_start_up_catches_up_with_changes_made_while_closed(qtbot: QtBot, indexed: Library, photos: Path) -> None:
    added = make_photo(photos / "red" / "added-while-closed.jpg", "red")
    (photos / "green" / "green-0.jpg").unlink()
    window, runner, _ = make_window(qtbot, indexed)
    try:
        with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
            window.catch_up()
        assert isinstance(finished.args[0], RunOutcome) and finished.args[0].report.embedded == 1
        paths = set(search(qtbot, window, "red"))
        assert added.as_posix() in paths and not any(p.endswith("green-0.jpg") for p in paths)
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_moved_photo_keeps_its_place_without_re_embedding(
    qtbot: QtBot, home: Path, photos: Path, tmp_path: Path
) -> None:
    encoder = FakeEncoder()
    library = open_library(home, encoder)
    library.add_folder(photos)
    library.scan()
    library.index()
    window, runner, _ = make_window(qtbot, library)
    try:
        passes = encoder.image_forward_count
        search(qtbot, window, "blue")
        qtbot.waitUntil(lambda: window.parts.indexing.watching, timeout=WAIT_MS)
        (photos / "blue" / "blue-1.jpg").rename(photos / "blue" / "renamed.jpg")
        model = window.parts.results_model
        qtbot.waitUntil(lambda: any(h.path.endswith("renamed.jpg") for h in model.hits()), timeout=WATCH_MS)
        assert encoder.image_forward_count == passes
    finally:
        window.close()
        runner.shutdown()
        library.close()


def test_pause_stops_indexing_and_resume_finishes_it(qtbot: QtBot, home: Path, photos: Path) -> None:
    encoder = GatedEncoder()
    library = open_library(home, encoder)
    library.settings = library.settings.with_changes(batch_size=1)
    window, runner, _ = make_window(qtbot, library)
    try:
        window.add_folder(photos)
        qtbot.waitUntil(encoder.waiting.is_set, timeout=WAIT_MS)
        with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as paused:
            window.toggle_pause()
            encoder.gate.set()
        assert isinstance(paused.args[0], RunOutcome) and paused.args[0].report.cancelled
        assert window.parts.indexing.state == PAUSED and window.parts.progress_status.pause_button.text() == "Resume"
        done_before = library.status().embedded
        assert done_before < 9
        with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as resumed:
            window.toggle_pause()
        assert resumed.args[0].report.embedded == 9 - done_before
        assert library.status().pending == 0 and not window.parts.progress_status.isVisibleTo(window)
    finally:
        encoder.gate.set()
        window.close()
        runner.shutdown()
        library.close()


def test_changes_wait_while_paused(qtbot: QtBot, home: Path, photos: Path) -> None:
    library = open_library(home)
    window, runner, _ = make_window(qtbot, library)
    try:
        window.parts.indexing.pause()
        with qtbot.waitSignal(window.parts.indexing.folders_changed, timeout=WAIT_MS):
            window.add_folder(photos)
        assert library.status().embedded == 0 and window.parts.progress_status.isVisibleTo(window)
        with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
            window.toggle_pause()
        assert finished.args[0].report.embedded == 9
    finally:
        window.close()
        runner.shutdown()
        library.close()


def test_model_switch_serves_searches_from_the_old_model_until_done(
    qtbot: QtBot, window: MainWindow, indexed: Library
) -> None:
    encoder = GatedEncoder()
    target = indexed.with_model(fake_spec("fake-colour-2"), encoder)
    window.parts.indexing.embed_model(target)
    qtbot.waitUntil(encoder.waiting.is_set, timeout=WAIT_MS)
    assert [colour_of(p) for p in search(qtbot, window, "green")[:3]] == ["green"] * 3  # the old model answers
    assert window.library is indexed
    with qtbot.waitSignal(window.parts.state.model_switched, timeout=WAIT_MS) as switched:
        encoder.gate.set()
    assert switched.args[0] is target and window.library is target and window.parts.runner.library is target
    assert getattr(indexed.encoder, "released", False)  # the old model's memory is given back
    assert target.status().embedded == 9
    assert [colour_of(p) for p in search(qtbot, window, "blue")[:3]] == ["blue"] * 3


def test_settings_apply_and_persist(qtbot: QtBot, indexed: Library, home: Path) -> None:
    encoders: dict[str, FakeEncoder] = {"fake-colour-2": FakeEncoder()}
    window, runner, _ = make_window(qtbot, indexed, fake_models(indexed.paths, encoders))
    old = window.library
    settings = old.settings.with_changes(decode_workers=3, watch_polling=True, model="fake-colour-2")
    try:
        with qtbot.waitSignal(window.parts.state.model_switched, timeout=WAIT_MS):
            apply_changes(window.parts.state, settings, replace(window.prefs, thumbnail_size=224), window.apply_prefs)
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()
    assert load_settings(Paths(home)) == settings
    assert load_prefs(Paths(home)).thumbnail_size == 224
    assert window.parts.results_view.iconSize().width() == 224 and window.parts.thumbnails.size > 192
    assert window.library is not old and window.library.spec.name == "fake-colour-2"
    assert window.library.settings.decode_workers == 3 and window.library.status().embedded == 9


def test_a_new_cpu_runtime_is_saved_and_waits_for_the_next_start(qtbot: QtBot, window: MainWindow) -> None:
    """The session's encoders were made with the old runtime: the status line says when the new one applies,
    and the model is not switched (that would embed every photo again)."""
    library = window.library
    settings = library.settings.with_changes(cpu_runtime="int8")
    with qtbot.waitSignal(window.parts.state.notice, timeout=WAIT_MS) as notice:
        apply_changes(window.parts.state, settings, window.prefs, window.apply_prefs)
    assert "next starts" in notice.args[0]
    assert window.library is library and load_settings(library.paths).cpu_runtime == "int8"


def test_photo_actions_refine_the_query_and_copy(qtbot: QtBot, window: MainWindow) -> None:
    search(qtbot, window, "red")
    hit = window.parts.results_model.hit(0)
    window.parts.results_view.setCurrentIndex(window.parts.results_model.index(0, 0))
    actions = {a.text().replace("&", ""): a for a in window.parts.photo_actions.menu([hit]).actions() if a.text()}
    assert {"Find similar images", "Add to query (+)", "Subtract from query (-)", "Copy image", "Properties"} <= set(
        actions
    )
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        actions["Add to query (+)"].trigger()
    assert window.query_text() == f"#{hit.photo_id} + red"
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.parts.photo_actions.menu([hit]).actions()[2].trigger()
    assert window.query_text() == f"#{hit.photo_id} - #{hit.photo_id} + red"

    QGuiApplication.clipboard().clear()
    actions["Copy image"].trigger()
    qtbot.waitUntil(lambda: not QGuiApplication.clipboard().image().isNull(), timeout=WAIT_MS)
    pixel = QGuiApplication.clipboard().image().pixelColor(5, 5)
    assert pixel.red() > 150 and pixel.green() < 100

    with qtbot.waitSignal(window.parts.viewer.image_shown, timeout=WAIT_MS):
        actions["Properties"].trigger()
    assert window.parts.viewer.isVisible()
    window.parts.viewer.close()


def test_keyboard_finds_similar_from_the_grid(qtbot: QtBot, window: MainWindow) -> None:
    search(qtbot, window, "blue")
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    window.parts.results_view.setFocus()
    window.parts.results_view.setCurrentIndex(window.parts.results_model.index(0, 0))
    hit = window.parts.results_model.hit(0)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        qtbot.keyClick(window.parts.results_view, Qt.Key.Key_S)
    assert window.query_text() == f"#{hit.photo_id}"
    assert [h.photo_id for h in window.parts.results_model.hits()].count(hit.photo_id) == 1  # first, as the query


def test_pasting_an_image_finds_similar_photos(qtbot: QtBot, window: MainWindow, home: Path) -> None:
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor(30, 200, 40))
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.paste_image()
    (chip,) = window.parts.search_field.chips()  # the pasted picture shows as a chip in the field
    pasted = Path(chip.term.value)
    assert pasted.parent == home / "cache" / "pasted" and pasted.suffix == ".png"
    assert [colour_of(h.path) for h in window.parts.results_model.hits()[:3]] == ["green"] * 3


def test_removing_a_folder_asks_then_forgets_its_photos_only(
    qtbot: QtBot, window: MainWindow, photos: Path, indexed: Library
) -> None:
    files = sorted(photos.rglob("*"))
    qtbot.waitUntil(lambda: window.parts.side_panel.folders_section.childCount() == 1, timeout=WAIT_MS)
    box = confirm_remove_folder(window, window.parts.state, str(photos))
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: not window.parts.side_panel.folders_section.childCount(), timeout=WAIT_MS)
    assert sorted(photos.rglob("*")) == files
    assert indexed.status().photos == 0


def test_first_run_wizard_adds_the_chosen_folders_and_indexes_them(
    qtbot: QtBot, home: Path, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(photos)))
    library = open_library(home)
    encoders: dict[str, FakeEncoder] = {"fake-colour": FakeEncoder()}
    runner = TaskRunner(library)
    window = MainWindow(library, runner, open_url=lambda url: True, models=fake_models(library.paths, encoders))
    qtbot.addWidget(window)
    try:
        assert is_first_run(window.parts.state)
        dialog = window.parts.first_run.offer_at_start()
        assert dialog is not None
        dialog.folders_page.add_button.click()
        dialog.next()
        assert dialog.chosen_spec().name == "fake-colour"  # type: ignore[union-attr]  # the library's model
        with qtbot.waitSignal(dialog.download_page.ready, timeout=WAIT_MS):
            dialog.next()
        with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
            dialog.accept()
        assert finished.args[0].report.embedded == 9
        assert not is_first_run(window.parts.state) and library.paths.settings_file.exists()
        assert [colour_of(p) for p in search(qtbot, window, "red")[:3]] == ["red"] * 3
    finally:
        window.close()
        runner.shutdown()
        window.parts.runner.library.close()


def test_new_matches_refresh_at_the_top_and_wait_for_the_user_further_down(
    qtbot: QtBot, window: MainWindow, photos: Path
) -> None:
    window.resize(420, 320)
    window.show()
    search(qtbot, window, "red")
    bar = window.parts.results_view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > window.parts.results_view.gridSize().height(), timeout=WAIT_MS)
    bar.setValue(bar.maximum())
    make_photo(photos / "red" / "late-red.jpg", "red")
    with qtbot.waitSignal(window.parts.search.new_results, timeout=WAIT_MS) as offered:
        window.parts.indexing.request_scan(None)  # indexing ends with a refresh
    button, model = window.parts.new_results_button, window.parts.results_model
    assert offered.args == [True] and button.isVisible() and model.rowCount() == 9
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        button.click()
    assert model.rowCount() == 10 and not button.isVisible()
    bar.setValue(0)
    make_photo(photos / "red" / "later-red.jpg", "red")
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.parts.indexing.request_scan(None)  # at the top: the first page is fetched again at once
    assert window.parts.results_model.rowCount() == 11
