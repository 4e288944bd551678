"""The main window's ops layer: menu actions reach their slots with the right arguments, failures reach the
default presenter, and writes announce what changed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WAIT_MS, FakeEncoder, make_photo
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.controllers.queries import similar_target
from photosift.app.gui.dialogs.models import ModelsDialog
from photosift.app.gui.dialogs.shortcuts import ShortcutsDialog
from photosift.app.gui.main_window import MainWindow
from photosift.app.gui.ops.results import file_url
from photosift.app.tasks import TaskRunner
from photosift.core.errors import EnvironmentFault, UserError
from photosift.core.library import Library


@pytest.fixture
def library(home: Path) -> Iterator[Library]:
    library = open_library(home)
    yield library
    library.close()


def menu_action(window: MainWindow, text: str) -> QAction:
    return next(action for action in window.findChildren(QAction) if action.text() == text)


def test_review_suggested_tags_opens_the_queue_for_every_tag(qtbot: QtBot, window: MainWindow) -> None:
    """Regression: the action's `checked` flag arrived as the tag name ('bool' object has no attribute...)."""
    action = menu_action(window, "&Review suggested tags…")
    with qtbot.waitSignal(window.parts.review_queue.loaded, timeout=WAIT_MS):
        action.trigger()
    assert window.parts.review_queue.isVisible() and window.parts.review_queue.tag is None
    assert window.parts.review_queue.tag_filter.currentData() is None


class FullDisk(FakeEncoder):
    def load(self, progress: object = None, cancel: object = None) -> None:
        raise EnvironmentFault("Could not write the model to /models/w.bin.") from OSError(
            28, "No space left on device"
        )


def test_an_environment_fault_while_indexing_says_what_to_do(qtbot: QtBot, home: Path, tmp_path: Path) -> None:
    """Regression: the window treated every failure but a user error as a bug (the crash dialog)."""
    library = open_library(home, FullDisk())
    runner = TaskRunner(library)
    window = MainWindow(library, runner, open_url=lambda url: True)
    qtbot.addWidget(window)
    make_photo(tmp_path / "photos" / "a.jpg")
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS):
        window.add_folder(tmp_path / "photos")
    boxes = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    runner.shutdown()
    library.close()
    assert [box.text() for box in boxes] == [
        "Could not write the model to /models/w.bin. Free some space on that disk, then try again."
    ]
    assert "No space left" in boxes[0].detailedText()


@pytest.fixture
def no_file_manager(qtbot: QtBot, library: Library, tmp_path: Path) -> Iterator[MainWindow]:
    """A window over three indexed photos on a desktop where no file manager can be opened."""
    for colour in ("red", "green", "blue"):
        make_photo(tmp_path / "photos" / f"{colour}.jpg", colour)
    library.add_folder(tmp_path / "photos")
    library.scan()
    library.index()
    runner = TaskRunner(library)
    win = MainWindow(library, runner, open_url=lambda url: False)
    qtbot.addWidget(win)
    yield win
    runner.shutdown()
    win.parts.thumbnails.wait()


def test_each_photo_action_is_one_action_in_the_menu_bar_and_the_context_menu(
    qtbot: QtBot, no_file_manager: MainWindow
) -> None:
    window = no_file_manager
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.search_for("red")
    photo_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Photo")
    actions = window.parts.photo_actions
    context = [a for a in actions.menu([window.parts.results_model.hit(1)]).actions() if not a.isSeparator()]
    # Each action of every group once, in order, and the same QAction objects in the menu bar.
    assert context == [action for group in actions.groups for action in group]
    assert len(context) == 11 and set(context) <= set(photo_menu.actions())  # 9 + favourite + rating
    keyed = [a for a in context if a is not window.parts.photo_actions.show_in_folder]
    # A submenu (the star rating) has its keys on its entries: Ctrl+0 to Ctrl+5.
    assert all(a.shortcuts() or (a.menu() and all(b.shortcuts() for b in a.menu().actions())) for a in keyed)
    assert window.current_hits() == [window.parts.results_model.hit(1)]  # the right-clicked photo is the one acted on


