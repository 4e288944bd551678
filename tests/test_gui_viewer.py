"""The photo viewer offscreen, over a real library with the fake colour encoder: the decoded image and the
photo's details, keyboard navigation (paging in more results at the end), zoom, unreadable photos, stale
and read-ahead decodes, and the full-size decode that zooming past screen size asks for."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import WAIT_MS, make_photo
from PIL import ExifTags, Image
from PySide6.QtCore import QLocale, QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.dialogs.viewer import Viewer
from photosift.app.gui.widgets.photo_details import capture_time
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.gui.widgets.zoom_view import ZOOM_STEP
from photosift.app.tasks import TaskRunner
from photosift.core.imageio import CORRUPT
from photosift.core.library import Library
from photosift.core.search.records import SearchPage


def camera_photo(path: Path) -> Path:
    """A red 64x48 JPEG that a Pixel 7 took on 14 July 2023, turned upright by its EXIF (so 48x64)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Google"
    exif[ExifTags.Base.Model] = "Pixel 7"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2023:07:14 18:02:33"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "W", 4: (2.0, 21.0, 8.0)})
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), (220, 30, 30)).save(path, "JPEG", exif=exif)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    camera = camera_photo(root / "red" / "pixel.jpg")
    (root / "copies").mkdir()
    shutil.copyfile(camera, root / "copies" / "pixel-copy.jpg")  # the same photo twice: one photo, two paths
    for colour in ("red", "green", "blue"):
        for i in range(2):
            make_photo(root / colour / f"{colour}-{i}.jpg", colour)
    return root


@pytest.fixture
def library(home: Path, photos: Path) -> Iterator[Library]:
    library = open_library(home)
    library.add_folder(photos)
    library.scan()
    library.index()
    yield library
    library.close()


@pytest.fixture
def viewer(qtbot: QtBot, library: Library, home: Path) -> Iterator[Viewer]:
    runner = TaskRunner(library)
    thumbnails = ThumbnailCache(home / "cache" / "thumbnails")
    model = ResultsModel(thumbnails)
    model.reset(library.search("red", limit=50))
    viewer = Viewer(model, runner)
    qtbot.addWidget(viewer)
    viewer.show()
    yield viewer
    runner.shutdown()
    thumbnails.wait()


def open_at(qtbot: QtBot, viewer: Viewer, row: int) -> int:
    """Show `row` and wait for its decoded image; returns the photo id."""
    photo_id = viewer.model.hit(row).photo_id
    with qtbot.waitSignal(viewer.image_shown, timeout=WAIT_MS, check_params_cb=lambda shown: shown == photo_id):
        viewer.show_row(row)
    return photo_id


def row_of(viewer: Viewer, *names: str) -> int:
    """The row of the photo with one of these file names (a photo with copies is shown by any one)."""
    return next(row for row, hit in enumerate(viewer.model.hits()) if Path(hit.path).name in names)


def test_shows_the_image_and_the_photos_details(qtbot: QtBot, viewer: Viewer, photos: Path) -> None:
    row = row_of(viewer, "pixel.jpg", "pixel-copy.jpg")
    hit = viewer.model.hit(row)
    name = Path(hit.path).name
    open_at(qtbot, viewer, row)
    assert viewer.zoom_view.pixmap().size() == QSize(48, 64)  # upright, as the camera held it
    assert viewer.stack.currentWidget() is viewer.zoom_view and viewer.zoom_view.fitted
    assert viewer.windowTitle().startswith(name)
    assert viewer.position_label.text() == f"{row + 1} of {viewer.model.rowCount()}"

    details = viewer.details
    qtbot.waitUntil(lambda: details.camera.text() == "Google Pixel 7", timeout=WAIT_MS)
    assert details.name.text() == name and details.path.text() == hit.path
    assert "2023" in details.taken.text() and ("18:02" in details.taken.text() or "6:02" in details.taken.text())
    assert details.pixels.text() == "48 x 64"
    size = Path(hit.path).stat().st_size
    assert details.file_size.text() == QLocale().formattedDataSize(size, 1, QLocale.DataSizeFormat.DataSizeSIFormat)
    assert details.location.text() == "48.85667, -2.35222"
    copies = {str(photos / "red" / "pixel.jpg"), str(photos / "copies" / "pixel-copy.jpg")}
    assert details.copies.text() == (copies - {hit.path}).pop()
    assert details.path.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert viewer.accessibleName() and viewer.zoom_view.accessibleName() and details.camera.accessibleName()


def test_a_small_photo_is_shown_at_100_percent_on_a_dark_backdrop(qtbot: QtBot, viewer: Viewer) -> None:
    viewer.resize(1000, 700)
    open_at(qtbot, viewer, 0)  # a 64 x 48 photo in a large window: fitting it would blow it up tenfold
    view = viewer.zoom_view
    assert view.fitted and view.zoom == pytest.approx(1.0) and viewer.zoom_label.text() == "Fit (100%)"
    assert view.backgroundBrush().color().lightness() < 40  # dark whatever the theme's palette says


