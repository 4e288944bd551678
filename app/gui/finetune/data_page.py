"""Wizard page 1: which of the library's labels to learn, class by class.

The classes come from `core.labels` (folders, accepted tags or albums), loaded through the task runner.
Each class shows its photo count and a thumbnail, the selected class a strip of its photos, and the
set's problems (too small, unbalanced, too few classes) appear as the user includes or leaves out
classes; an error keeps Next disabled. An unfinished run from an earlier session is offered at the top.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from photosift.app.gui.finetune.presets import VAL_FRACTION
from photosift.app.gui.finetune.runs import RunRecord
from photosift.app.gui.presenter import shown_in_place
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.tasks import TaskRunner
from photosift.core.catalog import PhotoInfo
from photosift.core.training_sets import LabelledSet, LabelSource, LabelWarning, check_labelled_set, labelled_set
from photosift.core.wording import plural

SOURCES: tuple[tuple[LabelSource, str], ...] = (
    ("folders", "Folders: each sub-folder of a photo folder is a class"),
    ("parent-folders", "Folder names: the folder each photo is in names its class (train/ants, val/ants: ants)"),
    ("tags", "Tags you gave photos or accepted (Tags ▸ Tag the selection): each tag is a class"),
    ("albums", "Albums: each album is a class"),
)
PREVIEW = 12  # photos of the selected class shown in the strip: enough to recognise it at a glance
ICON = 48
STRIP_ICON = 72
RESUMABLE = {
    "training": "was interrupted",
    "stopped": "is paused",
    "failed": "stopped with an error",
    "finished": "finished; its result is waiting",
}


class DataPage(QWizardPage):
    loaded = Signal()  # the classes of the chosen source are shown
    resume_requested = Signal(object)  # a RunRecord to pick up
    discard_requested = Signal(object)  # a RunRecord to delete

    def __init__(self, runner: TaskRunner, thumbnails: ThumbnailCache, unfinished: list[RunRecord]):
        super().__init__()
        self._runner, self._thumbnails = runner, thumbnails
        self._labelled: LabelledSet | None = None
        self._paths: dict[int, str] = {}
        self._first: dict[int, QTreeWidgetItem] = {}  # photo id -> class row showing it as its icon
        self._problems: list[LabelWarning] = []
        self.setTitle("Choose your labelled photos")
        self.setSubTitle(
            "Fine-tuning teaches the search model which of your photos belong together. Choose what says so, "
            "and leave out classes you do not want it to learn."
        )
        self.source = QComboBox()
        self.source.setAccessibleName("What the classes are")
        for key, text in SOURCES:
            self.source.addItem(text, key)
        self.source.currentIndexChanged.connect(self.load)
        self.classes = QTreeWidget()
        self.classes.setAccessibleName("Classes")
        self.classes.setHeaderLabels(["Class", "Photos", ""])
        self.classes.setRootIsDecorated(False)
        self.classes.setIconSize(QSize(ICON, ICON))
        self.classes.itemChanged.connect(lambda *_: self._recheck())
        self.classes.currentItemChanged.connect(lambda item, _: self._preview(item))
        self.strip = QListWidget()
        self.strip.setAccessibleName("Photos of the selected class")
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(STRIP_ICON, STRIP_ICON))
        self.strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.setFixedHeight(STRIP_ICON + 40)  # one row of icons and the horizontal scroll bar
        self.problems = QLabel(wordWrap=True)
        self.problems.setAccessibleName("Problems with the labelled photos")
        self.summary = QLabel(wordWrap=True)
        thumbnails.ready.connect(self._thumbnail_ready)
        layout = QVBoxLayout(self)
        if unfinished:
            layout.addWidget(self._resume_banner(unfinished[0]))
        layout.addWidget(self.source)
        layout.addWidget(self.classes, 1)
        layout.addWidget(self.strip)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems)

    def _resume_banner(self, record: RunRecord) -> QFrame:
        banner = QFrame(frameShape=QFrame.Shape.StyledPanel)
        row = QHBoxLayout(banner)
        text = self.banner = QLabel(f"The fine-tuning run “{record.name}” {RESUMABLE[record.status]}.", wordWrap=True)
        self.resume_button = QPushButton("&Resume" if record.status != "finished" else "&Show the result")
        self.discard_button = QPushButton("&Discard it")
        self.resume_button.clicked.connect(lambda: self.resume_requested.emit(record))

        def discard() -> None:
            banner.hide()
            self.discard_requested.emit(record)

        self.discard_button.clicked.connect(discard)
        row.addWidget(text, 1)
        row.addWidget(self.resume_button)
        row.addWidget(self.discard_button)
        return banner

    def initializePage(self) -> None:
        if self._labelled is None:
            self.load()

    def load(self) -> None:
        source = self.source.currentData()
        self._labelled = None
        self._first = {}
        self.classes.clear()
        self.strip.clear()
        self.summary.setText("Reading the library's labels…")
        self.completeChanged.emit()
        self._runner.run_op(lambda lib: labelled_set(lib, source), self._show, self._failed)

    def _show(self, labelled: LabelledSet) -> None:
        if labelled.source != self.source.currentData():
            return  # the user chose another source meanwhile; its own load is on the way
        self._labelled = labelled
        self.classes.blockSignals(True)
        self._first = {}
        for labelled_class in labelled.classes:
            item = QTreeWidgetItem([labelled_class.name, str(len(labelled_class.photo_ids)), ""])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            item.setData(0, Qt.ItemDataRole.UserRole, labelled_class.photo_ids)
            item.setIcon(0, self._thumbnails.placeholder)
            self.classes.addTopLevelItem(item)
            if labelled_class.photo_ids:
                self._first[labelled_class.photo_ids[0]] = item
        self.classes.blockSignals(False)
        for column in (0, 1):
            self.classes.resizeColumnToContents(column)
        self._fetch_paths(list(self._first))
        first_class = self.classes.topLevelItem(0)  # None when there are no classes
        if first_class is not None:
            self.classes.setCurrentItem(first_class)
        self._recheck()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.summary.setText("")
        self.loaded.emit()
        shown_in_place(
            lambda s: self.problems.setText(f"<span style='color:#d32f2f'>{s}</span>"), self._runner.present
        )(exc)

    # Choosing classes -------------------------------------------------------------------------------

    def excluded(self) -> list[str]:
        return [item.text(0) for item in self._class_items() if item.checkState(0) != Qt.CheckState.Checked]

    def _class_items(self) -> list[QTreeWidgetItem]:
        count = self.classes.topLevelItemCount()
        return [item for i in range(count) if (item := self.classes.topLevelItem(i)) is not None]

    def set_included(self, name: str, included: bool) -> None:
        for item in self.classes.findItems(name, Qt.MatchFlag.MatchExactly, 0):
            item.setCheckState(0, Qt.CheckState.Checked if included else Qt.CheckState.Unchecked)

    def chosen(self) -> LabelledSet:
        """The set to train on: the classes left included."""
        if self._labelled is None:
            raise RuntimeError("the labelled set is not loaded yet")
        return self._labelled.without(self.excluded())

    def isComplete(self) -> bool:
        return self._labelled is not None and not any(p.severity == "error" for p in self._problems)

    def _recheck(self) -> None:
        if self._labelled is None:
            return
        chosen = self.chosen()
        self._problems = check_labelled_set(chosen)
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.classes.blockSignals(True)  # icons and tooltips are item changes too; only check marks recheck
        for item in self._class_items():
            about = [p.message for p in self._problems if p.class_name == item.text(0)]
            item.setIcon(2, warn if about and item.checkState(0) == Qt.CheckState.Checked else QIcon())
            item.setToolTip(2, "\n".join(about))
        self.classes.blockSignals(False)
        lines = [
            f"<li style='color:{'#d32f2f' if p.severity == 'error' else '#b26a00'}'>{p.message}</li>"
            for p in self._problems
        ]
        self.problems.setText(f"<ul style='margin:0'>{''.join(lines)}</ul>" if lines else "")
        exclusive = chosen.exclusive()
        self.summary.setText(
            f"{plural(len(chosen.classes), 'class')}, {plural(exclusive.total, 'photo')}. "
            f"{round(VAL_FRACTION * 100)}% of each class is held out automatically to measure the result: "
            "those photos are never trained on."
        )
        self.completeChanged.emit()

    # Thumbnails -------------------------------------------------------------------------------------

    def _preview(self, item: QTreeWidgetItem | None) -> None:
        self.strip.clear()
        if item is None:
            return
        ids = list(item.data(0, Qt.ItemDataRole.UserRole))[:PREVIEW]
        for photo_id in ids:
            entry = QListWidgetItem(self._thumbnails.placeholder, "")
            entry.setData(Qt.ItemDataRole.UserRole, photo_id)
            self.strip.addItem(entry)
        self._fetch_paths(ids)

    def _fetch_paths(self, ids: list[int]) -> None:
        missing = [i for i in ids if i not in self._paths]
        if not missing:
            self._show_icons(ids)
            return

        def found(infos: dict[int, PhotoInfo]) -> None:
            self._paths.update({i: info.paths[0] for i, info in infos.items() if info.paths})
            self._show_icons(ids)

        self._runner.run_op(lambda lib: lib.photos(missing), found, self._failed)

    def _show_icons(self, ids: list[int]) -> None:
        for photo_id in ids:
            if photo_id in self._paths:
                icon = self._thumbnails.icon(photo_id, self._paths[photo_id])
                if icon is not None:
                    self._thumbnail_ready(photo_id)

    def _thumbnail_ready(self, photo_id: int) -> None:
        if photo_id not in self._paths:
            return
        icon = self._thumbnails.icon(photo_id, self._paths[photo_id])
        if icon is None:
            return
        if photo_id in self._first:
            self.classes.blockSignals(True)
            self._first[photo_id].setIcon(0, icon)
            self.classes.blockSignals(False)
            self.classes.viewport().update()
        for row in range(self.strip.count()):
            entry = self.strip.item(row)
            if entry.data(Qt.ItemDataRole.UserRole) == photo_id:
                entry.setIcon(icon)
