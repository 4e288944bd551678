"""The status bar's progress display for long ops: what is happening, done/total, speed, time left, Cancel.

The line never pushes Pause and Cancel out of a narrow window: it ends in "…" where there is no room (a
900-pixel window cut the buttons off behind a long "Waiting for another Photosift process…"), and its
tooltip holds the whole sentence.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from photosift.app.progress import STAGE_LABELS, UNITS
from photosift.core.library_lock import WAIT_STAGE
from photosift.core.progress import Progress


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_text(p: Progress) -> str:
    """A one-line status, e.g. "Indexing 120/500 photos, 25 photos/s, about 15 s left".

    A stage that reports only its start and its end ("Preparing tags") says what it works on rather
    than a 0/462 that would stand still until it is done.
    """
    if p.stage == WAIT_STAGE:
        return p.message  # "Waiting for another Photosift process (pid N) that is indexing this library..."
    if p.stage == "load":
        return f"{p.message}…"  # "Loading SigLIP 2 ViT-B/32…": one step, which "Load (1 files)" told as a count
    if p.stage == "index" and p.total == 0:
        return "No new photos to index"  # a run that found nothing new said "Indexing 0 photos"
    label = STAGE_LABELS.get(p.stage, p.stage.capitalize())
    unit = "bytes" if p.stage == "download" else UNITS.get(p.stage, " files").strip()
    if unit == "bytes":
        done, total, unit = p.done // 2**20, (p.total // 2**20 if p.total else None), "MB"
    else:
        done, total = p.done, p.total
    if total and not p.done and p.rate is None:
        return f"{label} ({total:,} {unit})…"
    parts = [f"{label} {done:,}/{total:,} {unit}" if total else f"{label} {done:,} {unit}"]
    if p.rate and unit != "MB":
        parts.append(f"{p.rate:.0f} {unit}/s" if p.rate >= 10 else f"{p.rate:.1f} {unit}/s")
    if p.eta_s is not None and p.total and p.done < p.total:
        # An estimate under a second is what the rate predicts for the last items, not the wrap-up
        # after them (saving the index, tagging): "about 0 s left" stood on screen for seconds.
        parts.append(f"about {format_duration(p.eta_s)} left" if p.eta_s >= 1 else "almost done")
    return ", ".join(parts)


class ElidedLabel(QLabel):
    """A one-line label that may be narrower than its text: it then draws the text cut with "…"
    (`text()` stays whole), so the widgets beside it keep their room.

    Args:
        cut_after: where the text may be cut at the earliest: what comes before it always shows (the
            library summary's counts before its model name); a text without it is cut anywhere.
    """

    MINIMUM_WIDTH = 80  # pixels: still says what is happening ("Indexing 1…")

    def __init__(self, cut_after: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._cut_after = cut_after

    def minimumSizeHint(self) -> QSize:
        least = super().minimumSizeHint()
        if self._cut_after:
            kept = self.text().partition(self._cut_after)[0] + "…"
            margins = self.contentsMargins()
            width = self.fontMetrics().horizontalAdvance(kept) + margins.left() + margins.right() + 2 * self.margin()
            return QSize(min(width, least.width()), least.height())
        return QSize(min(self.MINIMUM_WIDTH, least.width()), least.height())

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.is_elided():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)


class ProgressStatus(QWidget):
    """Label, bar, Pause/Resume and Cancel; hidden while nothing long is running or paused."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = ElidedLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setAccessibleName("Indexing progress")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setAccessibleName("Pause or resume indexing")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel indexing")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.bar, self.pause_button, self.cancel_button):
            layout.addWidget(widget)
        self.setVisible(False)
        self._state = "idle"

    def show_progress(self, p: Progress) -> None:
        self.label.setText(progress_text(p))
        self.label.setToolTip(self.label.text())
        if p.total and (p.done or p.rate is not None):
            self.bar.setRange(0, 1000)  # per mille: byte counts overflow a QProgressBar's int
            self.bar.setValue(min(1000, round(1000 * p.done / p.total)))
        else:
            self.bar.setRange(0, 0)  # busy indicator while the total is unknown

    def show_background(self, p: Progress | None) -> None:
        """A background pass's progress while indexing is idle (the OCR pass: core.ocr), with Cancel and no
        Pause; None when it has ended. An indexing run takes the line back (`set_state`)."""
        if self._state != "idle":
            return
        self.setVisible(p is not None)
        self.pause_button.setVisible(False)
        self.bar.setVisible(True)
        if p is None:
            self.label.clear()
        else:
            self.show_progress(p)

    def set_state(self, state: str) -> None:
        """Follow the indexing controller: "running", "paused" or "idle" (hidden)."""
        was_idle, self._state = self._state == "idle", state
        self.setVisible(state != "idle")
        self.pause_button.setVisible(True)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.bar.setVisible(state == "running")
        if state == "running" and (was_idle or not self.label.text()):  # not a background pass's line
            self.label.setText("Starting…")
            self.bar.setRange(0, 0)
        elif state == "paused":
            self.label.setText("Indexing paused")
        elif state == "idle":
            self.label.clear()
