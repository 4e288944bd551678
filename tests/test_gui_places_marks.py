"""The window's parts for places and marks, offscreen over a real library of photos with GPS in their
EXIF: the side panel's Places section (countries, their cities, counts, a click searching exactly the
photos counted), the grid's favourite and rating actions and their keys, the viewer's keys and its
"why this matched", and F1's list of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import sync_runner
from place_helpers import make_city_photos
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListView, QWidget
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, make_window, search
from test_library import open_library

from photosift.app.gui.dialogs.shortcuts import gather_shortcuts
from photosift.app.gui.dialogs.viewer import VIEWER_KEYS, Viewer
from photosift.app.gui.ops.marks import MarkActions, Marker
from photosift.app.gui.presenter import CHECK_DISK
from photosift.app.gui.widgets import why_matched
from photosift.app.gui.widgets.places_section import SHOWN_CITIES, PlacesSection
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.side_panel import SidePanel
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.gui.widgets.why_matched import WhyMatched
from photosift.app.tasks import TaskRunner
from photosift.core.catalog.marks import PhotoMarks
from photosift.core.catalog.place_rows import PlaceCount
from photosift.core.errors import EnvironmentFault
from photosift.core.library import Library
from photosift.core.search.records import SearchHit


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    lib = open_library(home)
    lib.add_folder(make_city_photos(tmp_path / "travel"))
    lib.scan()
    lib.index()
    yield lib
    lib.close()


@pytest.fixture
def runner(library: Library) -> Iterator[TaskRunner]:
    runner = sync_runner(library)
    yield runner
    runner.shutdown()


def stems(library: Library, query: str) -> set[str]:
    return {Path(hit.path).stem for hit in library.search(query, limit=100).hits}


def by_name(library: Library) -> dict[str, int]:
    return {Path(h.path).stem: h.photo_id for h in library.search("red", limit=100).hits}


def test_places_section_lists_countries_then_their_cities(qtbot: QtBot, library: Library, runner: TaskRunner) -> None:
    panel = SidePanel()
    qtbot.addWidget(panel)
    searched: list[str] = []
    places = PlacesSection(panel, runner, searched.append)
    places.refresh(runner.present)
    countries = [places.section.child(i) for i in range(places.section.childCount())]
    assert [(c.text(0), c.text(1)) for c in countries][:1] == [("Portugal", "4")]
    assert {c.text(0) for c in countries} == {"Portugal", "Japan", "Australia", "Brazil"}
    portugal = countries[0]
    cities = [(portugal.child(i).text(0), portugal.child(i).text(1)) for i in range(portugal.childCount())]
    assert cities == [("Lisbon", "3"), ("Porto", "1")]
    panel.item_activated.emit(portugal.child(0))
    panel.item_activated.emit(portugal)
    assert searched == ["city:Lisbon country:Portugal", "country:Portugal"]
    assert len(stems(library, searched[0])) == 3 and len(stems(library, searched[1])) == 4  # as counted


def test_a_refresh_keeps_an_expanded_country_expanded(qtbot: QtBot, runner: TaskRunner) -> None:
    panel = SidePanel()
    qtbot.addWidget(panel)
    places = PlacesSection(panel, runner, lambda _: None)
    places.refresh(runner.present)
    portugal = places.section.child(0)
    portugal.setExpanded(True)
    places.refresh(runner.present)
    assert places.section.child(0).isExpanded() and not places.section.child(1).isExpanded()


class Grid(QWidget):
    """The window's part the grid actions use: a results view and its selection."""

    def __init__(self, hits: list[SearchHit]) -> None:
        super().__init__()
        self.results_view = QListView(self)
        self.hits = hits

    def current_hits(self) -> list[SearchHit]:
        return self.hits


