"""The side panel: the watched folders with their counts and state, in sections that later issues extend
(tags, albums).

The panel only shows what it is given and says what the user asked for through signals; the main window
runs the library work through the TaskRunner and asks for confirmation where an action forgets photos.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QHeaderView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photosift.core.catalog import FolderInfo
from photosift.core.wording import plural

PATH_ROLE = Qt.ItemDataRole.UserRole  # a folder row's full path; section rows have none
STATE_ROLE = Qt.ItemDataRole.UserRole + 1  # "ok", "offline" or "indexing", in every column
OFFLINE_TIP = "Drive not connected; photos kept until you remove the folder."
STATE_WORDS = {"offline": "offline", "indexing": "indexing…"}


def folder_name(path: str) -> str:
    """The last part of the path, or the whole path for a drive root ("/", "D:\\")."""
    return Path(path).name or path


def folder_labels(paths: Iterable[str]) -> dict[str, str]:
    """Each folder's name, with as much of its parent path as tells apart folders that share the name, as
    editors label tabs of same-name files: ".../train/ants" and ".../val/ants" show as "ants — train" and
    "ants — val", where both would read "ants"."""
    labels = {path: folder_name(path) for path in paths}
    namesakes: dict[str, list[str]] = defaultdict(list)
    for path, name in labels.items():
        namesakes[name.casefold()].append(path)
    for group in (g for g in namesakes.values() if len(g) > 1):
        parents = {path: Path(path).parent.parts[::-1] for path in group}  # the nearest first
        for depth in range(1, max(len(parts) for parts in parents.values()) + 1):
            hints = {path: "/".join(reversed(parents[path][:depth])).replace("//", "/") for path in group}
            if len(set(hints.values())) == len(group):
                labels.update({path: f"{labels[path]} — {hints[path]}" for path in group})
                break  # (names that differ only in case, in one parent, stay as they are)
    return labels


def folder_facts(folder: FolderInfo, state: str, failures: bool = True) -> list[str]:
    """The photo count, failures if any (unless `failures` is False), and the state unless plainly ok:
    ["1,204", "3 unreadable", "offline"]. The counts column leaves failures to a warning icon beside it:
    "1,204 · 3 unreadable" widened the column that every section's counts share, and cut tag names short
    ("food photograp…")."""
    facts = [f"{folder.photo_count:,}"]
    if failures and folder.failed_count:
        facts.append(f"{folder.failed_count:,} unreadable")
    if state in STATE_WORDS:
        facts.append(STATE_WORDS[state])
    return facts


def folder_tooltip(folder: FolderInfo, state: str) -> str:
    lines = [folder.path, plural(folder.photo_count, "photo")]
    if folder.failed_count:
        lines.append(f"{folder.failed_count:,} could not be read (right-click to see which)")
    if state == "offline":
        lines.append(OFFLINE_TIP)
    elif state == "indexing":
        lines.append("Being scanned and indexed now.")
    return "\n".join(lines)


class _StateDelegate(QStyledItemDelegate):
    """Draws offline folders the way the current style draws disabled items: greyed in any theme, yet
    still selectable (a disabled item could not be selected, so the Delete key could not remove it).

    The selected row is drawn as selected also while the focus is in the search field or the grid (most
    styles draw an unfocused selection in a faint grey), so the panel keeps saying what is on show."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        if index.data(STATE_ROLE) == "offline":
            option.state &= ~QStyle.StateFlag.State_Enabled
        if option.state & QStyle.StateFlag.State_Selected:
            option.state |= QStyle.StateFlag.State_Active


