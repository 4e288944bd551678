"""Wizard page 5: did it help? Before/after scores on the held-out photos, "find similar" side by side
under both models, and the choice: use the new model, discard it, or decide later (Finish).

The scores are the trainer's own evaluation (eval.json in the run folder): image-to-image mAP, zero-shot
accuracy over the class names, and text-to-image recall, on photos it never trained on. They are shown
as they are, including when the new model is worse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from photosift.app.gui.finetune.compare import THUMB, Comparison, Neighbour
from photosift.app.gui.finetune.runs import HeldOut, RunRecord
from photosift.app.gui.presenter import shown_in_place
from photosift.app.gui.widgets.placement import clear_layout
from photosift.core.wording import plural
from photosift.training.recipe import recipe_lines

METRICS = (
    ("map", "Image-to-image mAP (find similar)"),
    ("zero_shot_top1", "Zero-shot accuracy over your class names"),
    ("t2i_recall_at_5", "Text-to-image recall@5 (search by class name)"),
    ("t2i_precision_at_5", "Right photos among the first 5 a class name finds"),
    ("knn_accuracy", "k-NN accuracy"),
)
GOOD, BAD = QColor("#2e7d32"), QColor("#d32f2f")
# A change under a twentieth of a point does not show in the one-decimal figures: it is called no change, so
# the verdict never says "worse" beside "54.8 → 54.8".
SHOWN_CHANGE = 0.0005
SAME_CLASS, OTHER_CLASS = "#2e7d32", "#9e9e9e"  # frame colours of neighbours in the side by side
NOT_COMPARED = "The side-by-side comparison could not be made"
Compare = Callable[[RunRecord, Callable[[Comparison], None], Callable[[BaseException], None]], None]


logger = logging.getLogger(__name__)


def read_scores(record: RunRecord) -> dict[str, dict[str, Any]]:
    """{"before": ..., "after": ...} EvalReport dicts from the run's eval.json, and the "recipe" the trainer
    applied (empty for runs of older versions).

    Raises:
        OSError, ValueError, KeyError, TypeError: the file is missing, damaged or not the trainer's."""
    data = json.loads(record.file("eval.json").read_text(encoding="utf-8"))
    scores = {"before": data["before"], "after": data["after"], "recipe": data.get("recipe") or {}}
    if not all(isinstance(value, dict) for value in scores.values()):
        raise ValueError("eval.json does not hold scores")
    return scores


