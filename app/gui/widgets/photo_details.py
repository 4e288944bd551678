"""The viewer's details panel: what the library knows of the photo on show, every value selectable, the
photo's tags as chips (app.gui.tag_chips), and the text read from it (app.gui.widgets.photo_text)."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

from PySide6.QtCore import QDate, QLocale, Qt, QTime
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from photosift.app.gui.readable import readable_path
from photosift.app.gui.widgets.photo_text import PhotoText
from photosift.app.gui.widgets.tag_chips import TagChips
from photosift.app.tasks import TaskRunner
from photosift.core.catalog import PhotoInfo
from photosift.core.catalog.photo_filters import PhotoDate
from photosift.core.search.records import SearchHit


class PhotoDetails(QWidget):
    """Name and path at once (the result knows them), the rest and the tags when the library answers."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Photo details")
        self._form = QFormLayout(self)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # by a value's first line
        self.name, self.path, self.taken, self.camera = (_label(n) for n in ("Name", "Path", "Taken", "Camera"))
        self.pixels, self.file_size = _label("Pixels"), _label("File size")
        self.location, self.copies = _label("Location"), _label("Other copies")
        for label in (self.name, self.path, self.taken, self.camera, self.pixels, self.file_size):
            self._form.addRow(f"{label.accessibleName()}:", label)
        for label in (self.location, self.copies):
            self._form.addRow(f"{label.accessibleName()}:", label)
            self._form.setRowVisible(label, False)  # shown only for photos that have them
        self.tags = TagChips(runner)
        self._form.addRow("Tags:", self.tags)
        self.text = PhotoText(runner)  # what OCR read (core.ocr); its row shows only when there is some
        self._form.addRow("Text in photo:", self.text)
        self._form.setRowVisible(self.text, False)
        self.text.available.connect(lambda shown: self._form.setRowVisible(self.text, shown))
        self.note = _label("Note")
        self._form.addRow(self.note)
        self._form.setRowVisible(self.note, False)

    def row_names(self) -> list[QLabel]:
        """The labels of every row, hidden ones too (the viewer lines them up with the rows below)."""
        fields = (self.name, self.path, self.taken, self.camera, self.pixels, self.file_size, self.location)
        names = (self._form.labelForField(field) for field in (*fields, self.copies, self.tags, self.text))
        return [name for name in names if isinstance(name, QLabel)]

    def show_hit(self, hit: SearchHit) -> None:
        self.name.setText(readable_path(PurePath(hit.path).name))
        self.path.setText(readable_path(hit.path))
        for label in (self.taken, self.camera, self.pixels, self.file_size):
            label.setText("…")
        for label in (self.location, self.copies, self.note):
            self._form.setRowVisible(label, False)
        self.tags.show_photo(hit.photo_id)
        self.text.show_photo(hit.photo_id)

    def show_info(self, hit: SearchHit, info: PhotoInfo | None, date: PhotoDate | None = None) -> None:
        """Show the library's record of `hit`'s photo (None: the photo has left the library), and its
        date, which for a photo without a capture date is its file's (searches and the timeline use it)."""
        if info is None:
            self.show_note("This photo is no longer in the library.")
            return
        locale = QLocale()
        if info.taken_at is not None:
            self.taken.setText(capture_time(locale, info.taken_at))
        elif date is not None:
            self.taken.setText(f"{capture_time(locale, date.when)} (date from file)")
        else:
            self.taken.setText("unknown")
        self.camera.setText(info.camera or "unknown")
        known = info.width is not None and info.height is not None
        self.pixels.setText(f"{info.width} x {info.height}" if known else "unknown")
        self.file_size.setText(locale.formattedDataSize(info.size, 1, QLocale.DataSizeFormat.DataSizeSIFormat))
        if info.gps_lat is not None and info.gps_lon is not None:
            self.location.setText(f"{info.gps_lat:.5f}, {info.gps_lon:.5f}")
            self._form.setRowVisible(self.location, True)
        others = [path for path in info.paths if path != hit.path]
        if others:
            self.copies.setText("\n".join(map(readable_path, others)))
            self._form.setRowVisible(self.copies, True)

    def show_note(self, message: str) -> None:
        """Say why the details are missing (the lookup failed, the photo is gone)."""
        for label in (self.taken, self.camera, self.pixels, self.file_size):
            label.setText("")
        self.note.setText(message)
        self._form.setRowVisible(self.note, True)


def capture_time(locale: QLocale, taken: datetime) -> str:
    """The date long and the time short, in the user's locale. Cameras record local time in no stated
    zone, so it is shown as recorded, never converted."""
    date = locale.toString(QDate(taken.year, taken.month, taken.day), QLocale.FormatType.LongFormat)
    return f"{date}, {locale.toString(QTime(taken.hour, taken.minute, taken.second), QLocale.FormatType.ShortFormat)}"


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setAccessibleName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # file names are data: "<b>.jpg" is not markup
    label.setWordWrap(True)  # long paths break anywhere rather than widen the panel
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
