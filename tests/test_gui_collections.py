"""Tags and albums in the window: the side panel lists them with counts and clicking one searches for it;
photos go into and out of albums from their menu, and are given tags or have them taken away from it and
from the Tags menu; a search becomes a smart album that keeps up; an album suggests the tags its photos
share; a tag's sensitivity moves from its menu."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_colour_classes, make_photo, open_window
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from tag_helpers import ids_of, tagged_colour_library
from test_gui import WAIT_MS, colour_of, search

from photosift.app.gui.dialogs.tags import LabelDialog
from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.ops.albums import SuggestionsDialog
from photosift.app.gui.widgets.library_sections import Collections
from photosift.core.library import Library
from photosift.core.search.records import SearchHit


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


def tag_submenu(window: MainWindow, hits: list[SearchHit]) -> dict[str, QAction]:
    """The entries of the "Tag" submenu of the photos' menu, as a right-click shows it."""
    menu = window.parts.photo_actions.menu(hits)
    window.parts.tag_actions.extend_result_menu(menu, hits)
    submenu = next(a.menu() for a in menu.actions() if a.text() == "&Tag")
    assert isinstance(submenu, QMenu)
    return {a.text().replace("&", ""): a for a in submenu.actions() if a.text()}


def open_label_dialog(window: MainWindow) -> LabelDialog:
    (dialog,) = [d for d in window.findChildren(LabelDialog) if d.isVisible()]
    return dialog


def test_photos_are_tagged_from_their_menu_and_the_tag_is_offered_again(
    qtbot: QtBot, window: MainWindow, library: Library, photos: Path
) -> None:
    search(qtbot, window, "green")
    greens = [h for h in window.parts.results_model.hits() if colour_of(h.path) == "green"][:2]
    entries = tag_submenu(window, greens)
    assert list(entries) == ["Tag as…", "Remove a tag…", "New tag from these photos…"]  # nothing given lately
    entries["Tag as…"].trigger()
    dialog = open_label_dialog(window)
    assert dialog.windowTitle() == "Tag 2 photos"
    names = [t.name for t in library.tags.tags()]
    qtbot.waitUntil(lambda: dialog.name.count() == len(names), timeout=WAIT_MS)  # the library's tags, to complete
    assert [dialog.name.itemText(i) for i in range(len(names))] == names
    dialog.name.setEditText("Red")  # any case: tags are stored lower case
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        dialog.ok_button.click()
    assert not window.findChildren(LabelDialog)  # closed, and deleted
    assert window.statusBar().currentMessage() == "Tagged 2 photos “red”."
    assert set(library.tags.labelled_photos(True)["red"]) == {h.photo_id for h in greens}
    assert rows(window.parts.sections.tags_section)["red"] == "6"  # 4 red photos, and the 2 labelled

    blue = next(h for h in window.parts.results_model.hits() if colour_of(h.path) == "blue")
    qtbot.waitUntil(lambda: next(iter(tag_submenu(window, [blue]))) == "red", timeout=WAIT_MS)  # one click now
    entries = tag_submenu(window, [blue])
    with qtbot.waitSignal(window.parts.sections.refreshed, timeout=WAIT_MS):
        entries["red"].trigger()
    assert blue.photo_id in library.tags.labelled_photos(True)["red"]
    assert window.statusBar().currentMessage() == "Tagged 1 photo “red”."
    entries["Tag as…"].trigger()
    assert open_label_dialog(window).name.currentText() == "red"  # the last tag given, ready for Enter


def test_a_tag_that_does_not_exist_is_said_in_the_dialog(qtbot: QtBot, window: MainWindow) -> None:
    search(qtbot, window, "blue")
    window.parts.photo_actions.select([window.parts.results_model.hit(0)])
    menu_action(window, "&Tags", "Tag the selection…").trigger()
    dialog = open_label_dialog(window)
    dialog.ok_button.click()
    assert dialog.message.text() == "Type the name of a tag."
    dialog.name.setEditText("redd")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "No tag named 'redd'" in dialog.message.text(), timeout=WAIT_MS)
    assert "Did you mean 'red'" in dialog.message.text()
    assert dialog.isVisible() and dialog.buttons.isEnabled()  # to correct the name and try again


def test_removing_a_tag_from_the_selection_keeps_it_off_them(
    qtbot: QtBot, window: MainWindow, library: Library, photos: Path
) -> None:
    reds = sorted(ids_of(library, photos / "red"))
    search(qtbot, window, "tag:red")
    shown = window.parts.results_model.hits()
    window.parts.photo_actions.select(shown[:3])
    menu_action(window, "&Tags", "Remove a tag from the selection…").trigger()
    dialog = open_label_dialog(window)
    assert dialog.windowTitle() == "Remove a tag from 3 photos"
    dialog.name.setEditText("red")
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):  # the tag:red results follow
        dialog.ok_button.click()
    assert window.statusBar().currentMessage() == "3 photos will not carry “red”."
    assert set(library.tags.labelled_photos(False)["red"]) == {h.photo_id for h in shown[:3]}
    assert {h.photo_id for h in library.search("tag:red").hits} == set(reds) - {h.photo_id for h in shown[:3]}
    assert "red" not in tag_submenu(window, shown[3:])  # what was taken away is not offered at one click


def test_tagging_with_nothing_selected_says_to_select(qtbot: QtBot, window: MainWindow) -> None:
    assert search(qtbot, window, "tag:red tag:green") == []  # one colour each: no photo carries both
    window.parts.tag_actions.label_selection(True)
    assert window.statusBar().currentMessage() == "Select the photos to tag first."
    assert not window.findChildren(LabelDialog)


def menu_action(window: MainWindow, title: str, text: str) -> QAction:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == title)
    assert isinstance(menu, QMenu)
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)
