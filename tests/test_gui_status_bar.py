"""The status bar while indexing: nothing says "Indexing 0 photos" when nothing is new, and at 900 pixels a
long progress line ends in "…" instead of pushing Pause and Cancel out of the window; so does the idle
summary with a long model name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import WAIT_MS, make_photo, open_window
from PySide6.QtCore import QPoint
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.widgets.progress_status import progress_text
from photosift.core.library import Library
from photosift.core.library_lock import WAIT_STAGE
from photosift.core.progress import Progress

LONG_TITLE = (  # a fine-tuned model is named by what it was tuned on: wider than a 900-pixel window
    "CLIP ViT-B/32 fine-tuned on the family archive 1998-2024 (insects, garden birds, the allotment and "
    "the grandchildren's drawings), third run, 12 epochs"
)
LOCK_WAIT = "Waiting for another Photosift process (pid 123456) that is indexing this library to finish."


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    for i in range(3):
        make_photo(tmp_path / "photos" / f"red-{i}.jpg", "red")
    library = open_library(home)
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    yield library
    library.close()


def test_a_run_with_nothing_new_never_says_indexing_0_photos() -> None:
    assert progress_text(Progress("index", 0, 0)) == "No new photos to index"
    assert progress_text(Progress("index", 0, 5)) == "Indexing (5 photos)…"
    assert progress_text(Progress("load", 0, 1, message="Loading Tiny test model")) == "Loading Tiny test model…"


def test_a_rescan_that_finds_nothing_new_shows_no_zero_count(qtbot: QtBot, window: MainWindow) -> None:
    shown: list[str] = []
    window.parts.runner.progress.connect(lambda _: shown.append(window.parts.progress_status.label.text()))
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS):
        window.parts.indexing.request_scan(None)
    assert shown and not any(text.startswith("Indexing 0") for text in shown)


def test_a_long_progress_line_leaves_pause_and_cancel_on_screen_at_900_pixels(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    window.parts.progress_status.set_state("running")
    window.parts.runner.progress.emit(Progress(WAIT_STAGE, 0, None, message=LOCK_WAIT))
    window.parts.summary_label.setText("17,500 photos indexed")
    progress = window.parts.progress_status
    bar, label, cancel = window.statusBar(), progress.label, progress.cancel_button

    def cancel_right_edge() -> int:
        return cancel.mapTo(window, QPoint(cancel.width(), 0)).x()

    def laid_out() -> bool:
        summary = window.parts.summary_label  # its text may become the idle sentence, from the window's own status read
        laid = all(shown.width() >= shown.minimumSizeHint().width() for shown in (label, summary))
        return laid and 0 < cancel_right_edge() <= bar.width()

    qtbot.waitUntil(laid_out, timeout=WAIT_MS)
    assert window.width() == 900 and label.text() == LOCK_WAIT and label.toolTip() == LOCK_WAIT
    assert label.is_elided()  # drawn ending in "…", the whole sentence in the tooltip
    summary = window.parts.summary_label
    counts = summary.text().partition(" · ")[0]  # the model's name may give way to the progress, the counts not
    assert summary.width() >= summary.fontMetrics().horizontalAdvance(counts)


def test_the_idle_summary_with_a_long_model_name_ends_in_an_ellipsis_at_900_pixels(
    qtbot: QtBot, library: Library
) -> None:
    """Regression: the summary's whole sentence set the window's least width, so at 900 pixels it was cut."""
    library.spec = replace(library.spec, title=LONG_TITLE)
    with open_window(qtbot, library) as (window, _):
        window.resize(900, 600)
        window.show()
        qtbot.waitExposed(window)
        label = window.parts.summary_label
        qtbot.waitUntil(lambda: label.text().endswith(LONG_TITLE), timeout=WAIT_MS)
        assert window.width() == 900 and label.geometry().right() < window.statusBar().width()
        assert label.is_elided() and label.toolTip() == label.text()  # drawn ending in "…", whole in the tooltip
        counts = label.text().partition(" · ")[0]
        assert label.width() >= label.fontMetrics().horizontalAdvance(counts)  # the counts always show
