"""A "Query" badge over each photo of the query in the results grid.

After "Find similar" the photo it started from leads the results; the badge says it is the question, not
the best answer. The badges are small labels laid over the view's viewport and moved when it scrolls or
lays out again, so the grid keeps painting its cells without a Python delegate (see results_model).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QPoint, QTimer
from PySide6.QtWidgets import QLabel, QListView

# Drawn over the photo, not the window, so the same in light and dark themes.
BADGE_STYLE = "background: rgba(0, 0, 0, 170); color: white; border-radius: 4px; padding: 1px 6px; font-weight: bold"
INSET = 4  # pixels from the photo's top-left corner


class QueryBadges(QObject):
    """Keeps one badge over each query photo on screen; `row_of` finds a photo's row in the view's model."""

    def __init__(self, view: QListView, row_of: Callable[[int], int | None]):
        super().__init__(view)
        self._view, self._row_of = view, row_of
        self._photos: tuple[int, ...] = ()
        self._labels: list[QLabel] = []
        self._place_soon = QTimer(self, singleShot=True, interval=0)  # once the view has laid out
        self._place_soon.timeout.connect(self.place)
        view.verticalScrollBar().valueChanged.connect(lambda _: self._place_soon.start())
        model = view.model()
        for changed in (model.layoutChanged, model.modelReset, model.rowsInserted):
            changed.connect(lambda *_: self._place_soon.start())

    def show_for(self, photo_ids: Iterable[int]) -> None:
        """Badge these photos (none: no badges)."""
        self._photos = tuple(photo_ids)
        self._place_soon.start()

    def badges(self) -> list[QLabel]:
        """The badges on show, for tests."""
        return [label for label in self._labels if not label.isHidden()]

    def place(self) -> None:
        rects = []
        for photo_id in self._photos:
            row = self._row_of(photo_id)
            rect = self._view.visualRect(self._view.model().index(row, 0)) if row is not None else None
            if rect is not None and rect.isValid() and rect.intersects(self._view.viewport().rect()):
                rects.append(rect)
        while len(self._labels) < len(rects):
            label = QLabel("Query", self._view.viewport())
            label.setStyleSheet(BADGE_STYLE)
            label.setToolTip("The photo this search started from")
            self._labels.append(label)
        for label, rect in zip(self._labels, rects, strict=False):
            label.adjustSize()
            label.move(rect.topLeft() + QPoint(INSET, INSET))
            label.show()
            label.raise_()
        for label in self._labels[len(rects) :]:
            label.hide()
