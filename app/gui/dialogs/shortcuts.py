"""The keyboard shortcuts help: a table read from the window's own actions, so it never goes stale.

Keys handled by widgets rather than actions (moving through the results grid) have no QAction to read;
`NAVIGATION_KEYS` lists them for the caller to append.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QAction, QKeySequence
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

NAVIGATION_KEYS: tuple[tuple[str, str], ...] = (
    ("Move between results", "Arrow keys"),
    ("Scroll the results a page", "Page Up / Page Down"),
    ("First or last result", "Home / End"),
    ("Add the next result to the selection", "Shift+Arrow keys"),
    ("Move between the search field and the results", "Tab / Shift+Tab"),
)


def gather_shortcuts(widget: QWidget) -> list[tuple[str, str]]:
    """(description, keys) for every action with a shortcut in `widget` and its menus, sorted by description.

    Keys are in the platform's native text (⌘F on macOS, Ctrl+F elsewhere); several shortcuts for one
    action are joined with commas. Mnemonic markers are dropped from the text ("&Add" reads "Add").
    """
    actions = [*widget.actions(), *widget.findChildren(QAction)]
    found = set()  # an action both added to the window and parented by it is reached twice
    for action in actions:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        if keys:
            found.add((_without_mnemonic(action.text()), keys))
    return sorted(found, key=lambda pair: (pair[0].casefold(), pair[1]))


def _without_mnemonic(text: str) -> str:
    """ "&Add && remove" -> "Add & remove": a single & marks a mnemonic, a doubled one is a literal &."""
    return "&".join(part.replace("&", "") for part in text.split("&&"))


class ShortcutsDialog(QDialog):
    """Lists (description, keys) pairs in a read-only table."""

    def __init__(self, shortcuts: Sequence[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(shortcuts), 2)
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the Close button
        for row, (description, keys) in enumerate(shortcuts):
            self.table.setItem(row, 0, QTableWidgetItem(description))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(480, 360)
