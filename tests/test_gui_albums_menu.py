"""Albums have a menu of their own (new, smart from this search, export, delete) and a "+" in the side
panel, not entries in the Tags menu; album rows carry an album icon, never the folder icon."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_colour_classes
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox, QStyle
from pytestqt.qtbot import QtBot
from tag_helpers import tagged_colour_library
from test_gui import WAIT_MS, search

from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.start_folders import in_documents
from photosift.core.library import Library


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    lib = tagged_colour_library(home, make_colour_classes(tmp_path / "photos", per_class=2))
    yield lib
    lib.close()


def menu_actions(window: MainWindow, title: str) -> dict[str, QAction]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == title)
    assert isinstance(menu, QMenu)
    menu.aboutToShow.emit()  # as when it opens: entries enable for what can be done now
    return {a.text().replace("&", ""): a for a in menu.actions() if a.text()}


def open_input_dialog(window: MainWindow) -> QInputDialog:
    (dialog,) = [d for d in window.findChildren(QInputDialog) if d.isVisible()]
    return dialog


def album_rows(window: MainWindow) -> dict[str, int]:
    """Album name -> the cache key of its icon."""
    section = window.parts.sections.albums_section
    return {section.child(i).text(0): section.child(i).icon(0).cacheKey() for i in range(section.childCount())}


def test_albums_have_their_own_menu_not_the_tags_menu(qtbot: QtBot, window: MainWindow) -> None:
    albums = menu_actions(window, "&Albums")
    assert list(albums) == ["New album…", "New smart album from this search…", "Export…", "Delete…"]
    assert not any("album" in text for text in menu_actions(window, "&Tags"))
    assert not albums["New smart album from this search…"].isEnabled()  # the timeline is no search
    assert not albums["Delete…"].isEnabled() and not albums["Export…"].isEnabled()  # no albums yet
    search(qtbot, window, "tag:red")
    assert menu_actions(window, "&Albums")["New smart album from this search…"].isEnabled()


def test_new_album_from_the_menu_shows_with_an_album_icon(qtbot: QtBot, window: MainWindow, library: Library) -> None:
    menu_actions(window, "&Albums")["New album…"].trigger()
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        open_input_dialog(window).textValueSelected.emit("Holiday")
    search(qtbot, window, "tag:red")
    window.parts.album_actions.save_search().textValueSelected.emit("Reds")
    qtbot.waitUntil(lambda: len(album_rows(window)) == 2, timeout=WAIT_MS)
    icons = window.parts.sections.icons
    assert album_rows(window) == {"Holiday": icons["album"].cacheKey(), "Reds": icons["smart-album"].cacheKey()}
    folder_icon = window.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon).cacheKey()
    assert folder_icon not in album_rows(window).values()
    assert {a.name for a in library.albums.list_all()} == {"Holiday", "Reds"}


def test_the_plus_beside_the_albums_heading_creates_one(qtbot: QtBot, window: MainWindow, library: Library) -> None:
    cell = window.parts.side_panel.tree.itemWidget(window.parts.sections.albums_section, 1)
    button = window.parts.sections.new_album_button
    assert button.parentWidget() is cell and button.accessibleName() == "New album"
    button.click()
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        open_input_dialog(window).textValueSelected.emit("From the panel")
    assert [a.name for a in library.albums.list_all()] == ["From the panel"]


def test_export_writes_every_album_to_the_chosen_file(
    qtbot: QtBot, window: MainWindow, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library.albums.create("Kept")
    window.refresh_library_status()
    qtbot.waitUntil(lambda: "Kept" in album_rows(window), timeout=WAIT_MS)
    target = tmp_path / "out" / "albums.json"
    target.parent.mkdir()
    suggested: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args: suggested.append(args[2]) or (str(target), "JSON files (*.json)")
    )
    menu_actions(window, "&Albums")["Export…"].trigger()
    qtbot.waitUntil(lambda: "Exported 1 album to" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    assert suggested == [in_documents("albums.json")]  # not the working directory
    assert [album["name"] for album in json.loads(target.read_text())["albums"]] == ["Kept"]


def test_delete_asks_which_album_the_one_on_show_first(qtbot: QtBot, window: MainWindow, library: Library) -> None:
    for name in ("First", "Second"):
        library.albums.create(name)
    window.refresh_library_status()
    qtbot.waitUntil(lambda: len(album_rows(window)) == 2, timeout=WAIT_MS)
    search(qtbot, window, "album:Second")
    menu_actions(window, "&Albums")["Delete…"].trigger()
    chooser = open_input_dialog(window)
    assert chooser.comboBoxItems() == ["First", "Second"] and chooser.textValue() == "Second"
    chooser.textValueSelected.emit("Second")
    (box,) = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: list(album_rows(window)) == ["First"], timeout=WAIT_MS)
    assert [a.name for a in library.albums.list_all()] == ["First"]
