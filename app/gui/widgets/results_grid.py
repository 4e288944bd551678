"""Geometry of the results grid: the cell each result gets, and the rows on screen.

Qt draws the cells itself (no Python delegate; `results_model` says why): a square thumbnail on top and
the file name elided below, in cells of one size, so rows stay aligned whatever each photo's shape.
Cells take their size from the model (a size hint per row) rather than from a fixed grid, so that the
timeline's month headings can span a line of their own.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QListView

PADDING = 6  # pixels between the cell's edge and its picture
TEXT_GAP = 4  # pixels between the picture and the name
SPACING = 8  # pixels between neighbouring cells
PROBE_STEP = 4  # pixels between the points tried when looking for the first row on screen


def cell_size(side: int, font_height: int) -> QSize:
    """The grid cell for thumbnails of `side` pixels with one line of text below."""
    return QSize(side + 2 * PADDING, side + 2 * PADDING + TEXT_GAP + font_height)


class ResultsView(QListView):
    """An icon-mode list that says when its width changes (month headings follow it)."""

    width_changed = Signal(int)  # the width a full line of cells may take

    def __init__(self) -> None:
        super().__init__()
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setSpacing(SPACING)

    def line_width(self) -> int:
        return max(1, self.viewport().width() - 2 * SPACING - 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.width_changed.emit(self.line_width())


def visible_rows(view: QListView) -> range:
    """The rows on screen in an icon-mode `view`, plus one line of cells below."""
    model, area = view.model(), view.viewport().rect()
    if model is None or not model.rowCount() or area.isEmpty():
        return range(0)
    first = 0
    x = view.spacing() + PADDING  # inside the first cell of a line, and inside any heading
    for y in range(0, area.height(), PROBE_STEP):  # the top line may be scrolled half out of sight
        index = view.indexAt(QPoint(x, y))
        if index.isValid():
            first = index.row()
            break
    below = area.bottom() + view.iconSize().height() * 2  # one more line of cells, made ahead
    end = first
    while end < model.rowCount() and view.visualRect(model.index(end, 0)).top() <= below:
        end += 1
    return range(first, end)
