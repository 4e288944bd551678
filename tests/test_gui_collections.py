"""Tags and albums in the window: the side panel lists them with counts and clicking one searches for it;
photos go into and out of albums from their menu; a search becomes a smart album that keeps up; an
album suggests the tags its photos share; a tag's sensitivity moves from its menu."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_colour_classes, make_photo, open_window
from PySide6.QtWidgets import QInputDialog, QMessageBox, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from tag_helpers import ids_of, tagged_colour_library
from test_gui import WAIT_MS, colour_of, search

from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.ops.albums import SuggestionsDialog
from photosift.app.gui.widgets.library_sections import Collections
from photosift.core.library import Library


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_colour_classes(tmp_path / "photos", per_class=4)


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    lib = tagged_colour_library(home, photos)
    yield lib
    lib.close()


@pytest.fixture
def window(qtbot: QtBot, library: Library) -> Iterator[MainWindow]:
    with open_window(qtbot, library) as (win, _):
        qtbot.waitUntil(lambda: win.parts.sections.tags_section.childCount() == 3, timeout=WAIT_MS)  # the first refresh
        yield win


def rows(section: QTreeWidgetItem) -> dict[str, str]:
    children = [section.child(i) for i in range(section.childCount())]
    return {c.text(0): c.text(1) for c in children if c is not None}


def refreshed(qtbot: QtBot, window: MainWindow) -> Collections:
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS) as shown:
        window.refresh_library_status()
    collections: Collections = shown.args[0]
    return collections


def test_tags_with_counts_and_clicking_one_filters(qtbot: QtBot, window: MainWindow) -> None:
    refreshed(qtbot, window)
    assert rows(window.parts.sections.tags_section) == {"red": "4", "green": "4", "blue": "4"}
    item = window.parts.sections.tags_section.child(0)
    assert item is not None
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.parts.side_panel.item_activated.emit(item)
    assert window.parts.search_field.text() == f"tag:{item.text(0)}"
    assert {colour_of(h.path) for h in window.parts.results_model.hits()} == {item.text(0)}


def test_photos_go_into_a_new_album_and_out_again(qtbot: QtBot, window: MainWindow, library: Library) -> None:
    search(qtbot, window, "green")
    hits = [window.parts.results_model.hit(0), window.parts.results_model.hit(1)]
    menu = window.parts.photo_actions.menu(hits)
    window.parts.album_actions.extend_result_menu(menu, hits)
    add_menu = next(a.menu() for a in menu.actions() if a.text() == "Add to album")
    new_album = next(a for a in add_menu.actions() if a.text() == "New album…")
    new_album.trigger()
    (dialog,) = [d for d in window.findChildren(QInputDialog) if d.isVisible()]
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        dialog.textValueSelected.emit("Greens")
    assert library.albums.photo_ids("Greens") == {h.photo_id for h in hits}
    assert rows(window.parts.sections.albums_section) == {"Greens": "2"}
    assert window.statusBar().currentMessage() == "Album “Greens” created with 2 photos."

    album_row = window.parts.sections.albums_section.child(0)
    assert album_row is not None
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.parts.side_panel.item_activated.emit(album_row)
    assert window.parts.search_field.text() == "album:Greens" and window.parts.results_model.rowCount() == 2
    assert window.parts.album_actions.shown_album() == "Greens"
    menu = window.parts.photo_actions.menu([window.parts.results_model.hit(0)])
    window.parts.album_actions.extend_result_menu(menu, [window.parts.results_model.hit(0)])
    remove = next(a for a in menu.actions() if a.text() == "Remove from “Greens”")
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        remove.trigger()
    assert len(library.albums.photo_ids("Greens")) == 1 and window.parts.results_model.rowCount() == 1
    assert window.statusBar().currentMessage() == "Removed 1 photo from “Greens”."


def test_a_search_saved_as_a_smart_album_keeps_up(
    qtbot: QtBot, window: MainWindow, library: Library, photos: Path
) -> None:
    search(qtbot, window, "tag:blue")
    dialog = window.parts.album_actions.save_search()
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        dialog.textValueSelected.emit("Blues")
    assert rows(window.parts.sections.albums_section) == {"Blues": "4"}
    make_photo(photos / "blue" / "blue-new.jpg", "blue")
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS):
        window.parts.indexing.request_scan(None)
    assert refreshed(qtbot, window).albums[0].photo_count == 5
    assert rows(window.parts.sections.albums_section) == {"Blues": "5"}


def test_a_ranked_search_saved_as_a_smart_album_keeps_the_photos_it_shows(
    qtbot: QtBot, window: MainWindow, library: Library
) -> None:
    shown = search(qtbot, window, "red")
    assert len(shown) == 12  # every photo, best first
    dialog = window.parts.album_actions.save_search()
    assert "12 photos shown" in dialog.labelText()
    assert dialog.minimumWidth() > dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())  # title not cut
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        dialog.textValueSelected.emit("Reds and the rest")
    assert len(library.albums.photo_ids("Reds and the rest")) == 12  # not only the few near the best hit


def test_an_album_suggests_its_shared_tags_and_accepting_labels_them(
    qtbot: QtBot, window: MainWindow, library: Library, photos: Path
) -> None:
    reds = sorted(ids_of(library, photos / "red"))
    library.albums.create("Reds")
    library.albums.add("Reds", reds)
    with qtbot.waitSignal(window.parts.album_actions.suggestions_shown, timeout=WAIT_MS) as shown:
        window.parts.album_actions.suggest_tags("Reds")
    dialog: SuggestionsDialog = shown.args[0]
    assert dialog.chosen() == ["red"]
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        dialog.accept()
    assert set(library.tags.labelled_photos(True)["red"]) == set(reds)


def test_deleting_an_album_asks_and_keeps_the_photos(qtbot: QtBot, window: MainWindow, library: Library) -> None:
    library.albums.create("Old")
    refreshed(qtbot, window)
    assert rows(window.parts.sections.albums_section) == {"Old": "0"}
    box = window.parts.album_actions.confirm_delete("Old")
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: rows(window.parts.sections.albums_section) == {}, timeout=WAIT_MS)
    assert library.albums.list_all() == [] and library.status().photos == 12


def test_a_tag_menu_changes_its_sensitivity(qtbot: QtBot, window: MainWindow, library: Library) -> None:
    refreshed(qtbot, window)
    more = next(a for a in window.parts.tag_actions.menu("red").actions() if a.text().startswith("More"))
    more.trigger()
    qtbot.waitUntil(lambda: library.tags.tag("red").sensitivity == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Sensitivity of red: +1" in window.statusBar().currentMessage(), timeout=WAIT_MS)
