"""The desktop app offscreen, over a real library with the fake colour encoder: live search, inline query
errors, paging, find similar, dropping an image, adding a folder through the task runner, thumbnails in
the cache, errors delivered on the GUI thread, and the `photosift` entry without a display."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import TEST_MODELS, WAIT_MS, make_photo, make_window, open_window
from PIL import Image
from PySide6.QtCore import QDate, QLocale, QMimeData, QModelIndex, QPoint, QPointF, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QGuiApplication, QPixmap
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.cli import run
from photosift.app.gui import main_window as main_window_module
from photosift.app.gui.app import ExceptionHook, run_gui
from photosift.app.gui.controllers import search as search_controller
from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.presenter import CHECK_DISK
from photosift.app.gui.widgets import thumbnails as thumbnails_module
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.thumbnails import (
    SMALL_LINE,
    THUMB_SIZE,
    ThumbnailCache,
    prune_thumbnails,
    unreadable_picture,
)
from photosift.app.priority import BACKGROUND_NICE
from photosift.app.tasks import TaskRunner
from photosift.core.errors import Cancelled, EnvironmentFault
from photosift.core.library import Library
from photosift.core.progress import Progress
from photosift.core.protocol import EXIT_ENVIRONMENT
from photosift.core.search.records import SearchHit, SearchPage
from photosift.core.settings import Paths, Settings

COLOURS = ("red", "green", "blue")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for colour in COLOURS:
        for i in range(3):
            make_photo(root / colour / f"{colour}-{i}.jpg", colour)
    return root


@pytest.fixture
def library(home: Path) -> Iterator[Library]:
    library = open_library(home)
    yield library
    library.close()


@pytest.fixture
def indexed(library: Library, photos: Path) -> Library:
    library.add_folder(photos)
    library.scan()
    library.index()
    return library


@pytest.fixture
def window(qtbot: QtBot, indexed: Library) -> Iterator[MainWindow]:
    with open_window(qtbot, indexed) as (win, _):
        yield win


def search(qtbot: QtBot, window: MainWindow, text: str) -> list[str]:
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.search_for(text)
    return [hit.path for hit in window.parts.results_model.hits()]


def colour_of(path: str) -> str:
    return Path(path).parent.name


def test_typing_searches_after_a_pause(qtbot: QtBot, window: MainWindow) -> None:
    timeline = window.parts.results_model.hits()
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        qtbot.keyClicks(window.parts.search_field, "red")
        assert window.parts.results_model.hits() == timeline  # debounced: nothing until typing pauses
    paths = [hit.path for hit in window.parts.results_model.hits()]
    assert len(paths) == 9 and [colour_of(p) for p in paths[:3]] == ["red"] * 3
    spoken = window.parts.results_model.data(window.parts.results_model.index(0, 0), Qt.ItemDataRole.AccessibleTextRole)
    assert spoken.startswith(Path(paths[0]).name)  # names show on hover; screen readers read them always
    assert window.parts.search_field.accessibleName() and window.parts.results_view.accessibleName()


def test_the_empty_field_shows_every_photo_newest_first_under_month_headings(
    qtbot: QtBot, library: Library, photos: Path
) -> None:
    months = {"red": datetime(2024, 3, 9), "green": datetime(2024, 1, 20), "blue": datetime(2023, 12, 5)}
    for path in photos.rglob("*.jpg"):  # no capture dates: the timeline goes by the files' times
        stamp = months[colour_of(str(path))].timestamp()
        os.utime(path, (stamp, stamp))
    library.add_folder(photos)
    library.scan()
    window, runner, _ = make_window(qtbot, library)  # photos not yet indexed are on the timeline too
    try:
        window.show()
        qtbot.waitExposed(window)
        model = window.parts.results_model
        headings = [model.data(model.index(r, 0)) for r in range(model.rowCount()) if model.hit_at(r) is None]
        assert headings == [QLocale().toString(QDate(d.year, d.month, 1), "MMMM yyyy") for d in months.values()]
        assert [colour_of(h.path) for h in model.hits()] == ["red"] * 3 + ["green"] * 3 + ["blue"] * 3
        assert model.rowCount() == 12 and model.hit_count() == 9
        assert window.parts.count_label.text() == "9 photos, newest first"
        heading = window.parts.results_view.visualRect(model.index(4, 0))  # "January 2024", a line of its own
        assert heading.width() > 3 * window.parts.results_view.iconSize().width()
        assert window.parts.results_view.visualRect(model.index(5, 0)).top() > heading.bottom()
        window.open_viewer(3)  # the last red photo; the next is past a heading
        window.parts.viewer.show_next()
        assert window.parts.viewer.row == 5 and window.parts.viewer.position_label.text() == "4 of 9"
        window.parts.viewer.close()
        search(qtbot, window, "after:2090")
        assert model.rowCount() == 0 and window.parts.count_label.text().startswith("No photos match “after:2090”")
        search(qtbot, window, "")
        assert model.hit_count() == 9 and model.hit_at(0) is None  # back to the timeline
    finally:
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_the_status_bar_tells_the_truth_while_indexing(
    qtbot: QtBot, indexed: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_window_module, "REFRESH_MS", 1)
    window, runner, _ = make_window(qtbot, indexed)
    try:
        window.resize(900, 600)
        window.show()
        qtbot.waitExposed(window)
        window.parts.progress_status.set_state("running")
        window.parts.indexing.state = "running"
        with qtbot.waitSignal(window.library_status_shown, timeout=WAIT_MS):  # the count follows the run
            window.parts.runner.progress.emit(Progress("index", 3, 9, 25.0, 0.24))
        assert window.parts.summary_label.text() == "9 photos indexed"
        assert window.parts.progress_status.label.text() == "Indexing 3/9 photos, 25 photos/s, almost done"
        window.parts.runner.progress.emit(Progress("tag-vectors", 0, 462))  # reported at its start and end only
        assert window.parts.progress_status.label.text() == "Preparing tags (462 tags)…"
        assert window.parts.progress_status.bar.maximum() == 0  # a busy bar, not 0 % standing still
        window.parts.runner.progress.emit(Progress("download", 120 * 2**20, 350 * 2**20, None, 200.0))
        label, summary = window.parts.progress_status.label, window.parts.summary_label
        qtbot.waitUntil(lambda: label.width() >= label.sizeHint().width())
        assert summary.width() >= summary.sizeHint().width()  # nothing cut off at 900 px
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_the_viewer_opens_centred_over_the_main_window(qtbot: QtBot, window: MainWindow) -> None:
    screen = window.screen().availableGeometry()
    window.resize(screen.width() * 3 // 4, screen.height() * 3 // 4)
    window.move(screen.left() + screen.width() // 5, screen.top() + screen.height() // 5)
    window.show()
    qtbot.waitExposed(window)
    window.parts.viewer.resize(screen.width() // 2, screen.height() // 2)
    window.open_viewer(1)
    qtbot.waitExposed(window.parts.viewer)
    offset = window.parts.viewer.frameGeometry().center() - window.frameGeometry().center()
    assert offset.manhattanLength() <= 10  # the frame, unknown until the window is shown
    window.parts.viewer.close()


def test_the_count_line_says_how_a_partly_loaded_result_is_ordered(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_controller, "FIRST_PAGE", 4)
    search(qtbot, window, "red")
    assert window.parts.count_label.text() == "The 4 best matches so far; more load as you scroll"
    search(qtbot, window, "folder:photos")  # filters only: every photo of the folder, newest first
    assert window.parts.count_label.text() == "The first 4 matching photos, newest first; more load as you scroll"


def test_invalid_query_shows_an_inline_error_and_keeps_results(qtbot: QtBot, window: MainWindow) -> None:
    search(qtbot, window, "red")
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as shown:
        qtbot.keyClicks(window.parts.search_field, " +")
    assert "Expected a term after the '+'" in shown.args[0]
    assert window.parts.error_label.isVisibleTo(window) and window.parts.results_model.rowCount() == 9
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as cleared:
        window.search_for("blue")
    assert cleared.args == [""] and not window.parts.error_label.isVisibleTo(window)


def test_results_load_page_by_page(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_controller, "FIRST_PAGE", 4)
    monkeypatch.setattr(search_controller, "NEXT_PAGE", 4)
    assert len(search(qtbot, window, "green")) == 4
    for expected in (8, 9):  # the view may ask for the next page itself once the first is laid out
        if window.parts.results_model.canFetchMore(QModelIndex()):
            window.parts.results_model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda n=expected: window.parts.results_model.rowCount() >= n, timeout=WAIT_MS)
    assert not window.parts.results_model.canFetchMore(QModelIndex())
    assert len({hit.photo_id for hit in window.parts.results_model.hits()}) == 9


def test_context_menu_finds_similar_and_opens(qtbot: QtBot, indexed: Library) -> None:
    window, runner, opened = make_window(qtbot, indexed)
    try:
        first = search(qtbot, window, "blue")[0]
        hit = window.parts.results_model.hit(0)
        actions = {a.text().replace("&", ""): a for a in window.parts.photo_actions.menu([hit]).actions() if a.text()}
        assert {"Find similar images", "Open in default app", "Show in folder", "Copy path"} <= set(actions)

        actions["Open in default app"].trigger()
        actions["Show in folder"].trigger()
        assert [u.toLocalFile() for u in opened] == [first, str(Path(first).parent)]
        actions["Copy path"].trigger()
        assert QGuiApplication.clipboard().text() == first

        with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
            actions["Find similar images"].trigger()
        assert window.query_text() == f"#{hit.photo_id}"
        query, *similar = window.parts.results_model.hits()  # the photo itself first, as the query
        assert query.photo_id == hit.photo_id and len(similar) == 8
        assert hit.photo_id not in {h.photo_id for h in similar}
        assert [colour_of(h.path) for h in similar[:2]] == ["blue", "blue"]
    finally:
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_dropping_an_outside_image_searches_for_similar(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    outside = make_photo(tmp_path / "elsewhere" / "query.jpg", "green")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(outside))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    not_image = QMimeData()
    not_image.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    refused = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, not_image, Qt.MouseButton.LeftButton, Qt.NoModifier
    )
    refused.ignore()
    window.dragEnterEvent(refused)
    assert not refused.isAccepted()

    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.dropEvent(drop)
    assert window.query_text() == str(outside)
    paths = [hit.path for hit in window.parts.results_model.hits()]
    assert len(paths) == 9 and [colour_of(p) for p in paths[:3]] == ["green"] * 3


def test_an_image_file_chosen_from_the_file_menu_searches_for_similar(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = make_photo(tmp_path / "elsewhere" / "query.jpg", "green")
    asked: list[str] = []

    def pick(*args: object) -> tuple[str, str]:
        asked.extend([str(args[-2]), str(args[-1])])  # the folder it opens in, and the filter
        return str(outside), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    (action,) = [a for a in window.findChildren(QAction) if a.text() == "Find photos like an &image file…"]
    assert action.shortcut().toString() == "Ctrl+Shift+O"
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        action.trigger()
    assert "*.jpg" in asked[1] and window.query_text() == str(outside)
    paths = [hit.path for hit in window.parts.results_model.hits()]
    assert [colour_of(p) for p in paths[:3]] == ["green"] * 3
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *args: asked.append(args[-2]) or ("", "")))
    action.trigger()  # cancelled: the search stays
    assert window.query_text() == str(outside) and asked[-1] == str(outside.parent)  # it opens where the last was


def test_the_folder_chooser_opens_in_the_pictures_folder_then_beside_the_last_folder_added(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photosift.app.gui.dialogs.welcome import ask_folder
    from photosift.app.gui.start_folders import pictures_folder

    opened_in: list[str] = []
    picked = tmp_path / "Trips" / "Lisbon"
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *args: opened_in.append(args[-1]) or str(picked))
    )
    monkeypatch.setattr(window, "add_folder", lambda path: None)
    window.choose_folder()
    window.choose_folder()
    assert ask_folder(window) == picked  # the welcome's chooser
    assert opened_in == [pictures_folder(), str(picked.parent), pictures_folder()] and pictures_folder()


def test_adding_a_folder_indexes_it_in_the_background(qtbot: QtBot, library: Library, photos: Path) -> None:
    window, runner, _ = make_window(qtbot, library)
    reports, shown = [], []
    runner.progress.connect(reports.append)
    progress = window.parts.progress_status
    window.parts.indexing.state_changed.connect(lambda _: shown.append(progress.isVisibleTo(window)))
    try:
        assert search(qtbot, window, "green") == []
        with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
            window.add_folder(photos)
        assert finished.args[0].report.embedded == 9
        assert shown == [True, False]  # the progress shows while the run goes, and hides after
        assert any(p.stage == "index" and p.done == 9 and p.total == 9 for p in reports)
        qtbot.waitUntil(lambda: window.parts.results_model.rowCount() == 9, timeout=WAIT_MS)
        assert [colour_of(h.path) for h in window.parts.results_model.hits()[:3]] == ["green"] * 3
        assert not window.parts.progress_status.isVisibleTo(window)
        qtbot.waitUntil(lambda: "9 photos indexed" in window.parts.summary_label.text(), timeout=WAIT_MS)
    finally:
        runner.shutdown()
        window.parts.thumbnails.wait()


def test_adding_a_missing_folder_reports_it(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        window.add_folder(tmp_path / "no-such-folder")
    assert "does not exist" in str(finished.args[0])
    assert "does not exist" in window.statusBar().currentMessage()


def test_ops_deliver_results_and_errors_on_the_gui_thread(qtbot: QtBot, indexed: Library) -> None:
    runner = TaskRunner(indexed)
    seen: list[tuple[str, object, threading.Thread]] = []
    workers: list[threading.Thread] = []

    def fail(_: Library) -> None:
        workers.append(threading.current_thread())
        raise ValueError("broken op")

    def record(kind: str) -> object:
        return lambda value: seen.append((kind, value, threading.current_thread()))

    try:
        runner.run_op(fail, record("done"), record("error"))
        runner.run_op(lambda lib: len(lib.folders()), record("done"), record("error"), writes=True)
        runner.run_op(fail, record("done"), record("error"), writes=True)
        qtbot.waitUntil(lambda: len(seen) == 3, timeout=WAIT_MS)
    finally:
        runner.shutdown()
    errors = [value for kind, value, _ in seen if kind == "error"]
    assert len(errors) == 2 and all(isinstance(e, ValueError) and str(e) == "broken op" for e in errors)
    assert ("done", 1) in [(kind, value) for kind, value, _ in seen]
    assert {thread for _, _, thread in seen} == {threading.main_thread()}
    assert threading.main_thread() not in workers


def test_write_ops_run_one_at_a_time_on_one_thread(qtbot: QtBot, indexed: Library) -> None:
    runner = TaskRunner(indexed)
    threads: set[int] = set()
    running, overlaps, finished = [0], [0], []
    lock = threading.Lock()

    def write(_: Library) -> None:
        with lock:
            running[0] += 1
            overlaps[0] = max(overlaps[0], running[0])
        threads.add(threading.get_ident())
        indexed.scan()  # real work, long enough that a second thread would overlap
        with lock:
            running[0] -= 1

    try:
        for _ in range(4):
            runner.run_op(write, finished.append, pytest.fail, writes=True)
        qtbot.waitUntil(lambda: len(finished) == 4, timeout=WAIT_MS)
    finally:
        runner.shutdown()
    assert overlaps[0] == 1 and len(threads) == 1 and threading.get_ident() not in threads


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux sets priorities per thread")
def test_ops_and_the_threads_they_start_run_below_the_gui_threads_priority(qtbot: QtBot, indexed: Library) -> None:
    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def op(_: Library) -> tuple[int, int]:
        started: list[int] = []  # a thread the op starts, as the indexer's decoders and the model's threads are
        thread = threading.Thread(target=lambda: started.append(nice()))
        thread.start()
        thread.join()
        return nice(), started[0]

    gui_thread = nice()
    runner = TaskRunner(indexed)
    seen: list[tuple[int, int]] = []
    try:
        runner.run_op(op, seen.append, pytest.fail)
        runner.run_op(op, seen.append, pytest.fail, writes=True)
        qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT_MS)
    finally:
        runner.shutdown()
    assert all(value >= BACKGROUND_NICE for pair in seen for value in pair)
    assert nice() == gui_thread


def test_thumbnails_are_made_in_the_cache_not_the_photo_folder(
    qtbot: QtBot, window: MainWindow, home: Path, photos: Path
) -> None:
    before = sorted(p for p in photos.rglob("*"))
    search(qtbot, window, "red")
    hit, index = window.parts.results_model.hit(0), window.parts.results_model.index(0, 0)

    def picture() -> QPixmap | None:
        return window.parts.results_model.data(index, Qt.ItemDataRole.DecorationRole)

    qtbot.waitUntil(lambda: picture() is not None, timeout=WAIT_MS)  # the row is on screen
    thumbnail = home / "cache" / "thumbnails" / f"{hit.photo_id}-{window.parts.thumbnails.size}.jpg"
    assert thumbnail.is_file()
    shown = picture()
    assert shown is not None and shown.size() == window.parts.results_view.visualRect(index).size()  # fills its cell
    assert sorted(p for p in photos.rglob("*")) == before


def test_a_refreshed_page_keeps_its_thumbnails(qtbot: QtBot, window: MainWindow) -> None:
    search(qtbot, window, "red")

    def first_picture() -> QPixmap | None:
        return window.parts.results_model.data(window.parts.results_model.index(0, 0), Qt.ItemDataRole.DecorationRole)

    qtbot.waitUntil(lambda: first_picture() is not None, timeout=WAIT_MS)
    hits = tuple(window.parts.results_model.hits())
    window.parts.results_model.reset(SearchPage(hits, 0, len(hits), False))  # as results refresh during indexing
    assert first_picture() is not None  # at once: no placeholder flashes in between


def test_a_thumbnail_keeps_its_shape_in_its_square_icon(qtbot: QtBot, tmp_path: Path) -> None:
    wide = tmp_path / "wide.jpg"
    Image.new("RGB", (400, 200), (200, 40, 40)).save(wide)
    cache = ThumbnailCache(tmp_path / "cache")
    with qtbot.waitSignal(cache.ready, timeout=WAIT_MS):
        assert cache.icon(7, str(wide)) is None  # queued
    icon, preview = cache.icon(7, str(wide)), cache.preview(7)
    assert icon is not None and icon.availableSizes() == [QSize(THUMB_SIZE, THUMB_SIZE)]
    assert preview is not None and preview.size() == QSize(2 * SMALL_LINE, SMALL_LINE)  # as tall as its line
    corner, centre = icon.pixmap(THUMB_SIZE).toImage().pixelColor(0, 0), preview.toImage().pixelColor(96, 48)
    assert corner.alpha() == 0 and centre.red() > 150 > centre.green()  # transparent margin, red picture


def test_a_photo_that_cannot_be_read_gets_a_tile_saying_so_not_the_placeholder(qtbot: QtBot, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(b"\xff\xd8\xff not really a JPEG")
    cache = ThumbnailCache(tmp_path / "cache")
    model = ResultsModel(cache)
    model.reset(SearchPage((SearchHit(3, str(damaged), None),), 0, 1, False))
    with qtbot.waitSignal(cache.ready, timeout=WAIT_MS, check_params_cb=lambda photo_id: photo_id == 3):
        model.want_thumbnails(range(1))
    tile = cache.picture(3, str(damaged))
    assert tile is not None and tile.size() == QSize(cache.size, cache.size) and cache.preview(3) is not None
    assert tile.toImage() == unreadable_picture(cache.size).toImage()
    assert tile.toImage() != cache.placeholder.pixmap(cache.size).toImage()
    assert model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is not None  # the grid shows it
    assert not list((tmp_path / "cache").rglob("*.jpg"))  # and no thumbnail file was made for it
    model.give_tooltip(0)  # the pointer rests on it: the tooltip says why
    tooltip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith(str(damaged)) and "\nCannot be read: " in tooltip and tooltip.endswith(".")
    assert cache.unreadable_reason(3) in tooltip and cache.unreadable_reason(4) is None


def test_only_the_rows_on_screen_ask_for_thumbnails(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[range] = []  # every range of rows the view asked thumbnails for
    want = window.parts.results_model.want_thumbnails
    monkeypatch.setattr(window.parts.results_model, "want_thumbnails", lambda rows: (asked.append(rows), want(rows)))
    hits = tuple(SearchHit(i, str(tmp_path / f"missing-{i}.jpg"), 0.5) for i in range(1000))
    window.parts.results_model.reset(SearchPage(hits, 0, len(hits), False))
    view = window.parts.results_view
    qtbot.waitUntil(lambda: view.verticalScrollBar().maximum() > 0, timeout=WAIT_MS)
    # The first screen is shown: its thumbnails are made (here: found unreadable).
    qtbot.waitUntil(lambda: all(window.parts.thumbnails.is_ready(i) for i in view.rows_on_screen()), timeout=WAIT_MS)
    # On a loaded machine the window may still settle (and the viewport change size) meanwhile: what counts
    # is every row asked for so far, a screen or two from the top.
    top = range(0, max(rows.stop for rows in asked))
    assert view.rows_on_screen().start == 0 and 0 < len(top) < 200
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    bottom = view.rows_on_screen()
    assert bottom.stop == len(hits) and bottom.start > top.stop
    assert view.visualRect(window.parts.results_model.index(bottom.start, 0)).intersects(view.viewport().rect())
    qtbot.waitUntil(lambda: all(window.parts.thumbnails.is_ready(i) for i in bottom), timeout=WAIT_MS)
    window.parts.thumbnails.wait()
    assert not any(window.parts.thumbnails.is_ready(i) for i in range(top.stop, bottom.start))  # never on screen


def test_rows_give_back_thumbnails_the_cache_lets_go(
    qtbot: QtBot, window: MainWindow, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(thumbnails_module, "MEMORY_ITEMS", 1)
    delivered: list[int] = []
    window.parts.thumbnails.ready.connect(delivered.append)
    search(qtbot, window, "a photo")

    def shown() -> int:
        model = window.parts.results_model
        pictures = [model.data(model.index(r, 0), Qt.ItemDataRole.DecorationRole) for r in range(model.rowCount())]
        return sum(picture is not None for picture in pictures)

    qtbot.waitUntil(lambda: shown() > 0, timeout=WAIT_MS)  # the rows on screen asked for theirs
    window.parts.thumbnails.wait()
    made = len(list((home / "cache" / "thumbnails").glob("*.jpg")))
    qtbot.waitUntil(lambda: len(delivered) >= made, timeout=WAIT_MS)  # each one made has reached the GUI thread
    assert made > 1
    assert shown() == 1  # only the thumbnail the cache still holds is drawn


def test_photosift_without_a_display_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("there is always a display on Windows and macOS")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert run([]) == EXIT_ENVIRONMENT
    assert "no display to open the window on" in capsys.readouterr().err


def test_run_gui_opens_the_window_and_returns(qtbot: QtBot, home: Path) -> None:
    shown: list[str] = []
    opening: list[bool] = []

    def look_and_quit() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        shown.extend(w.windowTitle() for w in windows)
        icons.extend(not w.windowIcon().pixmap(64, 64).isNull() for w in windows)
        frozen.append(gc.get_freeze_count())
        for w in windows:
            w.close()  # the last window closed ends run_gui's loop, as when a person closes it
        # (An explicit QApplication.quit() here ended the loop before Qt's own posted Quit event, which
        # then ended the next test's event loop at once.)

    def at_first_turn() -> None:
        """The frame is on screen before the library opens (in the background); look once it has."""
        (window,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        opening.append(window.isVisible() and not window.is_open)
        window.opened.connect(lambda: QTimer.singleShot(0, look_and_quit))  # once the start's work has begun

    frozen: list[int] = []
    icons: list[bool] = []
    QTimer.singleShot(0, at_first_turn)
    previous_hook = sys.excepthook
    try:
        assert run_gui(Paths(home), Settings(), model=str(TEST_MODELS / "tiny.json")) == 0
    finally:
        gc.unfreeze()  # give the rest of the test session its objects back
    assert opening == [True]
    assert shown == ["Photosift"] and sys.excepthook is previous_hook
    assert icons == [True]  # the SVG icon was found and rendered
    # Start-up objects are out of the collector's reach before the window shows (full collections stalled it).
    assert frozen and frozen[0] > 50_000


def test_exception_hook_logs_and_tells_the_user(home: Path) -> None:
    told: list[str] = []
    hook = ExceptionHook(Paths(home), None, show=lambda _parent, text: told.append(text))
    try:
        raise RuntimeError("a bug")
    except RuntimeError as exc:
        hook(type(exc), exc, exc.__traceback__)
    log = (home / "logs" / "photosift.log").read_text(encoding="utf-8")
    assert "RuntimeError: a bug" in log and "Traceback" in log
    assert len(told) == 1 and "a bug" in told[0] and "photosift.log" in told[0]


def test_exception_hook_presents_a_fault_raised_on_the_gui_thread(qtbot: QtBot, home: Path) -> None:
    """Settings that cannot be written when a dialog's OK is pressed raise an environment fault on the GUI
    thread: the failure presenter says it with what to do, as for an op, not the crash dialog (issue 14)."""
    parent = QWidget()
    qtbot.addWidget(parent)
    told: list[str] = []
    hook = ExceptionHook(Paths(home), parent, show=lambda _parent, text: told.append(text))
    for exc in (EnvironmentFault("Could not write the settings."), Cancelled()):
        hook(type(exc), exc, None)
    assert [box.text() for box in parent.findChildren(QMessageBox)] == [f"Could not write the settings. {CHECK_DISK}"]
    assert told == [] and not (home / "logs" / "photosift.log").exists()  # no bug: nothing to report


def test_thumbnails_of_forgotten_photos_are_pruned(home: Path, indexed: Library) -> None:
    cache = home / "cache" / "thumbnails"
    cache.mkdir(parents=True)
    live = next(iter(indexed.catalog.photo_ids()))
    kept = f"{live}-{SMALL_LINE}.jpg"
    for name in (kept, f"{live}-384.jpg", f"999999-{SMALL_LINE}.jpg", "999999-384.jpg", "notes.txt"):
        (cache / name).write_bytes(b"x")
    assert prune_thumbnails(cache, indexed.catalog.photo_ids()) == 3  # 384: a size no longer made
    assert sorted(p.name for p in cache.iterdir()) == sorted([kept, "notes.txt"])
