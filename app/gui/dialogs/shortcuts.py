"""The keyboard shortcuts help: a table read from the window's own actions, so it never goes stale.

Keys handled by widgets rather than actions (moving through the results grid, the viewer) have no QAction
to read; `SEARCH_KEYS`, `NAVIGATION_KEYS` (and the viewer's `VIEWER_KEYS`) list them for the caller to
append. Rows are grouped (search, grid, viewer, library), one row per action.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QKeyCombination, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

GROUPS = ("Search", "Grid", "Viewer", "Library")  # the order of the help's sections
GROUP_PROPERTY = "shortcutGroup"  # an action's section, set by the menus; "Library" when not set
Row = tuple[str, str, str]  # (group, description, keys)
Shortcut = QKeySequence | QKeySequence.StandardKey | str
DEDICATED_KEYS = {
    Qt.Key.Key_Copy,
    Qt.Key.Key_Paste,
    Qt.Key.Key_Cut,
    Qt.Key.Key_Help,
    Qt.Key.Key_ZoomIn,
    Qt.Key.Key_ZoomOut,
}
# Keys for standard shortcuts that some platform leaves unbound: Qt binds Preferences only on macOS
# (⌘,); Ctrl+, is what GNOME and KDE applications use for it.
STANDARD_FALLBACKS = {QKeySequence.StandardKey.Preferences: "Ctrl+,"}

SEARCH_KEYS: tuple[Row, ...] = (
    ("Search", "Go from the search field to the results", "Down"),
    ("Search", "Go back to the search field from the results", "Esc"),
)
NAVIGATION_KEYS: tuple[Row, ...] = (
    ("Grid", "Move between results", "Arrow keys"),
    ("Grid", "Scroll the results a page", "Page Up / Page Down"),
    ("Grid", "First or last result", "Home / End"),
    ("Grid", "Add the next result to the selection", "Shift+Arrow keys"),
    ("Grid", "Move between the search field and the results", "Tab / Shift+Tab"),
)


def key_bindings(shortcut: Shortcut) -> list[QKeySequence]:
    """The keys for `shortcut`; a standard key this platform leaves unbound (Preferences on Linux) gets
    its fallback from `STANDARD_FALLBACKS`, so every action that shows a shortcut has one."""
    if isinstance(shortcut, QKeySequence.StandardKey):
        fallback = STANDARD_FALLBACKS.get(shortcut)
        return QKeySequence.keyBindings(shortcut) or ([QKeySequence(fallback)] if fallback else [])
    return [QKeySequence(shortcut)]


def gather_shortcuts(widget: QWidget) -> list[Row]:
    """(group, description, keys) for every action with a shortcut in `widget` and its menus.

    Keys are in the platform's native text (⌘F on macOS, Ctrl+F elsewhere); several shortcuts for one
    action are joined with commas. Mnemonic markers are dropped from the text ("&Add" reads "Add").
    """
    actions = [*widget.actions(), *widget.findChildren(QAction)]
    found = set()  # an action both added to the window and parented by it is reached twice
    for action in actions:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if _typable(k))
        if keys:
            found.add((action.property(GROUP_PROPERTY) or "Library", _without_mnemonic(action.text()), keys))
    return sorted(found)


def grouped(rows: Iterable[Row]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The rows by group in `GROUPS` order, sorted by description, one row per description (the keys of
    rows that describe the same thing are joined)."""
    keys: dict[tuple[str, str], list[str]] = {}
    for group, description, key in rows:
        listed = keys.setdefault((group, description), [])
        if key not in listed:
            listed.append(key)
    order = {group: number for number, group in enumerate(GROUPS)}
    sections: dict[str, list[tuple[str, str]]] = {}
    for (group, description), listed in sorted(
        keys.items(), key=lambda i: (order.get(i[0][0], 99), i[0][1].casefold())
    ):
        sections.setdefault(group, []).append((description, ", ".join(listed)))
    return list(sections.items())


def _typable(keys: QKeySequence) -> bool:
    """False for the dedicated keys some keyboards have (Copy, Paste, Help, F13-F35 on Sun keyboards) that
    Qt's standard shortcuts also bind: listing them only hides the keys people type."""
    if not keys.count():
        return False
    # PySide6's stubs leave out QKeySequence.__getitem__ (C++'s operator[]), which the binding has.
    first: QKeyCombination = keys[0]  # type: ignore[index]
    key = first.key()
    return key not in DEDICATED_KEYS and not Qt.Key.Key_F13 <= key <= Qt.Key.Key_F35


def _without_mnemonic(text: str) -> str:
    """ "&Add && remove" -> "Add & remove": a single & marks a mnemonic, a doubled one is a literal &."""
    return "&".join(part.replace("&", "") for part in text.split("&&"))


class ShortcutsDialog(QDialog):
    """Lists shortcuts in a read-only table, a bold heading row over each group."""

    def __init__(self, rows: Sequence[Row], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        sections = grouped(rows)
        self.table = QTableWidget(sum(1 + len(pairs) for _, pairs in sections), 2)
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the Close button
        row = 0
        for group, pairs in sections:
            heading = QTableWidgetItem(group)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            self.table.setItem(row, 0, heading)
            self.table.setSpan(row, 0, 1, 2)
            row += 1
            for description, keys in pairs:
                self.table.setItem(row, 0, QTableWidgetItem(description))
                self.table.setItem(row, 1, QTableWidgetItem(keys))
                row += 1
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the rows to their wrapped text at the width the table then has (after the layout, so a turn of
        the event loop later): fitted once up front, "Find photos like an image file…" showed as "…image …"."""
        super().resizeEvent(event)
        QTimer.singleShot(0, self.table.resizeRowsToContents)