class ResultPage(QWizardPage):
    activate_requested = Signal()
    discard_requested = Signal()
    compared = Signal()  # the side by side is shown (or could not be made)

    def __init__(
        self,
        current_run: Callable[[], RunRecord],
        compare: Compare,
        current_title: Callable[[], str],
        present: Callable[[BaseException], None],
    ):
        """`present` is the runner's presenter: a comparison that fails for a bug goes to it."""
        super().__init__()
        self._current_run, self._compare, self._current_title = current_run, compare, current_title
        self._present = present
        self.setTitle("Result")
        self.setButtonText(QWizard.WizardButton.FinishButton, "Decide &later")
        self.verdict = QLabel(wordWrap=True)
        self.verdict.setAccessibleName("Verdict")
        self.recipe = QLabel(wordWrap=True)
        self.recipe.setAccessibleName("What ran")
        self.table = QTableWidget(len(METRICS), 3)
        self.table.setAccessibleName("Scores before and after")
        self.table.setHorizontalHeaderLabels(["Before", "After", "Change"])
        self.table.setVerticalHeaderLabels([label for _, label in METRICS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_by_side = QWidget()
        self.grid = QGridLayout(self.side_by_side)
        self.comparing = QLabel("Comparing “find similar” on held-out photos…")
        self.activate_button = QPushButton("&Use the new model")
        self.activate_button.setDefault(True)
        self.discard_button = QPushButton("&Discard it")
        self.activate_button.clicked.connect(self.activate_requested)
        self.discard_button.clicked.connect(self.discard_requested)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.activate_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addWidget(self.table)
        layout.addWidget(self.recipe)
        layout.addWidget(self.comparing)
        layout.addWidget(self.side_by_side)
        layout.addStretch()
        layout.addLayout(buttons)

    def initializePage(self) -> None:
        record = self._current_run()
        self.setSubTitle(f"“{record.name}” against {self._current_title()}, on photos held out from training.")
        try:
            self._show_scores(read_scores(record))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("the scores of %s could not be read: %r", record.run_dir, exc)
            self.verdict.setText(
                f"The before-and-after scores could not be read: {record.file('eval.json')} is missing or damaged."
                " The new model itself is not affected: the side by side below still compares it, and you can"
                " still use it or discard it."
            )
        self.comparing.setText("Comparing “find similar” on held-out photos…")
        self.activate_button.setFocus()  # not Discard: a stray Enter must not be the destructive choice
        self._compare(record, self._show_comparison, self._comparison_failed)

    def _show_scores(self, scores: dict[str, dict[str, Any]]) -> None:
        before, after = scores["before"], scores["after"]
        for row, (key, _) in enumerate(METRICS):
            old, new = before.get(key), after.get(key)
            cells = [_percent(old), _percent(new), _change(old, new)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 2 and old is not None and new is not None and abs(new - old) >= SHOWN_CHANGE:
                    item.setForeground(GOOD if new > old else BAD)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(rows + self.table.horizontalHeader().height() + 2 * self.table.frameWidth())
        gain = after["map"] - before["map"]
        better = "better" if gain >= SHOWN_CHANGE else "worse" if gain <= -SHOWN_CHANGE else "no better"
        photos = f"{plural(after['n_images'], 'held-out photo')} of {plural(after['n_classes'], 'class')}"
        self.verdict.setText(
            f"<b>The new model finds similar photos {better}</b>: mAP {_percent(before['map'])} → "
            f"{_percent(after['map'])} on {photos}."
            + (" Keep the current model unless text search improved." if gain < SHOWN_CHANGE else "")
        )
        recipe = scores.get("recipe")
        self.recipe.setText("<b>What ran:</b> " + " ".join(recipe_lines(recipe)) if recipe else "")

    def _show_comparison(self, comparison: Comparison) -> None:
        clear_layout(self.grid)
        if not comparison.rows:
            self.comparing.setText("This run recorded no held-out photos to compare on.")
            self.compared.emit()
            return
        self.comparing.setText(
            "“Find similar” among the held-out photos: the query, then the current model's and the new model's "
            "nearest; a green frame marks the same class."
        )
        self.grid.addWidget(QLabel("<b>Photo</b>"), 0, 0)
        self.grid.addWidget(QLabel(f"<b>{self._current_title()}</b>"), 0, 1)
        self.grid.addWidget(QLabel("<b>Fine-tuned</b>"), 0, 2)
        for row, side in enumerate(comparison.rows, start=1):
            self.grid.addWidget(_query(comparison, side.query), row, 0)
            for column, found in ((1, side.old), (2, side.new)):
                self.grid.addWidget(_strip(comparison, found, side.query.label), row, column)
        self.compared.emit()

    def _comparison_failed(self, exc: BaseException) -> None:
        """A failure the person can act on is said in place, worded as the presenter words it; a bug goes to
        the presenter (the crash dialog and the log)."""
        self.comparing.setText(f"{NOT_COMPARED}.")
        try:
            shown_in_place(lambda sentence: self.comparing.setText(f"{NOT_COMPARED}: {sentence}"), self._present)(exc)
        finally:
            self.compared.emit()


def _query(comparison: Comparison, photo: HeldOut) -> QWidget:
    cell = QWidget()
    column = QVBoxLayout(cell)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(_photo(comparison, photo.path, photo.label, None))
    name = QLabel(photo.label, wordWrap=True)
    name.setMaximumWidth(THUMB + 8)
    column.addWidget(name)
    return cell


def _strip(comparison: Comparison, found: tuple[Neighbour, ...], label: str) -> QWidget:
    strip = QWidget()
    row = QHBoxLayout(strip)
    row.setContentsMargins(0, 0, 0, 0)
    for neighbour in found:
        row.addWidget(_photo(comparison, neighbour.photo.path, neighbour.photo.label, neighbour.photo.label == label))
    row.addStretch()
    return strip


def _photo(comparison: Comparison, path: str, label: str, same: bool | None) -> QLabel:
    image = comparison.thumbnails.get(path)
    cell = QLabel()
    if image is not None:
        cell.setPixmap(QPixmap.fromImage(image))
    cell.setToolTip(f"{label}\n{path}")
    colour = "transparent" if same is None else SAME_CLASS if same else OTHER_CLASS
    cell.setStyleSheet(f"border: 3px solid {colour}; padding: 1px;")
    cell.setAccessibleName(f"{label}, same class" if same else label)
    return cell


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}"


def _change(old: float | None, new: float | None) -> str:
    if old is None or new is None:
        return "—"
    return "no change" if abs(new - old) < SHOWN_CHANGE else f"{(new - old) * 100:+.1f} points"
