"""The results grid on its own, offscreen: the justified layout (lines of equal height, every photo at its
aspect ratio, no gaps, at small to large thumbnail sizes), a scroll range over every result with End and
scrollbar drags reaching the last one, keyboard focus that never lands on a month heading, and names and
scores on hover."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import WAIT_MS
from PIL import Image
from PySide6.QtCore import QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.prefs import load_prefs
from photosift.app.gui.state import Changes
from photosift.app.gui.widgets import results_model
from photosift.app.gui.widgets.justified import MAX_ASPECT, justify
from photosift.app.gui.widgets.results_grid import SPACING, ResultsView
from photosift.app.gui.widgets.results_model import HEADING_HEIGHT, ResultsModel
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.tasks import TaskRunner
from photosift.core.search.records import SearchHit, SearchPage

ASPECTS = (1.5, 2 / 3, 4 / 3, 1.0, 3.0, 0.75, 16 / 9)  # landscape, portrait, square, panorama
PAGE = 50


def photos(count: int, score: float | None = None) -> list[SearchHit]:
    rng = random.Random(7)
    return [SearchHit(i, f"/photos/IMG_{i:05d}.jpg", score, rng.choice(ASPECTS)) for i in range(count)]


def monthly(hits: list[SearchHit], per_month: int) -> dict[int, datetime]:
    """Dates putting `per_month` photos in each month, newest first."""
    return {
        hit.photo_id: datetime(2024 - i // (12 * per_month), 12 - i // per_month % 12, 1) for i, hit in enumerate(hits)
    }


class Grid:
    """A view over a model whose pages come from `hits` at once, as the window's queries would."""

    def __init__(self, qtbot: QtBot, cache: ThumbnailCache, hits: list[SearchHit], dates: dict[int, datetime] | None):
        self.qtbot, self.hits, self.dates, self.requests = qtbot, hits, dates, list[tuple[int, int]]()
        self.model = ResultsModel(cache)
        self.view = ResultsView(self.model)
        qtbot.addWidget(self.view)
        self.model.more_wanted.connect(self._load)
        self.view.resize(900, 600)
        self.view.show()
        qtbot.waitExposed(self.view)

    def show(self, total: int | None) -> None:
        first = self.hits[:PAGE]
        self.model.reset(SearchPage(tuple(first), 0, PAGE, len(self.hits) > PAGE), self.dates, total)
        self.qtbot.waitUntil(lambda: self.view.contentsSize().height() > 0, timeout=WAIT_MS)  # laid out

    def _load(self, offset: int, limit: int) -> None:
        self.requests.append((offset, limit))
        page = self.hits[offset : offset + limit]
        self.model.append(SearchPage(tuple(page), offset, limit, offset + limit < len(self.hits)), self.dates)

    def rect(self, row: int) -> tuple[int, int, int, int]:
        r = self.view.visualRect(self.model.index(row, 0))
        return r.x(), r.y(), r.width(), r.height()

    def current_is_photo(self) -> bool:
        return self.model.hit_at(self.view.currentIndex().row()) is not None


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ThumbnailCache]:
    cache = ThumbnailCache(tmp_path / "thumbnails")
    yield cache
    cache.wait()


# The layout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("height", [96, 160, 320])
def test_full_lines_span_the_width_at_one_height_keeping_each_aspect(height: int) -> None:
    aspects: list[float | None] = [random.Random(height).choice(ASPECTS) for _ in range(200)]
    line, spacing = 1000, 4
    layout = justify(aspects, line, height, spacing, HEADING_HEIGHT)
    ends = [*layout.lines[1:], len(aspects)]
    for start, end in list(zip(layout.lines, ends, strict=True))[:-1]:  # the last line may be short
        cells = layout.sizes[start:end]
        assert len({h for _, h in cells}) == 1  # one height per line
        assert sum(w for w, _ in cells) == line - 1 - (len(cells) + 1) * spacing  # to the pixel: no gap
        assert 0.7 * height < cells[0][1] < 1.4 * height  # near the size asked for
        for (w, h), aspect in zip(cells, aspects[start:end], strict=True):
            assert aspect is not None and abs(w / h - aspect) < 0.02 * aspect  # the photo's shape, to rounding
    last = layout.sizes[layout.lines[-1] :]
    full = sum(w for w, _ in last) == line - 1 - (len(last) + 1) * spacing
    assert full or all(h == height for _, h in last)  # a short last line keeps the size asked for


