"""The grid's favourite and star badges: drawn into a shown photo's picture (no Python per paint), read
from the catalog for each page of results, and redrawn when the person marks photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_photo
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, make_window
from test_gui_grid import Grid
from test_gui_grid import photos as hits
from test_library import open_library

from photosift.app.gui.widgets.mark_badges import BADGE_MARGIN, badge_text
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.core.catalog.marks import PhotoMarks
from photosift.core.library import Library
from photosift.core.search.records import SearchHit


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ThumbnailCache]:
    cache = ThumbnailCache(tmp_path / "thumbnails")
    yield cache
    cache.wait()


@pytest.fixture
def indexed(home: Path, tmp_path: Path) -> Iterator[Library]:
    for colour in ("red", "blue", "green"):
        make_photo(tmp_path / "photos" / f"{colour}.jpg", colour)
    library = open_library(home)
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    yield library
    library.close()


def test_a_badge_says_favourite_and_stars() -> None:
    assert badge_text(PhotoMarks()) == ""
    assert badge_text(PhotoMarks(favourite=True)) == "\u2665"
    assert badge_text(PhotoMarks(rating=4)) == "\u26054"
    assert badge_text(PhotoMarks(favourite=True, rating=5)) == "\u2665 \u26055"


def test_a_badge_is_drawn_in_the_pictures_top_right_corner_and_taken_off_again(
    qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path
) -> None:
    grey = tmp_path / "grey.jpg"
    Image.new("RGB", (300, 200), (128, 128, 128)).save(grey)
    grid = Grid(qtbot, cache, [SearchHit(100, str(grey), None, 1.5), *hits(5)], None)
    grid.show(None)
    grid.model.want_thumbnails(grid.view.rows_on_screen())
    index = grid.model.index(0, 0)

    def corner() -> QColor:
        picture = grid.model.data(index, Qt.ItemDataRole.DecorationRole)
        if picture is None:
            return QColor()
        x = int(picture.deviceIndependentSize().width()) - BADGE_MARGIN - 2
        return picture.toImage().pixelColor(x, BADGE_MARGIN + 2)

    qtbot.waitUntil(lambda: corner().isValid(), timeout=WAIT_MS)
    assert abs(corner().red() - 128) < 10 and 100 in grid.model.photos_without_badges()

    grid.model.set_badges({100: badge_text(PhotoMarks(favourite=True))})
    assert corner().red() < 90 and 100 not in grid.model.photos_without_badges()  # the dark plate
    grid.model.set_badges({100: ""})
    assert abs(corner().red() - 128) < 10


def test_the_window_badges_marked_photos_and_follows_new_marks(qtbot: QtBot, indexed: Library) -> None:
    first, second = (hit.photo_id for hit in indexed.search("red", limit=2).hits)
    indexed.marks.set_rating([first], 4)
    window, runner, _ = make_window(qtbot, indexed)
    try:
        model = window.parts.results_model
        qtbot.waitUntil(lambda: model.badge(first) == "\u26054", timeout=WAIT_MS)
        assert model.photos_without_badges() == [] and model.badge(second) == ""

        window.parts.marker.toggle_favourite([second])

        qtbot.waitUntil(lambda: window.parts.results_model.badge(second) == "\u2665", timeout=WAIT_MS)
    finally:
        window.close()
        runner.shutdown()
