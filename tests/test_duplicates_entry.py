"""The side panel's Tools ▸ Near-duplicates row: how many photos are marked as duplicates, read in the
background with the other sections' counts, and a click opens the review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_photo
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, make_window
from test_library import open_library

from photosift.app.gui.dialogs.duplicates import DuplicatesDialog
from photosift.app.gui.widgets.duplicates_entry import DuplicatesEntry
from photosift.app.gui.widgets.side_panel import SidePanel
from photosift.app.tasks import TaskRunner
from photosift.core.duplicates.store import FoundGroup, replace_groups
from photosift.core.library import Library


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    for name in ("a", "b", "c"):
        make_photo(tmp_path / "photos" / f"{name}.jpg", "red")
    library = open_library(home)
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    yield library
    library.close()


def test_the_row_counts_the_marked_duplicates_and_a_click_opens_the_review(qtbot: QtBot, library: Library) -> None:
    ids = sorted(hit.photo_id for hit in library.search("red", limit=3).hits)
    replace_groups(library.catalog.engine, [FoundGroup(tuple(ids), (1.0, 0.99, 0.98))])  # two duplicates of one
    runner = TaskRunner(library)
    panel = SidePanel()
    qtbot.addWidget(panel)
    opened: list[bool] = []
    entry = DuplicatesEntry(panel, runner, lambda: opened.append(True))
    try:
        assert entry.item.text(0) == "Near-duplicates" and entry.item.text(1) == ""
        assert entry.item.isFirstColumnSpanned()  # no count: the name may use its column
        entry.refresh(runner.present)
        qtbot.waitUntil(lambda: entry.item.text(1) == "2", timeout=WAIT_MS)
        assert not entry.item.isFirstColumnSpanned()  # the count shows
        assert entry.item.toolTip(0) == "2 photos are marked as near-duplicates: review them"
        entry.show(1)
        assert entry.item.toolTip(0) == "1 photo is marked as near-duplicates: review them"

        panel.item_activated.emit(entry.section)  # the heading: nothing
        panel.item_activated.emit(entry.item)
        assert opened == [True]
    finally:
        runner.shutdown()


def test_the_window_lists_the_row_under_tools_with_its_count(qtbot: QtBot, library: Library) -> None:
    ids = sorted(hit.photo_id for hit in library.search("red", limit=2).hits)
    replace_groups(library.catalog.engine, [FoundGroup(tuple(ids), (1.0, 0.99))])
    window, runner, _ = make_window(qtbot, library)
    try:
        entry = window.parts.duplicates_entry
        assert entry.section.text(0) == "Tools" and entry.section.parent() is None
        qtbot.waitUntil(lambda: entry.item.text(1) == "1", timeout=WAIT_MS)  # read with the library's counts
    finally:
        window.close()
        runner.shutdown()


def test_marks_made_in_the_review_from_the_tools_menu_update_the_count(qtbot: QtBot, library: Library) -> None:
    """The Tools menu opens the review as the row does (the window's `open_duplicates`): the review is one
    per window, so whichever opened it first, its marks refresh the row's count."""
    ids = sorted(hit.photo_id for hit in library.search("red", limit=3).hits)
    replace_groups(library.catalog.engine, [FoundGroup(tuple(ids), (1.0, 0.99, 0.98))])
    window, runner, _ = make_window(qtbot, library)
    try:
        entry = window.parts.duplicates_entry
        qtbot.waitUntil(lambda: entry.item.text(1) == "2", timeout=WAIT_MS)
        tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
        next(a for a in tools.actions() if a.text() == "Find near-&duplicates…").trigger()
        dialog = window.findChild(DuplicatesDialog)
        assert dialog is not None
        qtbot.waitUntil(lambda: len(dialog.groups) == 1, timeout=WAIT_MS)
        dialog.photos.item(1).setCheckState(Qt.CheckState.Unchecked)  # the person: not a duplicate
        qtbot.waitUntil(lambda: entry.item.text(1) == "1", timeout=WAIT_MS)
        dialog.close()
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()