def test_headings_take_a_line_and_extreme_shapes_are_cropped() -> None:
    layout = justify([1.5, None, 40.0, 1.0], 600, 160, 4, HEADING_HEIGHT)
    assert layout.lines == [0, 1, 2, 3]  # a panorama wide enough to fill a line alone
    assert layout.sizes[1] == (600 - 1 - 8, HEADING_HEIGHT)
    width, height = layout.sizes[2]
    assert width == 600 - 1 - 8 and width / height == pytest.approx(MAX_ASPECT, rel=0.01)


@pytest.mark.parametrize("height", [96, 160, 320])
def test_the_view_draws_the_lines_the_model_justified(qtbot: QtBot, cache: ThumbnailCache, height: int) -> None:
    grid = Grid(qtbot, cache, photos(PAGE), None)
    grid.view.set_line_height(height)
    grid.show(None)
    lines, right = grid.model.lines(), grid.view.line_width() - 2 - SPACING  # Qt wraps a cell ending at the edge
    assert len(lines) > 2
    for start, end in pairwise(lines):  # every full line
        cells = [grid.rect(row) for row in range(start, end)]
        assert len({y for _, y, _, _ in cells}) == 1 and len({h for *_, h in cells}) == 1  # one line, one height
        for (x, _, w, _), (next_x, *_) in pairwise(cells):
            assert next_x - (x + w) == SPACING  # neighbours a spacing apart, no gap
        x, _, w, _ = cells[-1]
        assert x + w - 1 == right  # the last cell ends at the right edge
        for row, (_, _, w, h) in zip(range(start, end), cells, strict=True):
            aspect = grid.model.hit(row).aspect
            assert aspect is not None and abs(w / h - aspect) < 0.02 * aspect


def test_resizing_the_view_lays_the_lines_out_again(qtbot: QtBot, cache: ThumbnailCache) -> None:
    grid = Grid(qtbot, cache, photos(PAGE), None)
    grid.show(None)
    before = grid.model.lines()[:]
    grid.view.resize(600, 600)
    x, _, w, _ = grid.rect(grid.model.lines()[1] - 1)
    assert grid.model.lines() != before and x + w - 1 == grid.view.line_width() - 2 - SPACING


# Scrolling over every result ------------------------------------------------------------------------


def test_the_scroll_range_covers_every_result_not_the_loaded_page(qtbot: QtBot, cache: ThumbnailCache) -> None:
    grid = Grid(qtbot, cache, photos(20 * PAGE), None)
    grid.show(total=20 * PAGE)
    bar, loaded = grid.view.verticalScrollBar(), grid.view.contentsSize().height()
    assert grid.model.hit_count() == PAGE and bar.maximum() > 15 * loaded  # about twenty pages' worth


def test_end_goes_to_the_last_result_and_loads_what_lies_before_it(qtbot: QtBot, cache: ThumbnailCache) -> None:
    hits = photos(20 * PAGE)
    grid = Grid(qtbot, cache, hits, monthly(hits, 30))
    grid.show(total=len(hits))
    grid.view.setFocus()
    qtbot.keyClick(grid.view, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: grid.model.hit_at(grid.view.currentIndex().row()) == hits[-1], timeout=WAIT_MS)
    assert grid.model.hit_count() == len(hits) and len(grid.requests) == 1  # one request for the rest
    bar = grid.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() > 0, timeout=WAIT_MS)
    assert grid.view.visualRect(grid.view.currentIndex()).intersects(grid.view.viewport().rect())


