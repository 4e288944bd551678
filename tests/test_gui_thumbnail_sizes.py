"""Grid cells are never drawn from a thumbnail smaller than the cell: the justified layout's tallest line,
at the largest thumbnail size the View menu allows, is covered by the thumbnail the cache chooses, made by
the real cache code from photos of common shapes, on plain and 2x screens; small grids keep their small
thumbnails."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WAIT_MS
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QPixmap
from pytestqt.qtbot import QtBot

from photosift.app.gui.prefs import THUMBNAIL_MAX, THUMBNAIL_MIN
from photosift.app.gui.widgets import thumbnails
from photosift.app.gui.widgets.grid_geometry import GridGeometry
from photosift.app.gui.widgets.justified import clamp_aspect, justify
from photosift.app.gui.widgets.results_grid import ResultsView
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.thumbnails import SMALL_LINE, TIERS, ThumbnailCache, thumbnail_size, tier_for
from photosift.core.search.records import SearchHit, SearchPage

SHAPES = {"3:2": (3000, 2000), "16:9": (3200, 1800), "2:3": (2000, 3000)}  # landscape, wide, portrait
ASPECTS = (1.5, 2 / 3, 4 / 3, 1.0, 3.0, 0.75, 16 / 9, 4.0, 0.25)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ThumbnailCache]:
    cache = ThumbnailCache(tmp_path / "thumbnails")
    yield cache
    cache.wait()


def tallest_line(height: int) -> int:
    """The tallest line the justified layout makes at target `height`, over windows narrow to wide."""
    tallest = 0
    for width in (400, 600, 900, 1100, 1400, 1920):
        for seed in range(20):
            rng = random.Random(seed)
            aspects: list[float | None] = [rng.choice(ASPECTS) for _ in range(200)]
            tallest = max(tallest, max(h for _, h in justify(aspects, width, height, 4, 36).sizes))
    return tallest


def picture(qtbot: QtBot, cache: ThumbnailCache, photo_id: int, path: Path) -> QPixmap:
    with qtbot.waitSignal(cache.ready, timeout=WAIT_MS):
        assert cache.picture(photo_id, str(path)) is None  # made in the background
    made = cache.picture(photo_id, str(path))
    assert made is not None
    return made


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_the_largest_cells_are_drawn_from_a_thumbnail_at_least_their_size(
    qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path, ratio: float
) -> None:
    line = tallest_line(THUMBNAIL_MAX)
    cache.fit_to(THUMBNAIL_MAX, ratio)
    for photo_id, (shape, size) in enumerate(SHAPES.items()):
        path = tmp_path / f"{shape.replace(':', 'x')}.jpg"
        Image.new("RGB", size, (120, 90, 60)).save(path)
        # The widest cell the line gives the photo: its aspect, and a pixel more that rounding may add.
        cell = (round(clamp_aspect(size[0] / size[1]) * line) + 1) * ratio, line * ratio  # device pixels
        made = picture(qtbot, cache, photo_id, path)
        assert made.width() >= cell[0] and made.height() >= cell[1], (shape, made.size(), cell)
    assert cache.size < TIERS[-1] or ratio > 1  # a plain screen needs no more than the tier below the top


def test_every_allowed_size_and_shape_is_covered_and_small_grids_stay_small() -> None:
    for target in range(THUMBNAIL_MIN, THUMBNAIL_MAX + 1, 16):  # the settings slider's steps
        line, tier = tallest_line(target), tier_for(target)
        for aspect in ASPECTS:
            width, height = round(4000 * min(1, aspect)), round(4000 / max(1, aspect))  # a large photo
            made = thumbnail_size(width, height, tier)
            assert made[1] >= line and made[0] >= round(clamp_aspect(aspect) * line), (target, aspect, made)
    assert tier_for(THUMBNAIL_MIN) == SMALL_LINE
    assert thumbnail_size(3000, 2000, SMALL_LINE) == (192, 128)  # as small as they always were
    assert thumbnail_size(2000, 3000, SMALL_LINE) == (128, 192)


def test_the_grid_fits_the_cache_to_its_line_height_and_screen(cache: ThumbnailCache) -> None:
    model = ResultsModel(cache)
    model.set_geometry(GridGeometry(line=1000, height=THUMBNAIL_MIN))
    assert cache.size == SMALL_LINE
    model.set_geometry(GridGeometry(line=1000, height=THUMBNAIL_MAX, ratio=2.0))
    assert cache.size == TIERS[-1]
    cache.fit_to(THUMBNAIL_MIN)  # as the View menu does, not knowing the screen: the last ratio holds
    assert cache.size == tier_for(THUMBNAIL_MIN, 2.0) > SMALL_LINE


def test_a_thumbnail_cached_at_an_old_size_is_not_served(qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path) -> None:
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (3200, 1800), (200, 40, 40)).save(path)
    cache.cache_dir.mkdir(parents=True)
    Image.new("RGB", (384, 216), (0, 0, 255)).save(cache.cache_dir / "1-384.jpg")  # the old large size
    cache.fit_to(THUMBNAIL_MAX)
    made = picture(qtbot, cache, 1, path)
    assert made.height() >= THUMBNAIL_MAX and made.toImage().pixelColor(10, 10).red() > 150


def test_a_thumbnail_made_for_the_tier_before_is_not_kept(qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (3000, 2000), (120, 90, 60)).save(path)
    cache.fit_to(THUMBNAIL_MIN)
    assert cache.picture(1, str(path)) is None
    cache.wait()  # made at the small tier, and on its way to the cache
    cache.fit_to(THUMBNAIL_MAX)
    assert picture(qtbot, cache, 1, path).height() >= tallest_line(THUMBNAIL_MAX)


def test_large_thumbnails_are_fewer_in_memory(
    qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(thumbnails, "MEMORY_PIXELS", 2 * 768 * 512)  # two of the 3:2 photos at tier 512
    cache.fit_to(THUMBNAIL_MAX)
    dropped: list[int] = []
    cache.dropped.connect(dropped.append)
    for photo_id in range(3):
        path = tmp_path / f"{photo_id}.jpg"
        Image.new("RGB", (3000, 2000), (120, 90, 60)).save(path)
        picture(qtbot, cache, photo_id, path)
    assert dropped == [0] and cache.preview(0) is None and cache.preview(2) is not None


def test_a_screen_of_another_pixel_ratio_gets_pictures_of_its_tier(
    qtbot: QtBot, cache: ThumbnailCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (3000, 2000), (120, 90, 60)).save(path)
    model = ResultsModel(cache)
    view = ResultsView(model)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.set_line_height(THUMBNAIL_MAX)
    view.show()
    model.reset(SearchPage((SearchHit(1, str(path), None, 1.5),), 0, 1, False))
    qtbot.waitUntil(lambda: view.contentsSize().height() > 0, timeout=WAIT_MS)  # laid out

    def shown_ratio() -> float:
        shown = model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole)
        return 0.0 if shown is None else shown.devicePixelRatio()

    model.want_thumbnails(view.rows_on_screen())
    qtbot.waitUntil(lambda: shown_ratio() == 1.0, timeout=WAIT_MS)
    assert cache.size == tier_for(THUMBNAIL_MAX)
    monkeypatch.setattr(view, "devicePixelRatioF", lambda: 2.0)  # the window was dragged to a 2x screen
    QCoreApplication.sendEvent(view, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert cache.size == tier_for(THUMBNAIL_MAX, 2.0) == TIERS[-1]
    qtbot.waitUntil(lambda: shown_ratio() == 2.0, timeout=WAIT_MS)  # made again, sharp on that screen
