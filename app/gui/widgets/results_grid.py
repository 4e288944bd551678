"""Geometry of the results grid: the cell each result gets, and the rows on screen.

Qt draws the cells itself (no Python delegate; `results_model` says why): a square thumbnail on top and
the file name elided below, in cells of one size, so rows stay aligned whatever each photo's shape.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize
from PySide6.QtWidgets import QListView

PADDING = 6  # pixels between the cell's edge and its picture
TEXT_GAP = 4  # pixels between the picture and the name


def cell_size(side: int, font_height: int) -> QSize:
    """The grid cell for thumbnails of `side` pixels with one line of text below."""
    return QSize(side + 2 * PADDING, side + 2 * PADDING + TEXT_GAP + font_height)


def visible_rows(view: QListView) -> range:
    """The rows on screen in an icon-mode `view` with a grid, plus one line of cells below."""
    model, grid, area = view.model(), view.gridSize(), view.viewport().rect()
    if model is None or grid.isEmpty():
        return range(0)
    first = 0
    for y in (0, grid.height() // 2, grid.height()):  # the top line may be scrolled half out of sight
        index = view.indexAt(QPoint(grid.width() // 2, y))
        if index.isValid():
            first = index.row()
            break
    per_line = max(1, area.width() // grid.width())
    lines = area.height() // grid.height() + 2
    return range(first, min(model.rowCount(), first + per_line * lines))
