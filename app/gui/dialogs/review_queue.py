"""The review queue: automatic tags waiting for the user's word, clearest first, to accept or reject one
by one (A and R, arrows to move) or a page at a time.

Reviewed items leave the grid at once and the write goes to the runner's writer; once the writes settle
the queue is fetched again, so the next suggestions move up and the count is exact again. Accepted and
rejected tags are stored as the user's labels (core.tags), which automatic tagging never overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.presenter import shown_in_place
from photosift.app.gui.widgets.placement import centre_over
from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.app.tasks import TaskRunner
from photosift.core.library import Library
from photosift.core.tags.records import ReviewItem

PAGE = 200  # suggestions held at once: a few screens of the grid; the rest load as these are reviewed
ICON = QSize(128, 128)  # smaller than the results grid's cells: the tag under each photo matters as much
Index = QModelIndex | QPersistentModelIndex
Pair = tuple[int, str]  # (photo id, tag name)
VERDICT_KEYS: dict[int, bool] = {Qt.Key.Key_A: True, Qt.Key.Key_R: False}  # accept, reject; QKeyEvent.key() is an int
CHORDS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier


def pair(item: ReviewItem) -> Pair:
    return item.photo_id, item.tag


class ReviewModel(QAbstractListModel):
    """Review items in queue order (clearest first, across tags), each drawn as its photo's thumbnail over the tag."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None):
        super().__init__(parent)
        self._thumbnails = thumbnails
        self.items: list[ReviewItem] = []
        thumbnails.ready.connect(self._thumbnail_ready)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's own default)
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:  # the tag alone: a score beside it would not follow the order
            return item.tag
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnails.icon(item.photo_id, item.path) or self._thumbnails.placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            standing = f"{item.confidence:.1f} spreads above the tag's typical score"
            return f"{item.path}\n{item.tag}: similarity {item.score:.2f}, {standing}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{item.tag}: {PurePath(item.path).name}"
        return None

    def set_items(self, items: Sequence[ReviewItem]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def extend(self, items: Sequence[ReviewItem]) -> None:
        """Append the items not already held (the next suggestions after some were reviewed)."""
        held = {pair(i) for i in self.items}
        new = [i for i in items if pair(i) not in held]
        if new:
            self.beginInsertRows(QModelIndex(), len(self.items), len(self.items) + len(new) - 1)
            self.items.extend(new)
            self.endInsertRows()

    def remove_rows(self, rows: Sequence[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.items[row]
            self.endRemoveRows()

    def _thumbnail_ready(self, photo_id: int) -> None:
        for row, item in enumerate(self.items):  # a photo may wait with several tags
            if item.photo_id == photo_id:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class ReviewQueue(QWidget):
    """A window of suggestions to review, for all tags or one (`review`). It loads whenever it is shown.

    Args:
        thumbnails: a cache of its own is best: the results grid drops queued thumbnails on every search.
    """

    labels_changed = Signal()  # labels were stored: tag counts have moved
    loaded = Signal()  # a fetch of the queue is on show

    def __init__(self, runner: TaskRunner, thumbnails: ThumbnailCache, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.runner = runner
        self.tag: str | None = None  # the tag whose suggestions are shown; None for every tag
        self.waiting = 0
        self._writes = 0  # writes in flight: the queue is fetched again when they settle
        self._reviewed: set[Pair] = set()  # kept out of fetches that raced the writes storing them
        self._seq = 0  # bumped per fetch: only the latest is shown
        self._replacing = False  # a fetch that replaces the grid (another tag, or a reload) is on its way
        self.model = ReviewModel(thumbnails, self)
        self._build()
        self.resize(900, 640)

    def _build(self) -> None:
        self.setWindowTitle("Review tags - Photosift")
        self.setAccessibleName("Review tags")
        self.tag_filter = QComboBox()
        self.tag_filter.setAccessibleName("Tag to review")
        self.tag_filter.addItem("All tags", None)
        self.tag_filter.activated.connect(lambda _i: self._filter_chosen())
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Suggestions waiting")
        view = self.view = QListView()
        view.setAccessibleName("Suggested tags")
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setIconSize(ICON)
        view.setGridSize(QSize(ICON.width() + 24, ICON.height() + 2 * view.fontMetrics().height() + 12))
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setMovement(QListView.Movement.Static)
        view.setUniformItemSizes(True)
        view.setWordWrap(True)
        view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        view.setModel(self.model)
        view.installEventFilter(self)
        self.message = QLabel(wordWrap=True)
        self.message.setAccessibleName("Message")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        self.accept_button = _button("&Accept (A)", "Accept selected", lambda: self.review_selected(True))
        self.reject_button = _button("&Reject (R)", "Reject selected", lambda: self.review_selected(False))
        self.accept_all_button = _button("Accept all shown", "Accept all shown", lambda: self.review_all(True))
        self.reject_all_button = _button("Reject all shown", "Reject all shown", lambda: self.review_all(False))
        buttons = QHBoxLayout()
        for button in (self.accept_button, self.reject_button, self.accept_all_button, self.reject_all_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.close_button = _button("Close", "Close", self.close)
        buttons.addWidget(self.close_button)
        top = QHBoxLayout()
        top.addWidget(QLabel("Tag:"))
        top.addWidget(self.tag_filter)
        top.addStretch(1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(view, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    # Loading ----------------------------------------------------------------------------------------

    def review(self, tag: str | None = None) -> None:
        """Show the window with `tag`'s suggestions (every tag's with None), fetched afresh."""
        self.tag = tag
        self._select_filter()
        parent = self.parentWidget()
        if self.isVisible():
            self.reload()
        elif parent is not None:
            centre_over(self, parent)
        self.show()
        self.raise_()
        self.activateWindow()

    def showEvent(self, event: QShowEvent) -> None:
        """Fetch afresh on every show: indexing and the viewer's chips change the queue meanwhile."""
        super().showEvent(event)
        if not event.spontaneous():
            self.reload()

    def reload(self) -> None:
        """Fetch the tag names and the first page of the queue, replacing what is shown."""
        self.runner.run_op(lambda lib: [t.name for t in lib.tags.tags()], self._show_tags, self._failed)
        self._fetch(replace=True)

    def _fetch(self, replace: bool) -> None:
        """Fetch the queue's first page: to replace what is shown, or to append what is not yet shown."""
        self._seq += 1
        replace = replace or self._replacing  # a newer fetch supersedes a pending replacement: it replaces too
        self._replacing = replace
        seq, tag = self._seq, self.tag

        def fetch(lib: Library) -> tuple[list[ReviewItem], int]:
            return lib.tags.review_queue(PAGE, tag), lib.tags.review_count(tag)

        def show(found: tuple[list[ReviewItem], int]) -> None:
            if seq != self._seq:
                return
            self._replacing = False
            items = [i for i in found[0] if pair(i) not in self._reviewed]
            if replace:
                self.model.set_items(items)
                self._select(0)
            else:
                self.model.extend(items)
            self._set_waiting(found[1])
            self.loaded.emit()

        self.runner.run_op(fetch, show, self._failed)

    def _show_tags(self, names: list[str]) -> None:
        self.tag_filter.clear()
        self.tag_filter.addItem("All tags", None)
        for name in names:
            self.tag_filter.addItem(name, name)
        self._select_filter()

    def _select_filter(self) -> None:
        self.tag_filter.setCurrentIndex(max(0, self.tag_filter.findData(self.tag)))

    def _filter_chosen(self) -> None:
        self.tag = self.tag_filter.currentData()
        self._fetch(replace=True)

    def _set_waiting(self, count: int) -> None:
        self.waiting = max(0, count)
        self.count_label.setText(
            "Nothing waiting for review."
            if not self.waiting
            else f"{self.waiting:,} suggestion{'s' if self.waiting != 1 else ''} waiting"
        )

    # Reviewing --------------------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        """The selected rows, or the current one when none is selected."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        current = self.view.currentIndex()
        return rows or ([current.row()] if current.isValid() else [])

    def review_selected(self, accepted: bool) -> None:
        self._review(self.selected_rows(), accepted)

    def review_all(self, accepted: bool) -> None:
        """Accept or reject every suggestion shown (the page held, not those still waiting beyond it)."""
        self._review(range(self.model.rowCount()), accepted)

    def _review(self, rows: Sequence[int], accepted: bool) -> None:
        """Take `rows` out of the grid at once and store the user's word on them in the background."""
        if not rows:
            return
        pairs = [pair(self.model.items[r]) for r in rows]
        self._reviewed.update(pairs)
        self.model.remove_rows(rows)
        self._select(min(rows))
        self._set_waiting(self.waiting - len(pairs))
        self._writes += 1

        def write(lib: Library) -> int:
            return lib.tags.accept(pairs) if accepted else lib.tags.reject(pairs)

        def failed(exc: BaseException) -> None:
            self._writes -= 1
            self._reviewed.difference_update(pairs)
            self._failed(exc)
            if not self._writes:
                self._fetch(replace=True)  # what was stored and what was not: ask the catalog

        self.runner.run_op(write, lambda _stored: self._written(), failed, writes=True)

    def _written(self) -> None:
        self._writes -= 1
        self.labels_changed.emit()
        if not self._writes:
            self._fetch(replace=False)  # the next suggestions, and the exact count

    def _select(self, row: int) -> None:
        """Make `row` (or the last row) current and selected, so A and R go on with the next one."""
        count = self.model.rowCount()
        if count:
            self.view.setCurrentIndex(self.model.index(min(row, count - 1)))

    def _failed(self, exc: BaseException) -> None:
        shown_in_place(self._show_message, self.runner.present)(exc)

    def _show_message(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.show()

    # Keys -------------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A accepts and R rejects the selection in the grid; the grid keeps its arrows and type-ahead."""
        if watched is self.view and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            verdict = VERDICT_KEYS.get(event.key())
            if verdict is not None and not event.modifiers() & CHORDS:  # Ctrl+A: select all
                self.review_selected(verdict)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)


def _button(text: str, name: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(name)
    button.clicked.connect(slot)
    return button