def test_details_of_a_photo_without_metadata_say_unknown_and_date_it_by_its_file(qtbot: QtBot, viewer: Viewer) -> None:
    row = row_of(viewer, "red-0.jpg")
    open_at(qtbot, viewer, row)
    details = viewer.details
    qtbot.waitUntil(lambda: details.pixels.text() == "64 x 48", timeout=WAIT_MS)
    modified = datetime.fromtimestamp(Path(viewer.model.hit(row).path).stat().st_mtime)
    assert details.taken.text() == f"{capture_time(QLocale(), modified)} (date from file)"
    assert details.camera.text() == "unknown"
    assert not details.location.isVisibleTo(viewer) and not details.copies.isVisibleTo(viewer)


def test_every_line_of_the_place_and_marks_shows_once_they_arrive(qtbot: QtBot, viewer: Viewer) -> None:
    viewer.resize(1176, 760)  # the details column at its usual width: the place takes two lines there
    open_at(qtbot, viewer, row_of(viewer, "red-0.jpg"))
    why = viewer.why
    qtbot.waitUntil(lambda: why.place.text() not in ("", "…") and why.marks.text() != "…", timeout=WAIT_MS)
    qtbot.wait(50)  # the layout requests their new texts posted
    assert why.place.heightForWidth(why.place.width()) > why.place.fontMetrics().height()  # two lines, or more
    for label in (why.place, why.marks, why.why):
        assert label.height() >= label.heightForWidth(label.width()), label.accessibleName()
    # The details above and these lines are two layouts, and their values start at one x all the same.
    starts = {label.mapTo(viewer, QPoint(0, 0)).x() for label in (viewer.details.path, why.place, why.why)}
    assert len(starts) == 1, starts


def test_keys_move_between_results(qtbot: QtBot, viewer: Viewer) -> None:
    open_at(qtbot, viewer, 0)
    shown: list[int] = []
    viewer.image_shown.connect(shown.append)
    last = viewer.model.rowCount() - 1
    steps = [
        (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier, 1),
        (Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, 2),
        (Qt.Key.Key_Down, Qt.KeyboardModifier.NoModifier, 3),
        (Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier, 2),
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier, 1),
        (Qt.Key.Key_End, Qt.KeyboardModifier.NoModifier, last),
        (Qt.Key.Key_Home, Qt.KeyboardModifier.NoModifier, 0),
    ]
    for key, modifier, row in steps:
        with qtbot.waitSignal(viewer.row_changed, timeout=WAIT_MS) as moved:
            qtbot.keyClick(viewer, key, modifier)
        assert moved.args == [row] and viewer.row == row
        assert viewer.details.path.text() == viewer.model.hit(row).path
    with qtbot.assertNotEmitted(viewer.row_changed):
        qtbot.keyClick(viewer, Qt.Key.Key_Up)  # already at the first result
    assert viewer.row == 0
    first = viewer.model.hit(0).photo_id
    qtbot.waitUntil(lambda: shown[-1:] == [first], timeout=WAIT_MS)  # the keys stopped there: its image is up


def test_next_at_the_end_of_the_loaded_rows_fetches_more(qtbot: QtBot, viewer: Viewer, library: Library) -> None:
    model = viewer.model
    model.reset(library.search("green", limit=2))
    model.more_wanted.connect(lambda offset: model.append(library.search("green", offset=offset, limit=2)))
    open_at(qtbot, viewer, 1)
    assert viewer.position_label.text() == "2 of 2+"
    with qtbot.waitSignal(viewer.row_changed, timeout=WAIT_MS) as moved:
        qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert moved.args == [2] and model.rowCount() == 4 and viewer.row == 2
    assert viewer.position_label.text() == "3 of 4+"


def test_escape_closes_and_enter_asks_to_open(qtbot: QtBot, viewer: Viewer) -> None:
    open_at(qtbot, viewer, 0)
    path = viewer.model.hit(0).path
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        with qtbot.waitSignal(viewer.open_requested, timeout=WAIT_MS) as opened:
            qtbot.keyClick(viewer, key)
        assert opened.args == [path]
    with qtbot.waitSignal(viewer.closed, timeout=WAIT_MS):
        qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible() and viewer.row == -1 and viewer.images.kept(viewer.model.hit(0).photo_id) is None


