"""The side panel's Tools section: a "Near-duplicates" row with how many photos are marked as duplicates
of another (core.duplicates), which opens the review. The count is one background read per refresh."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QTreeWidgetItem

from photosift.app.gui.widgets.library_sections import KIND_ROLE
from photosift.app.gui.widgets.side_panel import SidePanel
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library
from photosift.core.wording import plural

NOT_SEARCHED = "Find bursts, resized copies and edits of the same photo, and choose which copy to keep"


def count_duplicates(library: Library) -> int:
    """Photos marked as duplicates of another (each group's best copy is not counted)."""
    from photosift.core.duplicates.service import Duplicates  # numpy and the pair search: not at window start

    return len(Duplicates(library).duplicate_photo_ids())


class DuplicatesEntry(QObject):
    """Fills the Near-duplicates row and opens the review when it is clicked."""

    def __init__(self, panel: SidePanel, runner: TaskRunner, open_review: Callable[[], object]):
        super().__init__(panel)
        self.runner, self._open_review = runner, open_review
        self.section = panel.add_section("Tools")
        self.item = QTreeWidgetItem(self.section, ["Near-duplicates", ""])
        self.item.setData(0, KIND_ROLE, "duplicates")
        self.item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.show(0)
        panel.item_activated.connect(self._activated)

    def refresh(self, on_error: Callable[[BaseException], None]) -> None:
        self.runner.run_op(count_duplicates, self.show, on_error)

    def show(self, count: int) -> None:
        self.item.setText(1, f"{count:,}" if count else "")
        # With no count the name takes the count's column too: a folder's "1,204 · indexing…" widens that
        # column for every row, and "Near-duplicates" was cut to "Near-duplica…".
        self.item.setFirstColumnSpanned(not count)
        marked = f"{plural(count, 'photo')} {'is' if count == 1 else 'are'} marked as near-duplicates"
        tip = f"{marked}: review them" if count else NOT_SEARCHED
        self.item.setToolTip(0, tip)
        self.item.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"Near-duplicates, {plural(count, 'photo')}")

    def _activated(self, item: QTreeWidgetItem) -> None:
        if item is self.item:
            self._open_review()
