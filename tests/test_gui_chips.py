"""Readable queries: photos and image files of a query show as chips with a picture in the search field,
the text form stays the language underneath, and the photo a "find similar" started from leads the results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_photo
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, make_window, search
from test_library import open_library

from photosift.app.gui.controllers.queries import image_term
from photosift.app.gui.controllers.search import QUERY_ROLE
from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.widgets.query_chips import QueryField, join_query, split_query
from photosift.core.library import Library


@pytest.fixture
def indexed(home: Path, tmp_path: Path) -> Iterator[Library]:
    for colour in ("red", "green", "blue"):
        for i in range(3):
            make_photo(tmp_path / "photos" / colour / f"{colour}-{i}.jpg", colour)
    library = open_library(home)
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    yield library
    library.close()


@pytest.fixture
def window(qtbot: QtBot, indexed: Library) -> Iterator[MainWindow]:
    win, runner, _ = make_window(qtbot, indexed)
    win.resize(1000, 600)
    win.show()
    yield win
    runner.shutdown()
    win.parts.thumbnails.wait()


@pytest.mark.parametrize(
    ("query", "sources", "rest"),
    [
        ("#379 + #188", ["#379", "#188"], ""),
        ("red + #12 - #40", ["#12", "- #40"], "red"),
        ("#12 after:2023 -tag:people", ["#12"], "after:2023 -tag:people"),
        ("2:#12 - crowd", ["2:#12"], "- crowd"),
        ("#12 beach", [], "#12 beach"),  # one text term in the query language: not a photo
        ("- #40", [], "- #40"),  # does not parse (only subtracts): left as typed, for its error
    ],
)
def test_a_query_splits_into_chips_and_text_and_joins_back(query: str, sources: list[str], rest: str) -> None:
    terms, typed = split_query(query)
    assert [("- " if t.subtract else "") + t.source for t in terms] == sources and typed == rest
    assert split_query(join_query(terms, typed)) == (terms, typed)


def test_an_image_file_with_spaces_is_one_chip(tmp_path: Path) -> None:
    image = make_photo(tmp_path / "my photos" / "a b.jpg")
    terms, rest = split_query(f"{image_term(image)} + sea")
    assert [t.value for t in terms] == [str(image)] and rest == "sea"


def test_find_similar_shows_a_chip_with_a_picture_and_the_photo_first(qtbot: QtBot, window: MainWindow) -> None:
    search(qtbot, window, "blue")
    window.parts.results_view.setCurrentIndex(window.parts.results_model.index(0, 0))
    hit = window.parts.results_model.hit(0)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.parts.photo_actions.similar.trigger()
    field = window.parts.search_field
    assert field.text() == "" and window.query_text() == f"#{hit.photo_id}"
    (chip,) = field.chips()
    qtbot.waitUntil(lambda: not chip.icon().isNull(), timeout=WAIT_MS)  # its thumbnail, decoded in the background
    assert Path(hit.path).name in chip.text() and chip.isVisible()
    assert field.textMargins().left() >= chip.geometry().right()  # typing starts after the chip
    first = window.parts.results_model.item(0)
    assert window.parts.results_model.hit(0).photo_id == hit.photo_id and first.data(QUERY_ROLE)
    assert "started from" in first.toolTip() and first.data(Qt.ItemDataRole.AccessibleTextRole).startswith("Query")
    qtbot.waitUntil(lambda: len(window.parts.search.badges.badges()) == 1, timeout=WAIT_MS)
    (badge,) = window.parts.search.badges.badges()
    cell = window.parts.results_view.visualRect(window.parts.results_model.index(0, 0))
    assert badge.text() == "Query" and cell.contains(badge.geometry().topLeft())
    assert all(h.path.split("/")[-2] == "blue" for h in window.parts.results_model.hits()[:3])
    assert window.parts.count_label.text() == "8 matching photos"  # the query photo is not one of its matches


def test_add_to_query_adds_a_chip_and_keeps_the_typed_words(qtbot: QtBot, window: MainWindow) -> None:
    search(qtbot, window, "red")
    window.parts.results_view.setCurrentIndex(window.parts.results_model.index(0, 0))
    hit = window.parts.results_model.hit(0)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.parts.photo_actions.add.trigger()
    assert window.parts.search_field.text() == "red" and len(window.parts.search_field.chips()) == 1
    assert window.query_text() == f"#{hit.photo_id} + red"


def test_clicking_a_chip_or_backspace_removes_it_and_searches_again(qtbot: QtBot, window: MainWindow) -> None:
    ids = [h.photo_id for h in window.parts.results_model.hits()[:2]]
    search(qtbot, window, f"#{ids[0]} + #{ids[1]} + red")
    field = window.parts.search_field
    assert len(field.chips()) == 2 and field.text() == "red"
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        qtbot.mouseClick(field.chips()[0], Qt.MouseButton.LeftButton)
    assert window.query_text() == f"#{ids[1]} + red"
    field.setFocus()
    field.setCursorPosition(0)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        qtbot.keyClick(field, Qt.Key.Key_Backspace)
    assert field.chips() == [] and window.query_text() == "red"
    qtbot.keyClick(field, Qt.Key.Key_Backspace)  # mid-text, Backspace edits the text as ever
    assert field.text() == "red"


def test_a_typed_photo_query_still_works_and_becomes_chips_on_enter(qtbot: QtBot, window: MainWindow) -> None:
    ids = [h.photo_id for h in window.parts.results_model.hits()[:2]]
    field = window.parts.search_field
    field.setFocus()
    qtbot.keyClicks(field, f"#{ids[0]} + #{ids[1]}")
    assert field.chips() == []  # typing never moves the text under the cursor
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert [c.term.photo_id for c in field.chips()] == ids and field.text() == ""
    marked = [window.parts.results_model.item(window.parts.results_model.row_of(i)).data(QUERY_ROLE) for i in ids]
    assert marked == [True, True]  # both query photos are marked where they rank


def test_a_dropped_file_shows_as_a_chip(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    outside = make_photo(tmp_path / "elsewhere" / "a green one.jpg", "green")
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.find_similar_to_file(outside)
    (chip,) = window.parts.search_field.chips()
    assert chip.term.value == str(outside) and "a green one.jpg" in chip.text()
    assert window.parts.results_model.hits()[0].path.split("/")[-2] == "green"


def test_a_dropped_library_photo_leads_its_results_as_the_query(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Issue 16: a dropped (or pasted) file of a library photo asks as that photo, so it comes first, marked
    as the query, like a find similar from the grid (a path query left it out of its own results)."""
    dropped = tmp_path / "photos" / "green" / "green-1.jpg"
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.find_similar_to_file(dropped)
    (chip,) = window.parts.search_field.chips()
    hits = window.parts.results_model.hits()
    assert chip.term.photo_id == hits[0].photo_id and hits[0].path == str(dropped)
    assert window.parts.results_model.item(0).data(QUERY_ROLE) and len(hits) == 9  # itself, then the 8 others
    assert [h.path.split("/")[-2] for h in hits[1:3]] == ["green", "green"]


