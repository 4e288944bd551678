"""The status bar while indexing: nothing says "Indexing 0 photos" when nothing is new, and at 900 pixels a
long progress line ends in "…" instead of pushing Pause and Cancel out of the window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_photo
from PySide6.QtCore import QPoint
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, make_window
from test_library import open_library

from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.widgets.progress_status import progress_text
from photosift.core.library_lock import WAIT_STAGE
from photosift.core.progress import Progress

LOCK_WAIT = "Waiting for another Photosift process (pid 123456) that is indexing this library to finish."


@pytest.fixture
def window(qtbot: QtBot, home: Path, tmp_path: Path) -> Iterator[MainWindow]:
    for i in range(3):
        make_photo(tmp_path / "photos" / f"red-{i}.jpg", "red")
    library = open_library(home)
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    win, runner, _ = make_window(qtbot, library)
    yield win
    win.close()
    runner.shutdown()
    win.thumbnails.wait()
    library.close()


def test_a_run_with_nothing_new_never_says_indexing_0_photos() -> None:
    assert progress_text(Progress("index", 0, 0)) == "No new photos to index"
    assert progress_text(Progress("index", 0, 5)) == "Indexing (5 photos)…"


def test_a_rescan_that_finds_nothing_new_shows_no_zero_count(qtbot: QtBot, window: MainWindow) -> None:
    shown: list[str] = []
    window.runner.progress.connect(lambda _: shown.append(window.progress_status.label.text()))
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS):
        window.indexing.request_scan(None)
    assert shown and not any(text.startswith("Indexing 0") for text in shown)


def test_a_long_progress_line_leaves_pause_and_cancel_on_screen_at_900_pixels(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    window.progress_status.set_state("running")
    window.runner.progress.emit(Progress(WAIT_STAGE, 0, None, message=LOCK_WAIT))
    window.summary_label.setText("17,500 photos indexed")
    bar, label, cancel = window.statusBar(), window.progress_status.label, window.progress_status.cancel_button

    def cancel_right_edge() -> int:
        return cancel.mapTo(window, QPoint(cancel.width(), 0)).x()

    def laid_out() -> bool:
        return label.width() >= label.minimumSizeHint().width() and 0 < cancel_right_edge() <= bar.width()

    qtbot.waitUntil(laid_out, timeout=WAIT_MS)
    assert window.width() == 900 and label.text() == LOCK_WAIT and label.toolTip() == LOCK_WAIT
    assert label.is_elided()  # drawn ending in "…", the whole sentence in the tooltip
    assert window.summary_label.width() >= window.summary_label.sizeHint().width()