def test_grid_keys_mark_the_selection(qtbot: QtBot, library: Library, runner: TaskRunner) -> None:
    photo = by_name(library)
    hits = [SearchHit(photo["tokyo"], "tokyo.jpg", None), SearchHit(photo["sydney"], "sydney.jpg", None)]
    grid = Grid(hits)
    qtbot.addWidget(grid)
    notices: list[str] = []
    actions = MarkActions(grid.results_view, grid.current_hits, Marker(runner, notices.append), grid)
    favourite, rating = actions.group
    assert favourite.shortcuts()[0].toString() == "F"
    rate = {a.shortcuts()[0].toString(): a for a in rating.menu().actions()}
    assert list(rate) == [f"Ctrl+{n}" for n in range(6)]
    favourite.trigger()
    rate["Ctrl+4"].trigger()
    assert notices == ["Now 2 favourites.", "Rated 2 photos ★★★★☆."]
    assert library.marks.of([photo["tokyo"]]) == {photo["tokyo"]: PhotoMarks(True, 4)}
    assert stems(library, "is:favourite rating:>=4") == {"tokyo", "sydney"}
    favourite.trigger()  # all were favourites: none is now
    assert stems(library, "is:favourite") == set() and notices[-1] == "No longer 2 favourites."
    listed = {(group, text, keys) for group, text, keys in gather_shortcuts(grid)}
    assert ("Grid", "Favourite", "F") in listed and ("Grid", "5 stars", "Ctrl+5") in listed


@pytest.fixture
def viewer(qtbot: QtBot, library: Library, runner: TaskRunner, home: Path) -> Iterator[Viewer]:
    thumbnails = ThumbnailCache(home / "cache" / "thumbnails")
    model = ResultsModel(thumbnails)
    query = "red place:Lisbon"
    model.reset(library.search(query, limit=50))
    viewer = Viewer(model, runner)
    viewer.why.attach(Marker(runner, lambda _: None), lambda: query)
    qtbot.addWidget(viewer)
    viewer.show()
    yield viewer
    thumbnails.wait()


