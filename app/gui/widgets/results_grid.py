"""The results grid: a justified icon-mode list over `ResultsModel`, scrolled over every result, not only
the loaded ones, with keyboard focus that never stops on a month heading.

Qt draws the cells itself (no Python delegate; `results_model` says why). The model sizes every cell
(`justified`) for the width this view wraps its lines at, which `line_width` computes as Qt's own layout
does, so the view breaks lines exactly where the model justified them.

The model loads pages as the grid scrolls; the scrollbar's range nevertheless covers every result (the
unloaded ones estimated at the loaded ones' average height), so a drag reaches the real end, and End
jumps to the last photo once what lies before it is loaded.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import PurePath

from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QMouseEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QStyle, QWidget

from photosift.app.gui.prefs import THUMBNAIL_DEFAULT
from photosift.app.gui.readable import readable_path
from photosift.app.gui.widgets.grid_geometry import GridGeometry
from photosift.app.gui.widgets.results_model import ResultsModel

SPACING = 4  # pixels between neighbouring cells (and around the grid)
CAPTION_GAP = 4  # pixels between a photo and its name, when names are shown below photos
# Up to this many rows a resize lays the grid out again at once (a few ms); more wait for RELAYOUT_MS of
# calm, as 100,000 rows take about a second to lay out on a 2-core machine (benchmarks/bench_grid_paint.py).
RELAYOUT_AT_ONCE = 5000
RELAYOUT_MS = 150
Action = QAbstractItemView.CursorAction
BACKWARDS = (Action.MoveLeft, Action.MovePrevious, Action.MovePageUp)


class ResultsView(QListView):
    """The grid of results; `set_line_height` sets the thumbnail size (the target height of a line)."""

    def __init__(self, model: ResultsModel) -> None:
        super().__init__()
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setSpacing(SPACING)
        self.setMouseTracking(True)  # the hover caption
        self.setModel(model)
        self._model = model
        self.selectionModel().selectionChanged.connect(self._selection_changed)
        self._line_height = THUMBNAIL_DEFAULT
        self._names = False
        self._end_wanted = False  # End was pressed before the last photo was loaded
        self._bottom_wanted = False  # the scrollbar was dragged to the end before the last photo was loaded
        self._updating = False  # inside Qt's updateGeometries, whose range covers the loaded rows only
        self.caption = HoverCaption(self.viewport())
        self._relayout = QTimer(self, singleShot=True, interval=RELAYOUT_MS)
        self._relayout.timeout.connect(self._lay_out)
        # For the View menu: names (and scores) below every photo rather than on hover only.
        self.names_action = QAction("Show &names below photos", self, checkable=True)
        self.names_action.toggled.connect(self.set_names_shown)
        self.entered.connect(self._hovered)
        model.rowsInserted.connect(self._rows_arrived)

    # Layout -----------------------------------------------------------------------------------------

    def set_line_height(self, height: int) -> None:
        """The thumbnail size: lines of photos are about this tall."""
        self._line_height = height
        self.setIconSize(QSize(height, height))  # what the View menu steps and the preferences keep
        self._lay_out()

    def set_names_shown(self, shown: bool) -> None:
        """Show every photo's name below it (otherwise names and scores show on hover)."""
        self._names = shown
        self._lay_out()

    def line_width(self) -> int:
        """The width Qt's icon-mode layout wraps at: the viewport as if the vertical scrollbar showed."""
        width = self.maximumViewportSize().width()
        if self.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded:
            width -= self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self.verticalScrollBar())
            if self.style().styleHint(QStyle.StyleHint.SH_ScrollView_FrameOnlyAroundContents, None, self):
                width -= 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, None, self)
        return width

    def _lay_out(self) -> None:
        caption = self.fontMetrics().height() + CAPTION_GAP if self._names else 0
        ratio, highlight = self.devicePixelRatioF(), self.palette().color(QPalette.ColorRole.Highlight)
        self._model.set_geometry(GridGeometry(self.line_width(), self._line_height, SPACING, caption, ratio, highlight))

    def _selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self._model.set_selected((i.row() for i in deselected.indexes()), False)
        self._model.set_selected((i.row() for i in selected.indexes()), True)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch: the selection's frame follows it
            self._lay_out()

    def event(self, event: QEvent) -> bool:
        # A screen of another pixel ratio (Qt sends no resize with it, nor a changeEvent): the pictures on
        # screen are made again for it, at the thumbnails' tier for it (`ThumbnailCache.fit_to`).
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self._lay_out()
            self._model.want_thumbnails(self.rows_on_screen())
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._model.rowCount() > RELAYOUT_AT_ONCE:
            self._relayout.start()  # once the drag of the window's edge pauses
        else:
            self._lay_out()  # before Qt's own delayed layout runs, so lines are laid out once, right

    def updateGeometries(self) -> None:
        """Qt's range covers the loaded rows; the rest of the results are added below them."""
        bar = self.verticalScrollBar()
        value, self._updating = bar.value(), True
        try:
            super().updateGeometries()  # may cut the value to the loaded rows' range for a moment
        finally:
            self._updating = False
        # The model's height, as the view may not have laid its newest rows out yet.
        top = self._model.laid_out_height() + self._rest_height() - self.viewport().height()
        if top > bar.maximum():
            bar.setRange(0, top)
            bar.setValue(value)

    def _rest_height(self) -> int:
        """The estimated height of the results not loaded yet (at the loaded ones' average)."""
        loaded, remaining = self._model.hit_count(), self._model.remaining()
        if not loaded or not remaining:
            return 0
        return int(self._model.laid_out_height() * remaining / loaded)

    def rows_on_screen(self) -> range:
        """The rows on screen, plus a screen more below (their thumbnails are made ahead)."""
        lines, area = self._model.lines(), self.viewport().rect()
        if not lines or area.isEmpty():
            return range(0)
        first = self._line_at(area.top())
        if first + 1 < len(lines) and self.visualRect(self._model.index(lines[first], 0)).bottom() < area.top():
            first += 1  # that line ended in the spacing above the screen
        last = self._line_at(area.bottom() + area.height())
        end = lines[last + 1] if last + 1 < len(lines) else self._model.rowCount()
        return range(lines[first], end)

    def _line_at(self, y: int) -> int:
        """The last line whose top is at or above `y` (viewport coordinates); lines run down in order."""
        lines = self._model.lines()
        low, high = 0, len(lines) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.visualRect(self._model.index(lines[middle], 0)).top() <= y:
                low = middle
            else:
                high = middle - 1
        return low

    # Loading to where the user scrolled --------------------------------------------------------------

    def verticalScrollbarValueChanged(self, value: int) -> None:
        """Load the results scrolled to (Qt's own handler loads one page only at the very end)."""
        self.caption.hide()
        loaded = self._model.laid_out_height()  # the view may not have laid the newest rows out yet
        if self._updating or not self._model.remaining() or not loaded:
            return
        bottom = self.verticalScrollBar().maximum()
        if value >= bottom:
            self._bottom_wanted = True
            self._model.load_all()
            return
        per_photo = loaded / max(1, self._model.hit_count())
        beyond = value + 2 * self.viewport().height() - loaded  # the screen scrolled to, and one more
        if beyond > 0:
            self._model.load_through(self._model.hit_count() + int(beyond / per_photo) + 1)

    def rowsInserted(self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int) -> None:
        """Lay the rows out once the model has made them all: Qt's list view lays every row out again for
        each insertion, which for End's 100,000 rows, made over many turns, cost more than making them."""
        if self._model.filling():
            QAbstractItemView.rowsInserted(self, parent, start, end)  # the rows this view laid out stay
        else:
            super().rowsInserted(parent, start, end)

    def _rows_arrived(self) -> None:
        if self._model.remaining() and (self._end_wanted or self._bottom_wanted):
            self._model.load_all()  # a query too large for one request
            return
        if self._end_wanted:
            self.setCurrentIndex(self._photo_from(self._model.rowCount() - 1, -1))
        if self._end_wanted or self._bottom_wanted:
            QTimer.singleShot(0, self.scrollToBottom)  # once the new rows are laid out
        self._end_wanted = self._bottom_wanted = False

    # Keyboard focus ---------------------------------------------------------------------------------

    def moveCursor(self, action: Action, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """Qt's moves, except that month headings are skipped, Up and Down keep to the column under the
        current photo, and End loads every result and goes to the last."""
        current = self.currentIndex()
        if action == Action.MoveEnd:
            self._end_wanted = bool(self._model.remaining())
            self._model.load_all()  # refused while a page is on its way: asked again when it arrives
            return self._photo_from(self._model.rowCount() - 1, -1)
        if action == Action.MoveHome:
            return self._photo_from(0, 1)
        if action in (Action.MoveUp, Action.MoveDown) and current.isValid():
            return self._line_neighbour(current.row(), -1 if action == Action.MoveUp else 1)
        index = super().moveCursor(action, modifiers)
        return self._photo_from(index.row(), -1 if action in BACKWARDS else 1) if index.isValid() else index

    def _photo_from(self, row: int, step: int) -> QModelIndex:
        """The photo at `row`, or the nearest one in the direction `step` (then the other way)."""
        for direction in (step, -step):
            at = row
            while 0 <= at < self._model.rowCount():
                if self._model.hit_at(at) is not None:
                    return self._model.index(at, 0)
                at += direction
        return QModelIndex()

    def _line_neighbour(self, row: int, step: int) -> QModelIndex:
        """The photo in the next line of photos up or down from `row`, nearest to it across; `row`
        itself at the first or last line."""
        lines, count = self._model.lines(), self._model.rowCount()
        line = bisect_right(lines, row) - 1 + step
        while 0 <= line < len(lines) and self._model.hit_at(lines[line]) is None:
            line += step  # a heading's line
        if not 0 <= line < len(lines):
            return self._model.index(row, 0)
        centre = self.visualRect(self._model.index(row, 0)).center().x()
        end = lines[line + 1] if line + 1 < len(lines) else count
        candidates = range(lines[line], end)
        best = min(candidates, key=lambda r: abs(self.visualRect(self._model.index(r, 0)).center().x() - centre))
        return self._model.index(best, 0)

    # Mouse: headings are not photos -----------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self._on_heading(event):
            super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if not self._on_heading(event):
            super().mouseDoubleClickEvent(event)

    def _on_heading(self, event: QMouseEvent) -> bool:
        index = self.indexAt(event.position().toPoint())
        return index.isValid() and self._model.hit_at(index.row()) is None

    def leaveEvent(self, event: QEvent) -> None:
        self.caption.hide()
        super().leaveEvent(event)

    def _hovered(self, index: QModelIndex | QPersistentModelIndex) -> None:
        hit = self._model.hit_at(index.row())
        if hit is not None:
            self._model.give_tooltip(index.row())
        if hit is None or self._names:
            self.caption.hide()
            return
        score = "" if hit.score is None else f"  ·  {hit.score:.2f}"
        name = PurePath(readable_path(hit.path)).name  # Qt would drop the odd letters of a name not in UTF-8
        self.caption.show_over(self.visualRect(self._model.index(index.row(), 0)), name + score)


class HoverCaption(QLabel):
    """The name (and match score) of the photo under the pointer, laid over the bottom of its picture."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("color: white; background: rgba(0, 0, 0, 150); padding: 2px 4px;")
        self.hide()

    def show_over(self, cell: QRect, text: str) -> None:
        height = self.fontMetrics().height() + 4
        self.setText(self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, max(0, cell.width() - 8)))
        self.setGeometry(cell.left(), cell.bottom() - height + 1, cell.width(), height)
        self.show()
        self.raise_()
