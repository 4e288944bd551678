"""The photo viewer: one search result large, with its details, stepped through from the keyboard.

It walks the same `ResultsModel` as the grid and says which row it shows (`row_changed`), so the grid's
selection can follow. The cached thumbnail stands in at once while the photo is decoded in the background
at about screen size; zooming past that size fetches the full-size pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.ops.marks import FAVOURITE_KEY, RATING_KEYS
from photosift.app.gui.presenter import shown_in_place
from photosift.app.gui.readable import readable_path
from photosift.app.gui.widgets.photo_details import PhotoDetails
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.gui.widgets.viewer_images import Picture, ViewerImages
from photosift.app.gui.widgets.why_matched import WhyMatched
from photosift.app.gui.widgets.zoom_view import ZOOM_STEP, ZoomView
from photosift.app.tasks import TaskRunner
from photosift.core.catalog import PhotoInfo
from photosift.core.catalog.photo_filters import PhotoDate
from photosift.core.library import Library
from photosift.core.search.records import SearchHit

# The viewer's keys, for the shortcuts help (the viewer reads keys itself, so there are no QActions to list).
VIEWER_KEYS: tuple[tuple[str, str, str], ...] = (  # (group, description, keys), as the shortcuts help lists them
    ("Viewer", "Next or previous photo", "Right / Left, Down / Up, Page Down / Page Up, Space / Shift+Space"),
    ("Viewer", "First or last photo", "Home / End"),
    ("Viewer", "Open in the system viewer", "Enter"),
    ("Viewer", "Zoom in or out", "+ / -, Ctrl+mouse wheel"),
    ("Viewer", "Fit to the window or actual pixels", "0 / 1"),
    ("Viewer", "Close the viewer", "Esc"),
    ("Viewer", "Favourite or not", FAVOURITE_KEY),
    ("Viewer", "Rate 1 to 5 stars, or no rating", "Ctrl+1 … Ctrl+5, Ctrl+0"),
)
DETAILS_WIDTH = 280  # room for a camera name and a date on one line; long paths wrap


class Viewer(QWidget):
    """A window showing one result at a time. Call `show_row`, then `show()`; it is reused across opens."""

    row_changed = Signal(int)  # the row now shown (the grid's selection can follow)
    image_shown = Signal(int)  # photo id: its decoded image (not the stand-in thumbnail) is on screen
    open_requested = Signal(object)  # the path to open: a str (Signal(str) drops a non-UTF-8 name's surrogates)
    tag_clicked = Signal(str)  # a tag chip's name: the window searches for tag:NAME
    labels_changed = Signal()  # the user labelled the photo or tuned a tag: tag counts may have moved
    closed = Signal()

    def __init__(self, model: ResultsModel, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.model, self.runner = model, runner
        self.images = ViewerImages(runner, self)
        self._row = -1
        self._hit: SearchHit | None = None
        self._picture: Picture | None = None  # the decoded picture on show; None while a thumbnail stands in
        self._seq = 0  # bumped per photo shown; details that arrive for an earlier one are dropped
        self._step = 1  # the direction of travel: the photo that way is decoded ahead
        self._advance_when_fetched = False
        self._build()
        zoom = self.zoom_view
        self._keys: dict[int, Callable[[], object]] = {
            **dict.fromkeys((Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown), self.show_next),
            **dict.fromkeys((Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp), self.show_previous),
            Qt.Key.Key_Home: lambda: self._go(0, 1),
            Qt.Key.Key_End: lambda: self._go(self.model.rowCount() - 1, -1),
            **dict.fromkeys((Qt.Key.Key_Return, Qt.Key.Key_Enter), self.open_current),
            Qt.Key.Key_Escape: self.close,
            **dict.fromkeys((Qt.Key.Key_Plus, Qt.Key.Key_Equal), lambda: zoom.zoom_by(ZOOM_STEP)),
            Qt.Key.Key_Minus: lambda: zoom.zoom_by(1 / ZOOM_STEP),
            Qt.Key.Key_0: zoom.fit,
            Qt.Key.Key_1: lambda: zoom.set_zoom(1.0),
            Qt.Key.Key_F: self.why.toggle_favourite,
        }
        self.images.loaded.connect(self._picture_loaded)
        self.images.failed.connect(self._picture_failed)
        model.rowsInserted.connect(self._rows_inserted)
        model.modelReset.connect(self._model_reset)
        self.resize(1100, 760)

    def _build(self) -> None:
        self.setWindowTitle("Photosift")
        self.setAccessibleName("Photo viewer")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.zoom_view = ZoomView()
        self.zoom_view.zoom_changed.connect(self._zoom_changed)
        self.message = _label("Why the photo cannot be shown")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.zoom_view)
        self.stack.addWidget(self.message)
        self.position_label = _label("Position in the results")
        self.zoom_label = _label("Zoom level")
        bar = QHBoxLayout()
        bar.addWidget(self.position_label, 1)
        bar.addWidget(self.zoom_label)
        image_side = QWidget()
        layout = QVBoxLayout(image_side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addLayout(bar)
        self.details = PhotoDetails(self.runner)
        self.details.tags.tag_clicked.connect(self.tag_clicked)
        self.details.tags.labels_changed.connect(self.labels_changed)
        self.why = WhyMatched(self.runner)
        # The details and the lines below them are two layouts: one width for every row's name lines their
        # values up, and taking the widest name of the rows shown only sometimes keeps them from jumping.
        names = [*self.details.row_names(), *self.why.row_names]
        width = max(name.sizeHint().width() for name in names)
        for name in names:
            name.setMinimumWidth(width)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.details)
        column.addWidget(self.why, 1, Qt.AlignmentFlag.AlignTop)
        splitter = QSplitter()
        splitter.addWidget(image_side)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([10_000, DETAILS_WIDTH])  # the image takes whatever the details leave
        QVBoxLayout(self).addWidget(splitter)
        self.setFocus()  # the viewer reads its keys itself; the tag chips are only reached with Tab

    # Moving between results -------------------------------------------------------------------------

    @property
    def row(self) -> int:
        """The row on show, or -1 when none is."""
        return self._row

    def show_row(self, row: int) -> None:
        """Show the result at `row` (ignored when out of range, or when that photo is already on show);
        a month heading of the timeline stands for the photo after it in the direction of travel."""
        while self.model.hit_at(row) is None and 0 <= row < self.model.rowCount():
            row += self._step
        hit = self.model.hit_at(row)
        if hit is None:
            return
        self._advance_when_fetched = False
        if row == self._row and self._hit is not None and hit.photo_id == self._hit.photo_id:
            return
        self._row, self._hit, self._picture = row, hit, None
        self._seq += 1
        self.setWindowTitle(f"{readable_path(PurePath(hit.path).name)} - Photosift")
        self._show_position()
        self.details.show_hit(hit)
        self.why.show_photo(hit.photo_id)
        self._load_details(hit)
        picture = self.images.kept(hit.photo_id)
        if picture is not None:
            self._show_picture(picture)
        else:
            self._show_thumbnail(row)
            self.images.load(hit.photo_id, hit.path, self._screen_side())
        self.row_changed.emit(row)

    def show_next(self) -> None:
        """Show the next result, asking the model for more at the end of the loaded rows."""
        if self.model.position(self._row) + 1 < self.model.hit_count():
            self._go(self._row + 1, 1)
        elif self.model.canFetchMore(QModelIndex()):
            self._advance_when_fetched = True
            self.model.fetchMore(QModelIndex())

    def show_previous(self) -> None:
        self._go(self._row - 1, -1)

    def open_current(self) -> None:
        if self._hit is not None:
            self.open_requested.emit(self._hit.path)

    def _go(self, row: int, step: int) -> None:
        self._step = step
        self.show_row(row)

    def _rows_inserted(self, _parent: QModelIndex | QPersistentModelIndex, first: int, _last: int) -> None:
        if self._advance_when_fetched and first >= self._row + 1:
            self._go(first, 1)
        elif self._hit is not None:
            self._show_position()

    def _model_reset(self) -> None:
        """Follow the photo on show to its new row (results are refreshed while indexing runs)."""
        self._advance_when_fetched = False
        if self._hit is None:
            return
        row = self.model.row_of(self._hit.photo_id)
        if row is not None:
            moved, self._row = row != self._row, row
            self._show_position()
            if moved:
                self.row_changed.emit(row)
        elif self.model.rowCount():
            self._hit = None
            self.show_row(min(self._row, self.model.rowCount() - 1))
        else:
            self.close()  # a viewer of results with no results left

    def _show_position(self) -> None:
        more = "+" if self.model.canFetchMore(QModelIndex()) else ""
        self.position_label.setText(f"{self.model.position(self._row) + 1} of {self.model.hit_count()}{more}")

    # The picture ------------------------------------------------------------------------------------

    def _screen_side(self) -> int:
        """Decode photos so their shortest side covers the screen's longest: sharp when fitted either way
        round, and room to zoom in a little before the full size is needed."""
        screen = self.screen()
        size = screen.size() * screen.devicePixelRatio()
        return max(size.width(), size.height(), 1)

    def _show_thumbnail(self, row: int) -> None:
        thumbnail = self.model.thumbnail(row)
        self.stack.setCurrentWidget(self.zoom_view)
        if thumbnail is not None:
            self.zoom_view.show_picture(thumbnail, None)
        else:
            self.zoom_view.clear()

    def _show_picture(self, picture: Picture) -> None:
        assert self._hit is not None
        sharper = self._picture is not None  # the same photo in more pixels: the user's zoom stays
        self._picture = picture
        self.stack.setCurrentWidget(self.zoom_view)
        self.zoom_view.show_picture(picture.pixmap, picture.photo_size, keep_view=sharper)
        self.image_shown.emit(self._hit.photo_id)
        ahead = self._row + self._step
        if self.model.hit_at(ahead) is None:  # a month heading: the photo beyond it
            ahead += self._step
        hit = self.model.hit_at(ahead)
        if hit is not None:
            self.images.read_ahead(hit.photo_id, hit.path, self._screen_side())

    def _picture_loaded(self, photo_id: int, picture: Picture) -> None:
        if self._hit is not None and photo_id == self._hit.photo_id:
            self._show_picture(picture)

    def _picture_failed(self, photo_id: int, reason: str) -> None:
        # A failed full-size decode leaves the picture on show in place.
        if self._hit is not None and photo_id == self._hit.photo_id and self._picture is None:
            self.message.setText(f"This photo cannot be shown: {reason}.")
            self.stack.setCurrentWidget(self.message)
            self.zoom_label.clear()

    def _zoom_changed(self) -> None:
        zoom = self.zoom_view.zoom
        if zoom is None:
            self.zoom_label.clear()
            return
        self.zoom_label.setText(f"Fit ({zoom:.0%})" if self.zoom_view.fitted else f"{zoom:.0%}")
        picture, hit = self._picture, self._hit
        if picture is None or hit is None or picture.full:
            return
        if zoom * picture.photo_size.width() > picture.pixmap.width():  # a decoded pixel covers several on screen
            self.images.load(hit.photo_id, hit.path, None)

    # Keys and closing -------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        stars = _rating_key(event)
        if stars is not None:
            self.why.rate(stars)
            return
        if event.key() == Qt.Key.Key_Space:
            shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            action: Callable[[], object] | None = self.show_previous if shift else self.show_next
        else:
            action = self._keys.get(event.key())
        if action is None:
            super().keyPressEvent(event)
        else:
            action()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Free the decoded pictures: reopening starts afresh from `show_row`."""
        self.images.clear()
        self.zoom_view.clear()
        self._row, self._hit, self._picture = -1, None, None
        super().closeEvent(event)
        self.closed.emit()

    # Details ----------------------------------------------------------------------------------------

    def _load_details(self, hit: SearchHit) -> None:
        seq = self._seq

        def show(found: tuple[PhotoInfo | None, PhotoDate | None]) -> None:
            if seq == self._seq:
                self.details.show_info(hit, *found)

        def note(sentence: str) -> None:
            if seq == self._seq:
                self.details.show_note(sentence)

        def read(lib: Library) -> tuple[PhotoInfo | None, PhotoDate | None]:
            return lib.photo(hit.photo_id), lib.photo_dates([hit.photo_id]).get(hit.photo_id)

        self.runner.run_op(read, show, shown_in_place(note, self.runner.present))


def _rating_key(event: QKeyEvent) -> int | None:
    """The stars Ctrl+0 to Ctrl+5 set (see RATING_KEYS), or None for any other key."""
    typed = QKeySequence(event.keyCombination()).toString(QKeySequence.SequenceFormat.PortableText)
    return RATING_KEYS.index(typed) if typed in RATING_KEYS else None


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setAccessibleName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
