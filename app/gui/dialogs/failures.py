"""The files that could not be read, each with its reason: to fix by hand or paste into a bug report.

Paths and reasons are shown and copied readably (`readable_path`): a name that is not UTF-8 would
otherwise lose its odd letters, as Qt drops the surrogates that stand for them ("caf.jpg" for café.jpg).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.readable import readable_path
from photosift.core.catalog import PhotoInfo

EXPLANATION = (
    "These files were skipped because they could not be read as photos. They are not tried again until "
    "they change: repair or replace a file and the next scan indexes it."
)
# Tabs and line breaks inside a cell would break the tab-separated list apart.
FLATTEN = str.maketrans("\t\r\n", "   ")


def photo_path(photo: PhotoInfo) -> str:
    """The photo's path as a person reads it, or its id when it has none left."""
    return readable_path(photo.paths[0]) if photo.paths else f"#{photo.id}"


class FailuresDialog(QDialog):
    """A sortable table of path and reason, with a button that copies it as tab-separated text.

    Args:
        failures: the failed photos, already fetched through the task runner by the caller.
        folder: the folder they were listed for (titles the dialog), or None for the whole library.
        total: how many failures there are in all, when `failures` is only the first part of them.
    """

    def __init__(
        self,
        failures: Sequence[PhotoInfo],
        folder: str | None = None,
        total: int | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        name = readable_path(Path(folder).name or folder) if folder else ""
        self.setWindowTitle(f"Unreadable files in {name}" if folder else "Unreadable files")
        shown = f" Showing the first {len(failures):,} of {total:,}." if total and total > len(failures) else ""
        self.note = QLabel(EXPLANATION + shown)
        self.note.setWordWrap(True)
        self.table = self._table(failures)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy list", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setAccessibleDescription("Copies every file and reason, tab-separated, to the clipboard")
        self.copy_button.clicked.connect(self.copy_list)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(860, 420)

    @staticmethod
    def _table(failures: Sequence[PhotoInfo]) -> QTableWidget:
        table = QTableWidget(len(failures), 2)
        table.setAccessibleName("Unreadable files")
        table.setHorizontalHeaderLabels(["File", "Reason"])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        for row, photo in enumerate(failures):
            for column, text in enumerate((photo_path(photo), readable_path(photo.error or ""))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # long paths and reasons are cut off in the cell
                table.setItem(row, column, item)
        table.setSortingEnabled(True)  # only after filling: rows inserted into a sorted table move under us
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        table.setColumnWidth(0, 480)
        return table

    def rows(self) -> list[tuple[str, str]]:
        """(path, reason) in the order shown."""
        return [(self._text(row, 0), self._text(row, 1)) for row in range(self.table.rowCount())]

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def copy_list(self) -> None:
        """Put a header line and one "path<TAB>reason" line per file on the clipboard, in the order shown."""
        lines = ("\t".join(cell.translate(FLATTEN) for cell in row) for row in self.rows())
        QGuiApplication.clipboard().setText("\n".join(["File\tReason", *lines]) + "\n")