def test_viewer_keys_mark_the_photo_and_it_says_why_it_matched(qtbot: QtBot, viewer: Viewer, library: Library) -> None:
    viewer.show_row(0)
    photo_id = viewer.model.hit(0).photo_id
    assert viewer.why.marks.text() == "Not a favourite · unrated"
    assert viewer.why.place.text().endswith("Lisbon, Portugal")
    why = viewer.why.why.text()
    assert why.startswith("text 'red': similarity ")  # one term: its similarity is the score, said once
    assert "place:Lisbon passes (" in why and "taken in " in why
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    qtbot.keyClick(viewer, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert library.marks.of([photo_id])[photo_id] == PhotoMarks(True, 3)
    assert viewer.why.marks.text() == "♥ Favourite · ★★★☆☆"
    zoom = viewer.zoom_view.zoom
    qtbot.keyClick(viewer, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)  # clears; does not fit the zoom
    assert library.marks.of([photo_id])[photo_id] == PhotoMarks(True, 0) and viewer.zoom_view.zoom == zoom
    assert ("Viewer", "Favourite or not", "F") in VIEWER_KEYS


def test_the_window_has_places_and_no_key_does_two_things(qtbot: QtBot, library: Library) -> None:
    """The real window: its Places section fills, the grid's menus hold the marks and its F and Ctrl+5 set
    them, and no key is bound to two actions of one scope (the grid's F and Ctrl+digits against everything
    else, the viewer's keys against each other)."""
    window, runner, _ = make_window(qtbot, library)
    try:
        qtbot.waitUntil(lambda: window.parts.places.section.childCount() == 4, timeout=WAIT_MS)
        rows = gather_shortcuts(window)
        keys = [keys for _, _, keys in rows]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        assert ("Grid", "Favourite", "F") in rows
        viewer_keys = [k.strip() for _, _, listed in VIEWER_KEYS for k in listed.replace("/", ",").split(",")]
        assert len(viewer_keys) == len(set(viewer_keys))
        context = window.parts.photo_actions.menu([SearchHit(by_name(library)["tokyo"], "tokyo.jpg", None)])
        assert {"&Favourite", "&Rating"} <= {a.text() for a in context.actions()}
        search(qtbot, window, "place:Tokyo")
        window.show()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
        window.parts.results_view.setFocus()
        window.parts.results_view.setCurrentIndex(window.parts.results_model.index(0, 0))
        tokyo = window.parts.results_model.hit(0).photo_id
        qtbot.keyClick(window.parts.results_view, Qt.Key.Key_F)
        qtbot.keyClick(window.parts.results_view, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: library.marks.of([tokyo])[tokyo] == PhotoMarks(True, 5), timeout=WAIT_MS)
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_a_country_lists_its_most_photographed_cities(qtbot: QtBot, runner: TaskRunner) -> None:
    panel = SidePanel()
    qtbot.addWidget(panel)
    places = PlacesSection(panel, runner, lambda _: None)
    cities = [PlaceCount("Japan", f"Town {n:03}", 1000 - n) for n in range(SHOWN_CITIES + 5)]
    places.show([PlaceCount("Japan", None, sum(c.photos for c in cities)), *cities])
    japan = places.section.child(0)
    assert japan.childCount() == SHOWN_CITIES and japan.child(0).text(0) == "Town 000"


def test_the_viewer_explains_the_search_on_show_not_the_text_typed_since(qtbot: QtBot, library: Library) -> None:
    window, runner, _ = make_window(qtbot, library)
    try:
        search(qtbot, window, "place:Tokyo")
        window.parts.search.field.setText("place:Sydney")  # typed, not searched yet: Tokyo's photo is on show
        assert window.query_text() == "place:Sydney"
        window.open_viewer(0)
        qtbot.waitUntil(lambda: "place:" in window.parts.viewer.why.why.text(), timeout=WAIT_MS)
        assert "place:Tokyo passes" in window.parts.viewer.why.why.text()
        window.parts.viewer.close()
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_more_results_continue_the_search_on_show_not_the_text_typed_since(
    qtbot: QtBot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photosift.app.gui.controllers import search as live_search

    monkeypatch.setattr(live_search, "FIRST_PAGE", 3)
    window, runner, _ = make_window(qtbot, library)

    def red_then_the_rest(typed: str) -> set[str]:
        search(qtbot, window, "red")
        assert len(window.parts.results_model.hits()) == 3
        window.parts.search.field.setText(typed)  # typed, not searched yet: "red" is on show
        with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
            window.parts.results_model.load_all()
        qtbot.waitUntil(lambda: not window.parts.results_model.filling(), timeout=WAIT_MS)
        return {Path(h.path).stem for h in window.parts.results_model.hits()}

    try:
        every_red = red_then_the_rest("red")
        assert len(every_red) > 3
        assert red_then_the_rest("place:Tokyo") == every_red
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_why_it_matched_words_a_failure_as_the_presenter_does(
    qtbot: QtBot, library: Library, runner: TaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of the machine is said in place with what to do about it, and a bug goes to the runner's
    presenter (the crash dialog and the log), not into the label (issue 14: one triage, the presenter's)."""
    presented: list[BaseException] = []
    runner.set_presenter(presented.append)
    why = WhyMatched(runner)
    qtbot.addWidget(why)
    why.attach(Marker(runner, lambda _: None), lambda: "red")

    def failing(exc: Exception) -> Callable[..., object]:
        def explain(*_args: object) -> object:
            raise exc

        return explain

    monkeypatch.setattr(why_matched, "explain", failing(EnvironmentFault("The index could not be read.")))
    why.show_photo(by_name(library)["tokyo"])
    assert why.why.text() == f"Cannot explain: The index could not be read. {CHECK_DISK}" and presented == []
    monkeypatch.setattr(why_matched, "explain", failing(RuntimeError("a bug")))
    why.show_photo(by_name(library)["tokyo"])
    assert [str(exc) for exc in presented] == ["a bug"] and "a bug" not in why.why.text()
