"""Keeps the grid's favourite and star badges (widgets.mark_badges) in step with the catalog's marks.

After each page of results is shown, the marks of its photos not known yet are read in one query on a
read thread; after the person marks photos (ops.marks.Marker), those photos' marks are read again.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject

from photosift.app.gui.widgets.mark_badges import badge_text
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.tasks import TaskRunner


class GridMarks(QObject):
    """Reads marks for the model's photos and hands the model their badges."""

    def __init__(self, runner: TaskRunner, model: ResultsModel, parent: QObject | None = None):
        super().__init__(parent)
        self._runner, self._model = runner, model

    def results_shown(self) -> None:
        """Read the marks of the photos shown without a badge decided yet."""
        self.marks_changed(self._model.photos_without_badges())

    def marks_changed(self, photo_ids: Sequence[int]) -> None:
        """Read these photos' marks and badge them anew."""
        if not photo_ids:
            return
        ids = list(photo_ids)
        self._runner.run_op(
            lambda lib: {photo_id: badge_text(marks) for photo_id, marks in lib.marks.of(ids).items()},
            self._model.set_badges,
        )
