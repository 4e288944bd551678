"""Text in photos in the window: the viewer's details show a photo's recognised text, selectable and
copyable; the background pass runs beside indexing, stopping when an indexing run starts, and shows its
progress in the status bar; the Settings dialog sets which photos it reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WAIT_MS, make_photo
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from test_gui import make_window
from test_library import open_library
from test_ocr import make_sign

from photosift.app.gui.controllers.indexing import IDLE, RUNNING, IndexingController
from photosift.app.gui.controllers.settings import apply_changes
from photosift.app.gui.controllers.text_reading import TextReading
from photosift.app.gui.dialogs.settings import SettingsDialog
from photosift.app.gui.prefs import GuiPrefs
from photosift.app.gui.widgets.photo_details import PhotoDetails
from photosift.app.gui.widgets.progress_status import ProgressStatus
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library
from photosift.core.ocr import store
from photosift.core.ocr.reader import MODES, OcrReport
from photosift.core.progress import Progress
from photosift.core.search.records import SearchHit
from photosift.core.settings import Paths, Settings, load_settings


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    make_sign(tmp_path / "photos" / "sign.jpg", "BLUE HARBOUR")
    make_photo(tmp_path / "photos" / "red.jpg", "red")
    library = open_library(home, settings=Settings(ocr="all"))
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    yield library
    library.close()


def hit(library: Library, name: str) -> SearchHit:
    return next(h for h in library.search("red", limit=10).hits if Path(h.path).name == name)


def test_the_details_show_the_photos_text_selectable_and_copyable(
    qtbot: QtBot, library: Library, runner: TaskRunner
) -> None:
    sign, red = hit(library, "sign.jpg"), hit(library, "red.jpg")
    store.save(library.catalog.engine, [store.TextRow(sign.photo_id, "text", "BLUE HARBOUR\nOpen 9-5")])
    store.save(library.catalog.engine, [store.TextRow(red.photo_id, "none")])
    details = PhotoDetails(runner)
    qtbot.addWidget(details)
    details.show()

    details.show_hit(sign)
    qtbot.waitUntil(lambda: details.text.isVisibleTo(details), timeout=WAIT_MS)
    assert details.text.toPlainText() == "BLUE HARBOUR\nOpen 9-5" and details.text.isReadOnly()
    details.text.selectAll()
    details.text.copy()
    assert QApplication.clipboard().text() == "BLUE HARBOUR\nOpen 9-5"

    with qtbot.waitSignal(details.text.available, timeout=WAIT_MS, check_params_cb=lambda shown: not shown):
        details.show_hit(red)  # read, nothing found: no empty box
    qtbot.wait(50)
    assert not details.text.isVisibleTo(details) and details.text.toPlainText() == ""


def test_the_pass_reads_in_the_background_and_stops_when_indexing_starts(
    qtbot: QtBot, library: Library, runner: TaskRunner
) -> None:
    indexing = IndexingController(runner)
    reading = TextReading(runner, indexing)
    reading.stop()  # not the pass that starts START_DELAY_MS after an idle indexing: this test starts its own
    with qtbot.waitSignal(reading.finished, timeout=WAIT_MS) as done:
        reading.start()
    report = done.args[0]
    assert isinstance(report, OcrReport) and (report.read, report.with_text) == (2, 1)
    assert "HARBOUR" in (library.text.text_of(hit(library, "sign.jpg").photo_id) or "").upper()

    with library.catalog.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM photo_text")  # everything is pending again
    with qtbot.waitSignal(reading.finished, timeout=WAIT_MS) as stopped:
        reading.start()
        indexing.state_changed.emit(RUNNING)  # an indexing run starts: the pass stops at the next photo
    assert stopped.args[0].cancelled and not reading.running
    reading.stop(wait_ms=-1)


def test_without_the_ocr_extra_the_pass_stops_for_the_session_without_a_dialog(
    qtbot: QtBot, library: Library, runner: TaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's plain install leaves the extra out: no error dialog after every indexing run."""
    import sys

    import numpy as np

    from photosift.core.ocr.gate import GatePrompts

    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    library.text.mode = "likely"
    monkeypatch.setattr(GatePrompts, "likely_text", lambda self, vectors: np.ones(len(vectors), bool))
    presented: list[BaseException] = []
    monkeypatch.setattr(runner, "present", presented.append)
    reading = TextReading(runner, IndexingController(runner))
    reading.stop()
    with qtbot.waitSignal(reading.progress, timeout=WAIT_MS, check_params_cb=lambda p: p is None):
        reading.start()  # the pass ends at once: the engine cannot load
    reading.start()  # and does not start again in this session
    assert presented == [] and not reading.running


def test_the_status_bar_shows_the_pass_while_indexing_is_idle(qtbot: QtBot) -> None:
    status = ProgressStatus()
    qtbot.addWidget(status)
    status.set_state(IDLE)

    status.show_background(Progress("ocr", 1, 4, 0.5, 6.0))
    assert not status.isHidden() and status.pause_button.isHidden() and not status.cancel_button.isHidden()
    assert status.label.text() == "Reading text in photos 1/4 photos, 0.5 photos/s, about 6 s left"
    status.show_background(None)
    assert status.isHidden()

    status.set_state(RUNNING)  # indexing has the line: the pass's progress (stopping) does not take it
    status.show_background(Progress("ocr", 2, 4))
    status.show_background(None)
    assert not status.isHidden() and not status.pause_button.isHidden() and "Reading" not in status.label.text()


def test_the_window_shows_the_pass_and_the_settings_switch_its_mode(qtbot: QtBot, library: Library, home: Path) -> None:
    window, runner, _ = make_window(qtbot, library)
    state, progress = window.parts.state, window.parts.progress_status
    reading = state.text_reading
    seen: list[tuple[bool, str]] = []  # after the window's own slot: (status shown, its line)
    reading.progress.connect(lambda _p: seen.append((not progress.isHidden(), progress.label.text())))
    try:
        with qtbot.waitSignal(reading.finished, timeout=WAIT_MS):
            apply_changes(state, state.settings.with_changes(ocr="likely"), window.prefs, window.apply_prefs)
        assert library.text.mode == "likely" and load_settings(Paths(home)).ocr == "likely"
        assert seen[0][0] and seen[0][1].startswith("Reading text in photos")
        assert seen[-1] == (False, "")  # the pass ended: the line is gone

        progress.cancel_button.click()  # no pass: nothing to stop, nothing breaks
        apply_changes(state, state.settings.with_changes(ocr="off"), window.prefs, window.apply_prefs)
        assert library.text.mode == "off" and library.text.pending() == 0
    finally:
        reading.stop(wait_ms=-1)
        window.close()
        runner.shutdown()


def test_the_settings_dialog_offers_the_ocr_setting(qtbot: QtBot) -> None:
    dialog = SettingsDialog(Settings(ocr="all"), GuiPrefs(), [], ["cpu"])
    qtbot.addWidget(dialog)
    assert [dialog.ocr_combo.itemData(i) for i in range(dialog.ocr_combo.count())] == list(MODES)
    assert dialog.ocr_combo.currentData() == "all"

    dialog.ocr_combo.setCurrentIndex(dialog.ocr_combo.findData("off"))
    dialog.accept()

    assert dialog.settings().ocr == "off"
