"""The text read from the photo on show (core.ocr), in the viewer's details: selectable and copyable
(Ctrl+C, or the context menu's Copy), and hidden for photos with none."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from photosift.app.gui.presenter import shown_in_place
from photosift.app.tasks import TaskRunner

VISIBLE_LINES = 6  # taller text scrolls: a page of a document should not push the tags out of view


class PhotoText(QPlainTextEdit):
    """Read-only text of one photo, fetched on a read thread whenever another photo is shown."""

    available = Signal(bool)  # whether the photo on show has text to show (the details show or hide the row)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.photo_id: int | None = None
        self.setAccessibleName("Text in photo")
        self.setReadOnly(True)  # still selectable with mouse and keyboard, and copyable
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setMaximumHeight(self.fontMetrics().lineSpacing() * VISIBLE_LINES + 12)

    def show_photo(self, photo_id: int) -> None:
        """Clear, then fetch and show the text of `photo_id` (an answer for an earlier photo is dropped)."""
        self.photo_id = photo_id
        self.clear()
        self.available.emit(False)

        def show(text: str | None) -> None:
            if self.photo_id == photo_id:
                self.setPlainText(text or "")
                self.available.emit(bool(text))

        def note(sentence: str) -> None:
            show(sentence)  # why the text could not be fetched, where the text would be

        self.runner.run_op(lambda lib: lib.text.text_of(photo_id), show, shown_in_place(note, self.runner.present))
