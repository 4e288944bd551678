"""The small badge a favourite or rated photo wears in the grid: a heart, and the stars as "★4".

The badge is drawn into the cell's picture when the model scales it (`ResultsModel._show`, like the
selected frame), so the grid still paints its cells without calling Python (see results_model).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

from photosift.core.catalog.marks import PhotoMarks

BADGE_MARGIN = 7  # pixels from the top-right corner: inside a selected photo's frame (SELECTED_FRAME)
BADGE_PADDING = 3  # pixels around the text inside its rounded plate
BADGE_PLATE = QColor(0, 0, 0, 150)  # dark and translucent: legible over any photo
BADGE_TEXT = QColor(255, 255, 255)
HEART = "\u2665"
STAR = "\u2605"


def badge_text(marks: PhotoMarks) -> str:
    """What the photo's badge says: "♥", "★4", "♥ ★4", or "" for a photo without marks."""
    parts = [HEART] if marks.favourite else []
    if marks.rating:
        parts.append(f"{STAR}{marks.rating}")
    return " ".join(parts)


def draw_badge(picture: QPixmap, text: str) -> None:
    """Draw `text` on a translucent plate in the top-right corner of `picture` (nothing when it is "")."""
    if not text:
        return
    painter = QPainter(picture)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(painter.font())
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(text) + 2 * BADGE_PADDING
    height = metrics.height() + BADGE_PADDING
    right = picture.deviceIndependentSize().width() - BADGE_MARGIN
    plate = QRectF(right - width, BADGE_MARGIN, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BADGE_PLATE)
    painter.drawRoundedRect(plate, height / 3, height / 3)
    painter.setPen(BADGE_TEXT)
    painter.drawText(plate, int(Qt.AlignmentFlag.AlignCenter), text)
    painter.end()
