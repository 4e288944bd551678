"""The side panel of watched folders and the failures dialog, offscreen: counts and states, the context
menu's and keyboard's requests, selection kept across refreshes, and a real library's unreadable files
listed with their reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import WAIT_MS, make_photo
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from test_library import open_library

from photosift.app.gui.dialogs.failures import EXPLANATION, FailuresDialog
from photosift.app.gui.widgets.side_panel import OFFLINE_TIP, SidePanel
from photosift.app.tasks import TaskRunner
from photosift.core.catalog import FolderInfo, PhotoInfo

HOLIDAY = FolderInfo(1, "/photos/Holiday", "ok", 1204, 3, None)
USB = FolderInfo(2, "/media/usb/Archive", "offline", 57, 0, None)
CAMERA = FolderInfo(3, "/photos/camera", "ok", 8, 0, None)


@pytest.fixture
def panel(qtbot: QtBot) -> SidePanel:
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_folders([HOLIDAY, USB])
    return panel


def rows(panel: SidePanel) -> list[tuple[str, str]]:
    section = panel.folders_section
    return [(section.child(i).text(0), section.child(i).text(1)) for i in range(section.childCount())]


def item(panel: SidePanel, folder: FolderInfo) -> QTreeWidgetItem:
    found = panel.folder_item(folder.path)
    assert found is not None
    return found


def drawn_enabled(panel: SidePanel, folder: FolderInfo) -> bool:
    """Whether the row is drawn as enabled (the view sets State_Enabled; the delegate may clear it)."""
    option = QStyleOptionViewItem()
    option.state = QStyle.StateFlag.State_Enabled
    panel.tree.itemDelegate().initStyleOption(option, panel.tree.indexFromItem(item(panel, folder), 1))
    return bool(option.state & QStyle.StateFlag.State_Enabled)


def actions(panel: SidePanel, folder: FolderInfo) -> dict[str, QAction]:
    return {a.text(): a for a in panel.folder_menu(folder.path).actions() if a.text()}


def test_folders_that_share_a_name_show_the_parent_that_tells_them_apart(panel: SidePanel) -> None:
    train = FolderInfo(4, "/data/hymenoptera/train/ants", "ok", 124, 0, None)
    val = FolderInfo(5, "/data/hymenoptera/val/ants", "ok", 70, 0, None)
    deep = FolderInfo(6, "/mnt/a/same/photos", "ok", 1, 0, None)
    deeper = FolderInfo(7, "/mnt/b/same/Photos", "ok", 2, 0, None)
    panel.set_folders([HOLIDAY, train, val, deep, deeper])
    assert [text for text, _ in rows(panel)] == [
        "ants — train",
        "ants — val",
        "Holiday",
        "photos — a/same",
        "Photos — b/same",
    ]
    panel.set_folders([HOLIDAY, val])  # alone again, a folder is called by its name
    assert [text for text, _ in rows(panel)] == ["ants", "Holiday"]
    upper = FolderInfo(8, "/photos/HOLIDAY", "ok", 5, 0, None)  # the same parent: the case tells them apart
    panel.set_folders([HOLIDAY, upper])
    assert sorted(text for text, _ in rows(panel)) == ["HOLIDAY", "Holiday"]


def test_folders_are_listed_by_name_with_counts(panel: SidePanel) -> None:
    assert rows(panel) == [("Archive", "57 · offline"), ("Holiday", "1,204")]
    holiday = item(panel, HOLIDAY)
    assert not holiday.icon(1).isNull() and item(panel, USB).icon(1).isNull()  # a warning beside failures' count
    assert holiday.toolTip(0).startswith("/photos/Holiday\n1,204 photos")
    assert "3 could not be read" in holiday.toolTip(1)
    assert holiday.data(0, Qt.ItemDataRole.AccessibleTextRole) == "Holiday, 1,204 photos, 3 unreadable"
    assert panel.tree.accessibleName() and panel.add_button.accessibleName()
    assert panel.folders_section.text(0) == "Folders" and panel.folders_section.isExpanded()


def test_offline_folder_is_greyed_explained_and_still_selectable(panel: SidePanel) -> None:
    usb = item(panel, USB)
    assert usb.text(1).endswith("offline") and OFFLINE_TIP in usb.toolTip(0)
    assert not drawn_enabled(panel, USB) and drawn_enabled(panel, HOLIDAY)
    assert usb.flags() & Qt.ItemFlag.ItemIsSelectable  # so the Delete key can still remove it
    assert not actions(panel, USB)["Open in file manager"].isEnabled()
    panel.set_folders([HOLIDAY, FolderInfo(2, USB.path, "ok", 57, 0, None)])  # plugged back in
    assert drawn_enabled(panel, USB) and item(panel, USB).text(1) == "57"


def test_busy_folder_shows_indexing_until_cleared(panel: SidePanel) -> None:
    panel.set_busy_folder(HOLIDAY.path)
    assert item(panel, HOLIDAY).text(1) == "1,204 · indexing…"
    assert "indexed now" in item(panel, HOLIDAY).toolTip(0)
    panel.set_busy_folder(None)
    assert item(panel, HOLIDAY).text(1) == "1,204"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Show failures…", "show_failures_requested"),
        ("Rescan", "rescan_requested"),
        ("Open in file manager", "open_folder_requested"),
        ("Remove from library…", "remove_folder_requested"),
    ],
)
def test_context_menu_actions_ask_for_their_folder(qtbot: QtBot, panel: SidePanel, text: str, signal: str) -> None:
    action = actions(panel, HOLIDAY)[text]
    with qtbot.waitSignal(getattr(panel, signal), timeout=WAIT_MS) as asked:
        action.trigger()
    assert asked.args == [HOLIDAY.path]


def test_show_failures_is_offered_only_when_there_are_some(panel: SidePanel) -> None:
    assert actions(panel, HOLIDAY)["Show failures…"].isEnabled()
    assert not actions(panel, USB)["Show failures…"].isEnabled()


def test_keyboard_removes_and_activates_the_selected_folder(qtbot: QtBot, panel: SidePanel) -> None:
    panel.tree.setCurrentItem(panel.folders_section)
    with qtbot.assertNotEmitted(panel.remove_folder_requested):
        qtbot.keyClick(panel.tree, Qt.Key.Key_Delete)  # a section heading is not a folder
    panel.tree.setCurrentItem(item(panel, USB))
    with qtbot.waitSignal(panel.remove_folder_requested, timeout=WAIT_MS) as removed:
        qtbot.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert removed.args == [USB.path]
    with qtbot.waitSignal(panel.folder_activated, timeout=WAIT_MS) as activated:
        qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
    assert activated.args == [USB.path]


def test_one_click_shows_a_folder_and_its_row_stays_highlighted(qtbot: QtBot, panel: SidePanel) -> None:
    row = panel.tree.visualItemRect(item(panel, HOLIDAY)).center()
    with qtbot.waitSignal(panel.folder_activated, timeout=WAIT_MS) as activated:
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert activated.args == [HOLIDAY.path] and item(panel, HOLIDAY).isSelected()
    option = QStyleOptionViewItem()
    option.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Selected  # focus elsewhere: not Active
    panel.tree.itemDelegate().initStyleOption(option, panel.tree.indexFromItem(item(panel, HOLIDAY), 0))
    assert option.state & QStyle.StateFlag.State_Active  # drawn in the strong highlight, not the faint grey


def test_add_button_asks_for_a_folder(qtbot: QtBot, panel: SidePanel) -> None:
    with qtbot.waitSignal(panel.add_folder_requested, timeout=WAIT_MS):
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)


def test_refresh_keeps_the_selected_folder_selected(panel: SidePanel) -> None:
    panel.tree.setCurrentItem(item(panel, HOLIDAY))
    selected = item(panel, HOLIDAY)
    panel.folders_section.setExpanded(False)
    panel.set_folders([CAMERA, FolderInfo(1, HOLIDAY.path, "ok", 1300, 0, None)])
    assert rows(panel) == [("camera", "8"), ("Holiday", "1,300")]
    assert panel.selected_folder() == HOLIDAY.path and panel.tree.currentItem() is selected
    assert selected.isSelected() and not panel.folders_section.isExpanded()


def test_sections_can_be_added_after_folders(panel: SidePanel) -> None:
    tags = panel.add_section("Tags")
    QTreeWidgetItem(tags, ["beach"])
    assert [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())] == ["Folders", "Tags"]
    panel.tree.setCurrentItem(tags.child(0))
    assert panel.selected_folder() is None
    assert not tags.flags() & Qt.ItemFlag.ItemIsSelectable


def failed(photo_id: int, path: str, error: str) -> PhotoInfo:
    return PhotoInfo(photo_id, (path,), 10, None, None, None, None, None, None, "failed", error)


def test_failures_dialog_sorts_and_copies_a_tab_separated_list(qtbot: QtBot) -> None:
    failures = [failed(1, "/p/b.jpg", "not an image"), failed(2, "/p/a.jpg", "truncated\tfile\nat byte 9")]
    dialog = FailuresDialog(failures, folder="/p", total=5)
    qtbot.addWidget(dialog)
    assert dialog.rows() == [("/p/a.jpg", "truncated\tfile\nat byte 9"), ("/p/b.jpg", "not an image")]
    dialog.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert [path for path, _ in dialog.rows()] == ["/p/b.jpg", "/p/a.jpg"]
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied == "File\tReason\n/p/b.jpg\tnot an image\n/p/a.jpg\ttruncated file at byte 9\n"
    assert "Showing the first 2 of 5." in dialog.note.text() and dialog.windowTitle() == "Unreadable files in p"


def test_failures_dialog_lists_a_real_corrupt_file_and_its_reason(qtbot: QtBot, home: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "fine.jpg", "green")
    broken = photos / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG")
    library = open_library(home)
    runner = TaskRunner(library)
    try:
        library.add_folder(photos)
        library.scan()
        library.index()
        with qtbot.waitCallback(timeout=WAIT_MS) as fetched:  # as the main window will: through the runner
            runner.run_op(lambda lib: lib.failures(photos), fetched, lambda exc: fetched(exc))
        dialog = FailuresDialog(fetched.args[0], folder=str(photos))
        qtbot.addWidget(dialog)
        ((path, reason),) = dialog.rows()
        assert path == str(broken) and reason  # the indexer's reason, whatever its wording
        assert dialog.note.text() == EXPLANATION
    finally:
        runner.shutdown()
        library.close()
