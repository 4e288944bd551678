"""The duplicate review: near-duplicate groups one at a time, the suggested copy to keep first.

Each photo shows its thumbnail, size and whether it is kept or marked as a duplicate; ticking or unticking
a photo is the person's word on it, "Keep this one" keeps the selected photo and marks the rest, and "Not
duplicates" unmarks the group. Marks are stored in the catalog at once (the runner's writer), so they
survive a restart and the next search. Photosift never deletes or moves a photo: "Show in folder" and the
exported list are how the person acts on what they marked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.ops.results import show_folder
from photosift.app.gui.start_folders import in_documents
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.tasks import TaskRunner
from photosift.core.duplicates.records import DuplicateGroup, DuplicateMember, DuplicateReport, Findings
from photosift.core.duplicates.service import Duplicates
from photosift.core.errors import Cancelled
from photosift.core.library import Library
from photosift.core.progress import CancelToken, Progress
from photosift.core.wording import plural

ICON = QSize(160, 160)
PHOTO_ROLE = Qt.ItemDataRole.UserRole + 1  # the photo id of an item


class DuplicatesDialog(QDialog):
    """Review the library's near-duplicate groups; `load()` shows what the last search found."""

    loaded = Signal()  # the groups on show were fetched (afresh after each change)
    marks_changed = Signal()  # marks were stored: is:duplicate and hidden results have moved
    hide_changed = Signal(bool)  # the person wants marked duplicates hidden from search results (or not)

    def __init__(
        self,
        runner: TaskRunner,
        thumbnails: ThumbnailCache,
        hide_duplicates: bool,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.runner, self.thumbnails, self._open_url = runner, thumbnails, open_url
        self.groups: list[DuplicateGroup] = []
        self.position = 0
        self._finding: CancelToken | None = None
        self._build(hide_duplicates)
        thumbnails.ready.connect(self._thumbnail_ready)
        runner.progress.connect(self._progress)
        self.resize(860, 560)

    def _build(self, hide_duplicates: bool) -> None:
        self.setWindowTitle("Near-duplicates - Photosift")
        self.setAccessibleName("Near-duplicates")
        self.title = QLabel()
        self.title.setAccessibleName("Group")
        photos = self.photos = QListWidget()
        photos.setAccessibleName("Photos of the group")
        photos.setViewMode(QListView.ViewMode.IconMode)
        photos.setIconSize(ICON)
        photos.setGridSize(QSize(ICON.width() + 40, ICON.height() + 3 * photos.fontMetrics().height() + 16))
        photos.setResizeMode(QListView.ResizeMode.Adjust)
        photos.setMovement(QListView.Movement.Static)
        photos.setWordWrap(True)
        photos.itemChanged.connect(self._ticked)
        self.status = QLabel(
            "Ticked photos are marked as duplicates. Photosift never deletes or moves a photo: use Show in "
            "folder or Export list to act on them.",
            wordWrap=True,
        )
        self.status.setAccessibleName("Status")
        self.hide_box = QCheckBox("&Hide marked duplicates from search results")
        self.hide_box.setChecked(hide_duplicates)
        self.hide_box.toggled.connect(self.hide_changed.emit)
        self.previous_button = _button("&Previous", lambda: self.show_group(self.position - 1))
        self.next_button = _button("&Next", lambda: self.show_group(self.position + 1))
        self.keep_button = _button("&Keep this one", self.keep_selected)
        self.distinct_button = _button("N&ot duplicates", lambda: self.mark_group(False))
        self.folder_button = _button("Show in &folder", self.show_in_folder)
        self.find_button = _button("&Find duplicates", self.find_duplicates)
        self.export_button = _button("&Export list…", self.export)
        self.close_button = _button("Close", self.close)
        review = QHBoxLayout()
        for button in (self.previous_button, self.next_button, self.keep_button, self.distinct_button):
            review.addWidget(button)
        review.addStretch(1)
        review.addWidget(self.folder_button)
        tools = QHBoxLayout()
        tools.addWidget(self.hide_box)
        tools.addStretch(1)
        tools.addWidget(self.find_button)
        tools.addWidget(self.export_button)
        tools.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(photos, 1)
        layout.addLayout(review)
        layout.addWidget(self.status)
        layout.addLayout(tools)

    # Loading and finding ----------------------------------------------------------------------------

    def load(self) -> None:
        """Fetch the groups the last search stored, and show the current one."""
        self.runner.run_op(lambda lib: Duplicates(lib).groups(), self._loaded)

    def find_duplicates(self) -> None:
        """Search the library again in the background (Cancel stops it; the earlier groups then stay).

        The search reads on a read thread, so writes (marks, tags, indexing) go on meanwhile; only storing
        what it found takes the writer, briefly.
        """
        if self._finding is not None:
            self._finding.cancel()
            return
        self.find_button.setText("&Cancel")
        self._finding = self.runner.run_long_op(
            lambda lib, progress, cancel: Duplicates(lib).search(progress, cancel),
            self._searched,
            self._find_failed,
            writes=False,
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing stops a search in progress (the groups found before stay)."""
        if self._finding is not None:
            self._finding.cancel()
        super().closeEvent(event)

    def _searched(self, findings: Findings) -> None:
        if self._finding is not None and self._finding.cancelled:  # stopped after the reading part
            self._find_failed(Cancelled(partial=replace(findings, groups=None)))
            return
        self.runner.run_op(lambda lib: Duplicates(lib).save(findings), self._found, self._find_failed, writes=True)

    def _found(self, report: DuplicateReport) -> None:
        self._search_over()
        self.status.setText(report.summary())
        self.position = 0
        self.marks_changed.emit()
        self.load()

    def _find_failed(self, error: BaseException) -> None:
        self._search_over()
        if not isinstance(error, Cancelled):
            self.runner.present(error)
            return
        self.status.setText("Stopped: the groups found before are still here.")
        if isinstance(error.partial, Findings):  # keep the signatures read so far, for the next search
            partial = error.partial
            self.runner.run_op(lambda lib: Duplicates(lib).save(partial), lambda _: None, writes=True)

    def _search_over(self) -> None:
        self._finding = None
        self.find_button.setText("&Find duplicates")

    def _progress(self, progress: Progress) -> None:
        if self._finding is not None and progress.stage.startswith("duplicate"):
            total = f" of {progress.total:,}" if progress.total else ""
            self.status.setText(f"{progress.message or 'Working'}: {progress.done:,}{total}…")

    def _loaded(self, groups: list[DuplicateGroup]) -> None:
        self.groups = groups
        self.show_group(min(self.position, max(len(groups) - 1, 0)))
        self.loaded.emit()

    # Showing a group --------------------------------------------------------------------------------

    def current(self) -> DuplicateGroup | None:
        return self.groups[self.position] if 0 <= self.position < len(self.groups) else None

    def show_group(self, position: int) -> None:
        """Show the group at `position` (clamped to those there are)."""
        self.position = max(0, min(position, len(self.groups) - 1))
        group = self.current()
        self.photos.blockSignals(True)  # filling the list is not the person ticking photos
        self.photos.clear()
        for member in group.members if group else ():
            self.photos.addItem(self._item(member))
        self.photos.blockSignals(False)
        if group is None:
            self.title.setText("No near-duplicates found yet: press Find duplicates to search the library.")
        else:
            state = "reviewed" if group.reviewed else "suggested"
            count = f"{len(group.members)} photos"
            self.title.setText(f"Group {self.position + 1} of {len(self.groups)}: {count}, {state}")
            self.photos.setCurrentRow(0)
        for button in (self.keep_button, self.distinct_button, self.folder_button):
            button.setEnabled(group is not None)
        self.previous_button.setEnabled(self.position > 0)
        self.next_button.setEnabled(self.position < len(self.groups) - 1)

    def _item(self, member: DuplicateMember) -> QListWidgetItem:
        size = f"{member.width}x{member.height}" if member.width and member.height else "size unknown"
        role = "Duplicate" if member.duplicate else "Keep"
        item = QListWidgetItem(f"{role}\n{size}\n{Path(member.path).name}")
        item.setData(PHOTO_ROLE, member.photo_id)
        item.setToolTip(f"{member.path}\nsimilarity to the kept copy {member.similarity:.3f}")
        item.setIcon(self.thumbnails.icon(member.photo_id, member.path) or self.thumbnails.placeholder)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if member.duplicate else Qt.CheckState.Unchecked)
        return item

    def _thumbnail_ready(self, photo_id: int) -> None:
        group = self.current()
        for row in range(self.photos.count()):
            item = self.photos.item(row)
            if item.data(PHOTO_ROLE) == photo_id and group is not None:
                member = group.members[row]
                self.photos.blockSignals(True)  # an icon arriving is not the person ticking the photo
                item.setIcon(self.thumbnails.icon(photo_id, member.path) or self.thumbnails.placeholder)
                self.photos.blockSignals(False)

    # The person's word --------------------------------------------------------------------------------

    def _selected(self) -> DuplicateMember | None:
        group, row = self.current(), self.photos.currentRow()
        return group.members[row] if group is not None and 0 <= row < len(group.members) else None

    def _ticked(self, item: QListWidgetItem) -> None:
        group, row = self.current(), self.photos.row(item)
        duplicate = item.checkState() == Qt.CheckState.Checked
        if group is None or not 0 <= row < len(group.members) or group.members[row].duplicate == duplicate:
            return  # not a change of the tick (its photo's state was reloaded meanwhile)
        photo_id = group.members[row].photo_id
        self._write(lambda lib: Duplicates(lib).mark([photo_id], duplicate))

    def keep_selected(self) -> None:
        """Keep the selected photo; every other photo of the group is marked as a duplicate."""
        group, member = self.current(), self._selected()
        if group is not None and member is not None:
            self._write(lambda lib: Duplicates(lib).keep(group.id, member.photo_id))

    def mark_group(self, duplicate: bool) -> None:
        """Mark every photo of the group (False: they are not duplicates after all)."""
        group = self.current()
        if group is not None:
            self._write(lambda lib: Duplicates(lib).mark([m.photo_id for m in group.members], duplicate))

    def _write(self, work: Callable[[Library], object]) -> None:
        self.runner.run_op(work, self._written, writes=True)

    def _written(self, _: object) -> None:
        self.marks_changed.emit()
        self.load()

    def show_in_folder(self) -> None:
        member = self._selected()
        if member is not None:
            show_folder(self, self._open_url, Path(member.path).parent)

    def export(self) -> None:
        """Write the groups to a JSON file the person picks (refused inside a photo folder)."""
        suggested = in_documents("duplicates.json")
        name, _ = QFileDialog.getSaveFileName(self, "Export the duplicate list", suggested, "JSON (*.json)")
        if name:
            self.runner.run_op(
                lambda lib: Duplicates(lib).export(Path(name)),
                lambda count: self.status.setText(f"Wrote {plural(count, 'group')} to {name}."),
            )


def _button(text: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(text.replace("&", "").rstrip("…"))
    button.clicked.connect(lambda: slot())
    return button