def test_end_on_many_results_makes_their_rows_turn_by_turn(
    qtbot: QtBot, cache: ThumbnailCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: End on 100,000 results made every row in one go, freezing the window ~5 s."""
    monkeypatch.setattr(results_model, "TURN_S", 0.0)  # one lot of rows a turn
    monkeypatch.setattr(results_model, "ROWS_AT_ONCE", 100)
    hits = photos(20 * PAGE)
    grid = Grid(qtbot, cache, hits, monthly(hits, 30))
    grid.show(total=len(hits))
    seen: list[int] = []  # photos in the grid at each turn of the event loop
    ticker = QTimer(interval=0)
    ticker.timeout.connect(lambda: seen.append(grid.model.hit_count()))
    ticker.start()
    grid.view.setFocus()
    with qtbot.waitSignal(grid.model.filled, timeout=WAIT_MS):
        qtbot.keyClick(grid.view, Qt.Key.Key_End)
    ticker.stop()
    assert len({count for count in seen if PAGE < count < len(hits)}) > 3  # the window ran between them
    assert grid.model.hit_at(grid.view.currentIndex().row()) == hits[-1] and len(grid.requests) == 1
    bar = grid.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() > 0, timeout=WAIT_MS)
    assert grid.view.visualRect(grid.view.currentIndex()).intersects(grid.view.viewport().rect())
    monkeypatch.setattr(results_model, "ROWS_AT_ONCE", len(hits))
    whole = Grid(qtbot, cache, hits, grid.dates)
    whole.model.reset(SearchPage(tuple(hits), 0, len(hits), False), grid.dates, len(hits))
    assert grid.model.lines() == whole.model.lines()  # laid out as if made in one go
    assert grid.model.laid_out_height() == whole.model.laid_out_height()


def test_dragging_the_scrollbar_to_the_end_shows_the_last_results(qtbot: QtBot, cache: ThumbnailCache) -> None:
    hits = photos(20 * PAGE)
    grid = Grid(qtbot, cache, hits, None)
    grid.show(total=len(hits))
    bar = grid.view.verticalScrollBar()
    bar.setValue(bar.maximum())  # as a drag to the bottom ends
    qtbot.waitUntil(lambda: grid.model.hit_count() == len(hits), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=WAIT_MS)
    last = grid.view.visualRect(grid.model.index(grid.model.rowCount() - 1, 0))
    assert last.intersects(grid.view.viewport().rect())


def test_a_drag_halfway_loads_the_results_there(qtbot: QtBot, cache: ThumbnailCache) -> None:
    hits = photos(20 * PAGE)
    grid = Grid(qtbot, cache, hits, None)
    grid.show(total=len(hits))
    bar = grid.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    qtbot.waitUntil(lambda: bool(grid.view.rows_on_screen()) and not grid.model.filling(), timeout=WAIT_MS)
    assert 8 * PAGE < grid.model.hit_count() < len(hits)  # about half, not everything
    on_screen = grid.view.rows_on_screen()
    assert grid.view.visualRect(grid.model.index(on_screen.start, 0)).intersects(grid.view.viewport().rect())


# Keyboard focus -----------------------------------------------------------------------------------------


def test_keyboard_focus_never_lands_on_a_month_heading(qtbot: QtBot, cache: ThumbnailCache) -> None:
    hits = photos(PAGE)
    grid = Grid(qtbot, cache, hits, monthly(hits, 7))  # months of one full line and a short one
    grid.show(total=PAGE)
    view, model = grid.view, grid.model
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.currentIndex().row() == 1  # the first photo, under the first heading
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 1  # nothing above it but the heading
    seen = set()
    for key in [Qt.Key.Key_Right] * 12 + [Qt.Key.Key_Down] * 8 + [Qt.Key.Key_Left] * 12 + [Qt.Key.Key_Up] * 8:
        qtbot.keyClick(view, key)
        assert grid.current_is_photo(), key
        seen.add(view.currentIndex().row())
    assert any(model.hit_at(row - 1) is None for row in seen if row > 1)  # crossed into another month
    for key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp, Qt.Key.Key_End, Qt.Key.Key_Home):
        qtbot.keyClick(view, key)
        assert grid.current_is_photo(), key


def test_down_keeps_to_the_column_under_the_current_photo(qtbot: QtBot, cache: ThumbnailCache) -> None:
    grid = Grid(qtbot, cache, photos(PAGE), None)
    grid.show(None)
    view, lines = grid.view, grid.model.lines()
    view.setCurrentIndex(grid.model.index(lines[1] - 1, 0))  # the last photo of the first line
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == lines[2] - 1  # the last of the second line, at the right edge too


def test_a_click_on_a_heading_keeps_the_current_photo(qtbot: QtBot, cache: ThumbnailCache) -> None:
    hits = photos(PAGE)
    grid = Grid(qtbot, cache, hits, monthly(hits, 7))
    grid.show(total=PAGE)
    grid.view.setCurrentIndex(grid.model.index(3, 0))
    heading = grid.view.visualRect(grid.model.index(0, 0)).center()
    qtbot.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=heading)
    assert grid.view.currentIndex().row() == 3
    assert grid.view.selectionMode() != QAbstractItemView.SelectionMode.NoSelection


# Names and scores -------------------------------------------------------------------------------------


def test_hovering_a_photo_shows_its_name_and_score(qtbot: QtBot, cache: ThumbnailCache) -> None:
    grid = Grid(qtbot, cache, photos(PAGE, score=0.3125), None)
    grid.show(None)
    cell = grid.view.visualRect(grid.model.index(2, 0))
    qtbot.mouseMove(grid.view.viewport(), cell.topLeft())  # the pointer may rest on the centre already
    qtbot.mouseMove(grid.view.viewport(), cell.center())
    qtbot.waitUntil(grid.view.caption.isVisible, timeout=WAIT_MS)
    assert grid.view.caption.text() == "IMG_00002.jpg  ·  0.31"
    caption = grid.view.caption.geometry()
    assert cell.contains(caption.topLeft()) and caption.bottom() == cell.bottom()  # over the picture's foot
    qtbot.mouseMove(grid.view.viewport(), QPoint(cell.center().x(), cell.center().y()))
    grid.view.verticalScrollBar().setValue(cell.height())
    assert not grid.view.caption.isVisible()  # the cell moved away under it


def test_hovering_a_photo_whose_name_is_not_utf8_names_it_readably(qtbot: QtBot, cache: ThumbnailCache) -> None:
    """Regression: Qt dropped the surrogates of `caf\\xe9.jpg`, so the hover caption said "caf.jpg"."""
    odd = SearchHit(1, os.fsdecode(b"/photos/caf\xe9.jpg"), None, 1.5)
    grid = Grid(qtbot, cache, [odd, *photos(PAGE)[1:]], None)
    grid.show(None)
    cell = grid.view.visualRect(grid.model.index(0, 0))
    qtbot.mouseMove(grid.view.viewport(), cell.bottomRight())
    qtbot.mouseMove(grid.view.viewport(), cell.center())
    qtbot.waitUntil(grid.view.caption.isVisible, timeout=WAIT_MS)
    assert grid.view.caption.text() == "café.jpg"


def test_names_shown_below_every_photo_as_an_option(qtbot: QtBot, cache: ThumbnailCache) -> None:
    grid = Grid(qtbot, cache, photos(PAGE), None)
    grid.show(None)
    _, _, _, bare = grid.rect(0)
    grid.view.set_names_shown(True)
    _, _, _, named = grid.rect(0)
    assert grid.model.data(grid.model.index(0, 0)) == "IMG_00000.jpg"
    assert named - bare == grid.view.fontMetrics().height() + 4  # room for one line of text below
    grid.view.set_names_shown(False)
    assert not grid.model.data(grid.model.index(0, 0)) and grid.rect(0)[3] == bare


def test_a_tooltip_says_the_path_id_and_similarity(qtbot: QtBot, cache: ThumbnailCache) -> None:
    grid = Grid(qtbot, cache, photos(PAGE, score=0.3125), None)
    grid.show(None)
    index = grid.model.index(4, 0)
    assert not grid.model.data(index, Qt.ItemDataRole.ToolTipRole)  # not made for every row up front
    cell = grid.view.visualRect(index)
    qtbot.mouseMove(grid.view.viewport(), cell.topLeft())
    qtbot.mouseMove(grid.view.viewport(), cell.center())
    qtbot.waitUntil(lambda: bool(grid.model.data(index, Qt.ItemDataRole.ToolTipRole)), timeout=WAIT_MS)
    assert grid.model.data(index, Qt.ItemDataRole.ToolTipRole) == "/photos/IMG_00004.jpg\n#4, similarity 0.312"


# Pictures ------------------------------------------------------------------------------------------------


def test_a_photo_without_a_size_in_the_catalog_takes_its_thumbnail_s_shape(
    qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path
) -> None:
    wide = tmp_path / "wide.jpg"
    Image.new("RGB", (400, 200), (200, 40, 40)).save(wide)
    grid = Grid(qtbot, cache, [SearchHit(100, str(wide), None, None), *photos(5)], None)
    grid.show(None)
    _, _, width, height = grid.rect(0)
    assert width == height  # square until its shape is known
    grid.model.want_thumbnails(grid.view.rows_on_screen())  # as the window does for the rows on screen
    qtbot.waitUntil(lambda: grid.model.data(grid.model.index(0, 0), Qt.ItemDataRole.DecorationRole) is not None)
    _, _, width, height = grid.rect(0)
    picture = grid.model.data(grid.model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    assert width == pytest.approx(2 * height, abs=2) and picture.size() == QSize(width, height)  # fills its cell
    assert picture.toImage().pixelColor(width // 2, height // 2).red() > 150


def test_a_selected_photo_is_framed_in_the_highlight_colour(
    qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path
) -> None:
    grey = tmp_path / "grey.jpg"
    Image.new("RGB", (300, 200), (128, 128, 128)).save(grey)
    grid = Grid(qtbot, cache, [SearchHit(100, str(grey), None, 1.5), *photos(5)], None)
    grid.show(None)
    grid.model.want_thumbnails(grid.view.rows_on_screen())
    index = grid.model.index(0, 0)

    def corner() -> QColor:
        picture = grid.model.data(index, Qt.ItemDataRole.DecorationRole)
        return picture.toImage().pixelColor(1, 1) if picture is not None else QColor()

    qtbot.waitUntil(lambda: corner().isValid(), timeout=WAIT_MS)
    assert abs(corner().red() - 128) < 10  # the photo itself, to its edge
    grid.view.setCurrentIndex(index)  # a click, or arrows: the current photo is selected
    highlight = grid.view.palette().color(QPalette.ColorRole.Highlight)
    assert corner() == highlight and grid.model.data(index, Qt.ItemDataRole.DecorationRole).size() == QSize(
        *grid.rect(0)[2:]
    )
    palette = grid.view.palette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor(200, 30, 30))
    grid.view.setPalette(palette)  # as a theme switch does
    assert corner() == QColor(200, 30, 30)
    grid.view.setCurrentIndex(grid.model.index(1, 0))
    assert abs(corner().red() - 128) < 10  # unframed again


def test_the_view_menu_shows_names_below_photos_and_remembers_it(qtbot: QtBot, home: Path) -> None:
    library = open_library(home)
    runner = TaskRunner(library)
    window = MainWindow(library, runner)
    qtbot.addWidget(window)
    try:
        view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
        action = next(a for a in view_menu.actions() if a.text() == "Show &names below photos")
        assert action is window.parts.results_view.names_action and not action.isChecked()
        action.trigger()
        window.close()  # saves the preferences
        assert load_prefs(library.paths).show_names
        window.apply_prefs(replace(window.prefs, show_names=False))
        assert not action.isChecked()
    finally:
        runner.shutdown()
        window.parts.thumbnails.wait()
        library.close()


@pytest.mark.parametrize(
    ("query", "reruns"), [("beach", False), ("beach tag:family", True), ('-tag:people album:"Summer"', True)]
)
def test_a_tag_or_album_change_runs_again_only_a_query_that_filters_by_them(
    qtbot: QtBot, home: Path, monkeypatch: pytest.MonkeyPatch, query: str, reruns: bool
) -> None:
    """Regression: every tag or album change ran the query again for every loaded row (after End, all of
    them), even when its results could not change."""
    library = open_library(home)
    runner = TaskRunner(library)
    window = MainWindow(library, runner)
    qtbot.addWidget(window)
    try:
        window.parts.search.field.set_query(query)
        runs: list[bool] = []
        monkeypatch.setattr(window.parts.search, "run_query", lambda keep_scroll=False: runs.append(keep_scroll))
        window.parts.state.changed.emit(Changes(tags=True, albums=True))
        assert runs == ([True] if reruns else [])
    finally:
        runner.shutdown()
        window.parts.thumbnails.wait()
        library.close()