def test_the_clear_button_clears_chips_and_text(qtbot: QtBot, window: MainWindow) -> None:
    hit = window.parts.results_model.hits()[0]
    search(qtbot, window, f"#{hit.photo_id} + red")
    field = window.parts.search_field
    assert field.clear_action.isVisible()
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        field.clear_action.trigger()
    assert field.chips() == [] and window.query_text() == ""
    assert window.parts.results_model.hit_at(0) is None  # the timeline
    qtbot.waitUntil(lambda: window.parts.search.badges.badges() == [], timeout=WAIT_MS)  # no query photo to mark


def test_many_chips_drop_their_names_to_leave_room_for_typing(qtbot: QtBot, tmp_path: Path) -> None:
    field = QueryField()
    qtbot.addWidget(field)
    field.resize(600, 40)
    field.show()
    images = [make_photo(tmp_path / f"a-long-holiday-photo-name-{i}.jpg") for i in range(5)]
    field.set_query(" + ".join(map(str, images)))
    picture = QImage(24, 24, QImage.Format.Format_RGB32)
    for chip in field.chips():  # the pictures, as the window's background decode delivers them
        field.show_picture(chip.term, picture, chip.term.value)
    assert all(chip.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly for chip in field.chips())
    for width in (601, 602):  # laid out again: the choice holds (measured on compact chips, it flipped)
        field.resize(width, 40)
        assert all(chip.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly for chip in field.chips())
    field.set_query(str(images[0]))
    assert field.chips()[0].toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