def test_zoom_keys_and_ctrl_wheel(qtbot: QtBot, viewer: Viewer) -> None:
    open_at(qtbot, viewer, 0)
    view = viewer.zoom_view
    fit = view.zoom
    assert fit is not None and view.fitted and viewer.zoom_label.text() == f"Fit ({fit:.0%})"

    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert not view.fitted and view.zoom == pytest.approx(fit * ZOOM_STEP)
    assert viewer.zoom_label.text() == f"{fit * ZOOM_STEP:.0%}"
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    assert view.zoom == pytest.approx(fit / ZOOM_STEP)
    qtbot.keyClick(viewer, Qt.Key.Key_1)
    assert view.zoom == pytest.approx(1.0) and viewer.zoom_label.text() == "100%"

    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        QPointF(view.viewport().mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom == pytest.approx(ZOOM_STEP)

    qtbot.keyClick(viewer, Qt.Key.Key_0)
    assert view.fitted and view.zoom == pytest.approx(fit)


def test_an_unreadable_photo_shows_why_and_the_keys_still_work(qtbot: QtBot, viewer: Viewer) -> None:
    row = row_of(viewer, "red-1.jpg")
    path = Path(viewer.model.hit(row).path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # damaged since it was indexed
    with qtbot.waitSignal(viewer.images.failed, timeout=WAIT_MS):
        viewer.show_row(row)
    assert viewer.stack.currentWidget() is viewer.message and viewer.message.isVisibleTo(viewer)
    assert viewer.message.text() == f"This photo cannot be shown: {CORRUPT}."

    step = 1 if row + 1 < viewer.model.rowCount() else -1
    neighbour = viewer.model.hit(row + step).photo_id
    with qtbot.waitSignal(viewer.image_shown, timeout=WAIT_MS, check_params_cb=lambda shown: shown == neighbour):
        qtbot.keyClick(viewer, Qt.Key.Key_Right if step == 1 else Qt.Key.Key_Left)
    assert viewer.stack.currentWidget() is viewer.zoom_view and viewer.row == row + step


def test_a_photo_left_behind_is_never_shown(qtbot: QtBot, viewer: Viewer) -> None:
    shown: list[int] = []
    viewer.image_shown.connect(shown.append)
    first, second = viewer.model.hit(0).photo_id, viewer.model.hit(1).photo_id
    with qtbot.waitSignal(viewer.image_shown, timeout=WAIT_MS, check_params_cb=lambda shown: shown == second):
        viewer.show_row(0)
        viewer.show_row(1)  # before the first photo's decode is delivered
    assert shown == [second] and first not in shown


def test_the_next_photo_is_decoded_ahead(qtbot: QtBot, viewer: Viewer) -> None:
    open_at(qtbot, viewer, 0)
    ahead = viewer.model.hit(1).photo_id
    qtbot.waitUntil(lambda: viewer.images.kept(ahead) is not None, timeout=WAIT_MS)
    shown: list[int] = []
    viewer.image_shown.connect(shown.append)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert shown == [ahead]  # at once, without waiting for a decode


def test_the_photo_on_show_follows_a_refresh_of_the_results(qtbot: QtBot, viewer: Viewer) -> None:
    photo_id = open_at(qtbot, viewer, 0)
    page = SearchPage(tuple(reversed(viewer.model.hits())), 0, 50, False)
    last = len(page.hits) - 1
    with qtbot.waitSignal(viewer.row_changed, timeout=WAIT_MS) as moved:
        viewer.model.reset(page)
    assert moved.args == [last] and viewer.row == last
    with qtbot.assertNotEmitted(viewer.image_shown):  # the same photo: nothing reloads
        viewer.show_row(last)
    assert viewer.model.hit(viewer.row).photo_id == photo_id


def test_zooming_past_screen_size_decodes_the_full_photo(qtbot: QtBot, viewer: Viewer, library: Library) -> None:
    side = viewer.screen().size() * viewer.screen().devicePixelRatio()
    size = (4 * max(side.width(), side.height()), 3 * max(side.width(), side.height()))
    big = Path(library.folders()[0].path) / "red" / "big.jpg"
    Image.new("RGB", size, (220, 30, 30)).save(big, "JPEG")
    library.scan()
    library.index()
    viewer.model.reset(library.search("red", limit=50))
    photo_id = open_at(qtbot, viewer, row_of(viewer, big.name))
    decoded = viewer.zoom_view.pixmap().width()
    assert decoded < size[0] and viewer.zoom_view.fitted  # decoded at about screen size

    with qtbot.waitSignal(viewer.image_shown, timeout=WAIT_MS, check_params_cb=lambda shown: shown == photo_id):
        qtbot.keyClick(viewer, Qt.Key.Key_1)
    assert viewer.zoom_view.pixmap().width() == size[0]
    assert viewer.zoom_view.zoom == pytest.approx(1.0) and not viewer.zoom_view.fitted  # the zoom stayed


def test_results_emptied_under_the_viewer_close_it(qtbot: QtBot, viewer: Viewer) -> None:
    open_at(qtbot, viewer, 0)
    with qtbot.waitSignal(viewer.closed, timeout=WAIT_MS):
        viewer.model.reset(None)
    assert not viewer.isVisible() and viewer.row == -1
    viewer.show_row(0)  # no rows: nothing to show
    assert viewer.row == -1
