"""The duplicate review dialog: a search from it, group by group with the best copy first, ticking a photo,
keeping another, "Not duplicates", "Show in folder", the hide option, and the window's menu entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_photo
from PySide6.QtCore import Qt, QUrl
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.dialogs.duplicates import DuplicatesDialog
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.tasks import TaskRunner
from photosift.core.duplicates.service import Duplicates
from photosift.core.library import Library


@pytest.fixture
def library(home: Path, tmp_path: Path) -> Iterator[Library]:
    photos = tmp_path / "photos"
    make_photo(photos / "red-big.jpg", "red", (128, 96))
    make_photo(photos / "red-small.jpg", "red")
    make_photo(photos / "blue-big.jpg", "blue", (96, 72))
    make_photo(photos / "blue-small.jpg", "blue")
    make_photo(photos / "green.jpg", "green")
    lib = open_library(home)
    lib.add_folder(photos)
    lib.scan()
    lib.index()
    yield lib
    lib.close()


@pytest.fixture
def dialog(qtbot: QtBot, runner: TaskRunner, home: Path) -> Iterator[tuple[DuplicatesDialog, list[QUrl]]]:
    opened: list[QUrl] = []
    thumbnails = ThumbnailCache(home / "cache" / "thumbnails")
    dlg = DuplicatesDialog(runner, thumbnails, False, open_url=lambda url: opened.append(url) or True)
    qtbot.addWidget(dlg)
    dlg.show()
    yield dlg, opened
    thumbnails.wait()


def names(dlg: DuplicatesDialog) -> list[str]:
    return [dlg.photos.item(row).text().splitlines()[-1] for row in range(dlg.photos.count())]


def ticked(dlg: DuplicatesDialog) -> list[bool]:
    return [dlg.photos.item(row).checkState() == Qt.CheckState.Checked for row in range(dlg.photos.count())]


def test_find_then_review_group_by_group(qtbot: QtBot, dialog: tuple[DuplicatesDialog, list[QUrl]]) -> None:
    dlg, opened = dialog
    with qtbot.waitSignal(dlg.loaded):
        dlg.load()
    assert "No near-duplicates found yet" in dlg.title.text() and not dlg.keep_button.isEnabled()
    with qtbot.waitSignal(dlg.loaded, timeout=20_000):
        dlg.find_button.click()
    assert "Found 2 groups of near-duplicates among 5 photos" in dlg.status.text()
    assert dlg.title.text() == "Group 1 of 2: 2 photos, suggested"
    assert names(dlg) == ["blue-big.jpg", "blue-small.jpg"] and ticked(dlg) == [False, True]
    assert dlg.photos.item(0).text().startswith("Keep\n96x72")
    assert not dlg.previous_button.isEnabled()
    dlg.next_button.click()
    assert names(dlg) == ["red-big.jpg", "red-small.jpg"] and not dlg.next_button.isEnabled()
    dlg.photos.setCurrentRow(1)
    dlg.folder_button.click()
    assert opened and opened[-1].toLocalFile().endswith("/photos")


def test_writes_go_on_while_the_search_reads(
    qtbot: QtBot, dialog: tuple[DuplicatesDialog, list[QUrl]], runner: TaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from photosift.core.duplicates import service

    dlg, _ = dialog
    comparing, release = threading.Event(), threading.Event()
    real_pairs = service.similar_pairs

    def slow_pairs(*args: object, **kwargs: object) -> object:
        comparing.set()
        assert release.wait(20), "the test never let the comparison finish"
        return real_pairs(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "similar_pairs", slow_pairs)
    dlg.find_button.click()
    qtbot.waitUntil(comparing.is_set, timeout=10_000)
    written: list[int] = []
    runner.run_op(lambda lib: Duplicates(lib).mark([1], False), written.append, writes=True)
    qtbot.waitUntil(lambda: bool(written), timeout=10_000)  # the writer was free during the comparison
    with qtbot.waitSignal(dlg.loaded, timeout=20_000):
        release.set()
    assert "Found 2 groups of near-duplicates among 5 photos" in dlg.status.text()


def test_ticking_keeping_and_not_duplicates_are_stored(
    qtbot: QtBot, dialog: tuple[DuplicatesDialog, list[QUrl]], library: Library
) -> None:
    dlg, _ = dialog
    Duplicates(library).find()
    with qtbot.waitSignal(dlg.loaded):
        dlg.load()
    with qtbot.waitSignals([dlg.marks_changed, dlg.loaded]):
        dlg.photos.item(1).setCheckState(Qt.CheckState.Unchecked)  # the person: not a duplicate
    assert ticked(dlg) == [False, False] and "reviewed" not in dlg.title.text()
    dlg.photos.setCurrentRow(1)
    with qtbot.waitSignal(dlg.loaded):
        dlg.keep_button.click()  # keep the small copy instead
    assert names(dlg) == ["blue-small.jpg", "blue-big.jpg"] and ticked(dlg) == [False, True]
    assert dlg.title.text().endswith("reviewed")
    dlg.next_button.click()
    with qtbot.waitSignal(dlg.loaded):
        dlg.distinct_button.click()
    assert ticked(dlg) == [False, False] and names(dlg) == ["red-big.jpg", "red-small.jpg"]
    assert {Path(h.path).name for h in library.search("is:duplicate").hits} == {"blue-big.jpg"}


def test_the_hide_option_is_announced(qtbot: QtBot, dialog: tuple[DuplicatesDialog, list[QUrl]]) -> None:
    dlg, _ = dialog
    with qtbot.waitSignal(dlg.hide_changed) as blocker:
        dlg.hide_box.click()
    assert blocker.args == [True]
    dlg.close_button.click()
    assert not dlg.isVisible()


def test_the_tools_menu_opens_the_review_and_the_option_hides_duplicates(qtbot: QtBot, library: Library) -> None:
    from PySide6.QtGui import QAction
    from test_gui import make_window

    from photosift.core.settings import load_settings

    window, runner, _ = make_window(qtbot, library)
    try:
        action = next(a for a in window.findChildren(QAction) if a.text() == "Find near-&duplicates…")
        action.trigger()
        dlg = window.findChild(DuplicatesDialog)
        assert dlg is not None
        qtbot.waitUntil(lambda: len(dlg.groups) == 2, timeout=20_000)  # none stored yet: it searched at once
        with qtbot.waitSignal(window.results_shown, timeout=10_000):
            dlg.hide_box.click()
        assert load_settings(library.paths).hide_duplicates
        shown = {Path(h.path).name for h in window.parts.results_model.hits()}  # the timeline of the empty query
        assert shown == {"red-big.jpg", "blue-big.jpg", "green.jpg"}
        with qtbot.waitSignal(window.results_shown, timeout=10_000):
            window.search_for("red")  # a typed search hides them too
        assert {Path(h.path).name for h in window.parts.results_model.hits()} == shown
        dlg.close()
        with qtbot.waitSignal(dlg.loaded):
            action.trigger()  # the same dialog again, not a second one
        assert window.findChildren(DuplicatesDialog) == [dlg] and dlg.isVisible()
        dlg.close()
    finally:
        runner.shutdown()
        window.parts.thumbnails.wait()