def test_show_in_folder_says_so_when_no_file_manager_opens(qtbot: QtBot, no_file_manager: MainWindow) -> None:
    window = no_file_manager
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.search_for("blue")
    hit = window.parts.results_model.hit(0)
    QGuiApplication.clipboard().clear()
    window.parts.photo_actions.menu([hit])
    window.parts.photo_actions.show_in_folder.trigger()
    folder = str(Path(hit.path).parent)
    assert [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()] == [
        f"No file manager could be opened to show {folder}. Its path is on the clipboard: paste it into a "
        "file manager or a terminal."
    ]
    assert QGuiApplication.clipboard().text() == folder


def test_settings_has_a_shortcut_on_every_platform(window: MainWindow) -> None:
    """Regression: Qt binds the Preferences key only on macOS, so Ctrl+, did nothing on Linux."""
    settings = menu_action(window, "&Settings…")
    assert settings.shortcuts() and settings.shortcut().toString() in ("Ctrl+,", "Ctrl+Comma")


def test_f1_lists_every_shortcut_once_in_its_group(window: MainWindow) -> None:
    menu_action(window, "&Keyboard shortcuts").trigger()
    (dialog,) = window.findChildren(ShortcutsDialog)
    table = dialog.table
    rows = [tuple(table.item(r, c).text() if table.item(r, c) else "" for c in (0, 1)) for r in range(table.rowCount())]
    headings = [name for name, keys in rows if not keys]
    assert headings == ["Search", "Grid", "Viewer", "Library"]
    described = [name for name, keys in rows if keys]
    assert len(described) == len(set(described))  # no duplicate rows
    keys = dict(rows)
    assert keys["Settings…"] == QKeySequence("Ctrl+,").toString(QKeySequence.SequenceFormat.NativeText)
    assert keys["Find similar images"] == "S" and "F16" not in keys["Copy image"]
    assert keys["Find photos like an image file…"] == "Ctrl+Shift+O"


def test_the_shortcut_list_fits_every_description_at_the_width_it_is_shown(qtbot: QtBot, window: MainWindow) -> None:
    """Rows fitted before the dialog was laid out cut "Find photos like an image file…" to "…image …"."""
    menu_action(window, "&Keyboard shortcuts").trigger()
    (dialog,) = window.findChildren(ShortcutsDialog)
    qtbot.waitExposed(dialog)
    table = dialog.table

    def cut_short() -> list[str]:
        return [
            table.item(r, 0).text() for r in range(table.rowCount()) if table.rowHeight(r) < table.sizeHintForRow(r)
        ]

    qtbot.waitUntil(lambda: not cut_short(), timeout=WAIT_MS)
    dialog.resize(dialog.width() - 120, dialog.height())  # narrower: more descriptions wrap
    qtbot.waitUntil(lambda: not cut_short(), timeout=WAIT_MS)


def test_the_models_dialog_names_a_model_from_a_spec_file(qtbot: QtBot, window: MainWindow) -> None:
    """Regression: a model outside the registry (a spec file) read as its bare name, "gone or changed"."""
    dialog = ModelsDialog(window, window.parts.state)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() == 1, timeout=WAIT_MS)
    row = dialog.table.topLevelItem(0)
    assert row is not None and (row.text(0), row.text(3)) == ("Fake colour model", "Searching now")


def test_a_file_url_keeps_a_name_that_is_not_utf8() -> None:
    """`QUrl.fromLocalFile` turned the byte 0xE9 (Latin-1 é) into %ED%B3%A9, a file that does not exist."""
    path = os.fsdecode(b"/photos/caf\xe9 au lait.jpg")
    assert bytes(file_url(path).toEncoded().data()) == b"file:///photos/caf%E9%20au%20lait.jpg"


def test_a_similar_search_for_an_id_no_photo_can_have_is_a_sentence() -> None:
    """`#` and 20 digits went to SQLite as is and overflowed (an internal error); 12 alone stays text."""
    assert similar_target("#12") == 12
    assert similar_target("12") is None
    with pytest.raises(UserError, match="no photo #99999999999999999999"):
        similar_target("#99999999999999999999")


def test_the_indexing_menu_says_what_pause_will_do_and_offers_cancel_only_for_a_run(window: MainWindow) -> None:
    pause, cancel = menu_action(window, "&Pause indexing"), menu_action(window, "&Cancel indexing")
    assert not cancel.isEnabled()  # nothing runs
    pause.trigger()
    assert window.parts.indexing.state == "paused" and pause.text() == "&Resume indexing" and cancel.isEnabled()
    pause.trigger()
    assert window.parts.indexing.state != "paused" and pause.text() == "&Pause indexing"
