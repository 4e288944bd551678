"""How one result is drawn in the grid: its thumbnail centred in a square, the file name elided below.

Qt's default icon-mode painting puts each name right under its own picture, so portrait and landscape
photos leave ragged rows and clipped names; a fixed square per cell keeps the grid calm at any size.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

PADDING = 6  # pixels between the cell's edge and its picture
TEXT_GAP = 4  # pixels between the picture and the name


class ResultDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.side = 160  # the square a thumbnail fits in (the grid's icon size)

    def cell_size(self, font_height: int) -> QSize:
        return QSize(self.side + 2 * PADDING, self.side + 2 * PADDING + TEXT_GAP + font_height)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return self.cell_size(option.fontMetrics.height())  # type: ignore[attr-defined]

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state: QStyle.StateFlag = option.state  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        painter.save()
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect.adjusted(1, 1, -1, -1), palette.color(QPalette.ColorRole.Highlight))
        box = QRect(rect.left() + PADDING, rect.top() + PADDING, self.side, self.side)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(icon, QIcon):
            pixmap = icon.pixmap(box.size())
            fitted = pixmap.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, fitted.width(), fitted.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, pixmap)
        text_rect = QRect(rect.left() + 2, box.bottom() + TEXT_GAP, rect.width() - 4, option.fontMetrics.height())  # type: ignore[attr-defined]
        name = option.fontMetrics.elidedText(  # type: ignore[attr-defined]
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""), Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)
        if state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.restore()