class SidePanel(QWidget):
    """A tree of sections (Folders here; `LibrarySections` adds Tags and Albums) and an Add folder button."""

    add_folder_requested = Signal()
    remove_folder_requested = Signal(str)  # the caller confirms: removing forgets the folder's photos
    show_failures_requested = Signal(str)
    rescan_requested = Signal(str)
    open_folder_requested = Signal(str)
    folder_activated = Signal(str)  # a click, double-click or Enter on a folder
    item_activated = Signal(object)  # any other row (tags, albums): the QTreeWidgetItem
    item_menu_requested = Signal(object, QPoint)  # any other row or heading, and where (global) to pop up

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._folders: dict[str, FolderInfo] = {}
        self._labels: dict[str, str] = {}  # what each folder's row is called (`folder_labels`)
        self._busy: str | None = None
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Library")
        self.tree.setAccessibleDescription("Watched folders; right-click a folder for more, Delete removes it")
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setItemDelegate(_StateDelegate(self.tree))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        # One click shows a folder, tag or album (as in every photo app); Enter and double-click still do.
        self.tree.itemClicked.connect(self._activated)
        self.tree.itemActivated.connect(self._activated)
        self.tree.installEventFilter(self)
        self.add_button = QPushButton("Add folder…")
        self.add_button.setAccessibleName("Add folder")
        self.add_button.clicked.connect(self.add_folder_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addWidget(self.add_button)
        self.folders_section = self.add_section("Folders")

    def add_section(self, title: str) -> QTreeWidgetItem:
        """A new top-level heading, expanded; fill it with child items."""
        item = QTreeWidgetItem(self.tree, [title])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading, not something to select or act on
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        item.setExpanded(True)
        return item

    # Folders ----------------------------------------------------------------------------------------

    def set_folders(self, folders: Sequence[FolderInfo]) -> None:
        """Show these folders, updating rows in place so selection, focus and scrolling survive a refresh."""
        self._folders = {f.path: f for f in folders}
        self._labels = folder_labels(self._folders)
        rows = self._folder_rows()
        for path in rows.keys() - self._folders.keys():
            self.folders_section.removeChild(rows.pop(path))
        # Rows kept are already in this order, so inserting the new ones at their place sorts them all.
        ordered = sorted(folders, key=lambda f: (folder_name(f.path).casefold(), f.path))
        for position, folder in enumerate(ordered):
            item = rows.get(folder.path)
            if item is None:
                item = QTreeWidgetItem()
                self.folders_section.insertChild(position, item)
            self._show_folder(item, folder)

    def set_busy_folder(self, path: str | None) -> None:
        """Mark the folder being scanned or indexed (None: none is)."""
        self._busy = path
        for folder_path, item in self._folder_rows().items():
            self._show_folder(item, self._folders[folder_path])

    def selected_folder(self) -> str | None:
        item = self.tree.currentItem()
        return self.folder_path(item) if item is not None else None

    def folder_item(self, path: str) -> QTreeWidgetItem | None:
        return self._folder_rows().get(path)

    @staticmethod
    def folder_path(item: QTreeWidgetItem) -> str | None:
        path = item.data(0, PATH_ROLE)
        return path if isinstance(path, str) else None

    def folder_menu(self, path: str) -> QMenu:
        """The context menu for one folder row."""
        folder = self._folders[path]
        menu = QMenu(self)
        failures = menu.addAction("Show failures…", lambda: self.show_failures_requested.emit(path))
        failures.setEnabled(folder.failed_count > 0)
        menu.addAction("Rescan", lambda: self.rescan_requested.emit(path))
        opener = menu.addAction("Open in file manager", lambda: self.open_folder_requested.emit(path))
        opener.setEnabled(folder.status != "offline")
        menu.addSeparator()
        remove = menu.addAction("Remove from library…", lambda: self.remove_folder_requested.emit(path))
        remove.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))  # shown as a hint; eventFilter acts
        return menu

    def _folder_rows(self) -> dict[str, QTreeWidgetItem]:
        rows = {}
        for i in range(self.folders_section.childCount()):
            item = self.folders_section.child(i)
            path = self.folder_path(item) if item is not None else None
            if item is not None and path is not None:
                rows[path] = item
        return rows

    def _show_folder(self, item: QTreeWidgetItem, folder: FolderInfo) -> None:
        state = "indexing" if folder.path == self._busy else folder.status
        name, facts = self._labels[folder.path], folder_facts(folder, state)
        style = self.style()
        icon = {"offline": QStyle.StandardPixmap.SP_DriveHDIcon, "indexing": QStyle.StandardPixmap.SP_BrowserReload}
        item.setText(0, name)
        item.setText(1, " · ".join(folder_facts(folder, state, failures=False)))
        item.setIcon(0, style.standardIcon(icon.get(state, QStyle.StandardPixmap.SP_DirIcon)))
        item.setIcon(
            1, style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if folder.failed_count else QIcon()
        )
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tooltip, spoken = (
            folder_tooltip(folder, state),
            ", ".join([name, plural(folder.photo_count, "photo"), *facts[1:]]),
        )
        for column in (0, 1):
            item.setToolTip(column, tooltip)
            item.setData(column, Qt.ItemDataRole.AccessibleTextRole, spoken)
            item.setData(column, STATE_ROLE, state)  # the delegate draws each cell on its own
        item.setData(0, PATH_ROLE, folder.path)

    # User input -------------------------------------------------------------------------------------

    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        path = self.folder_path(item) if item is not None else None
        if path is not None:
            menu = self.folder_menu(path)
            menu.exec(self.tree.viewport().mapToGlobal(pos))
            menu.deleteLater()
        elif item is not None:
            self.item_menu_requested.emit(item, self.tree.viewport().mapToGlobal(pos))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        path = self.folder_path(item)
        if path is not None:
            self.folder_activated.emit(path)
        else:
            self.item_activated.emit(item)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Delete on a selected folder asks to remove it."""
        if watched is self.tree and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            path = self.selected_folder()
            if path is not None and event.matches(QKeySequence.StandardKey.Delete):
                self.remove_folder_requested.emit(path)
                return True
        return super().eventFilter(watched, event)
