"""The viewer's place, marks and "why this matched": where the photo was taken, its favourite flag and
stars (F and Ctrl+0-5 change them), and for the search on show, each term's score and the filters, tags,
place and recognised text that matched (core.search.explain, the lines of `photosift search --explain`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from photosift.app.gui.ops.marks import Marker, stars_text
from photosift.app.gui.presenter import shown_in_place
from photosift.app.tasks import TaskRunner
from photosift.core.catalog.marks import PhotoMarks
from photosift.core.catalog.place_rows import PlaceName
from photosift.core.library import Library
from photosift.core.search.explain import Explanation, describe, explain, lone_term, place_words

MARKS_TIP = "F: favourite or not · Ctrl+1 to Ctrl+5: stars · Ctrl+0: no rating"


def marks_text(marks: PhotoMarks) -> str:
    """'♥ Favourite · ★★★★☆', 'Not a favourite · unrated'."""
    return f"{'♥ Favourite' if marks.favourite else 'Not a favourite'} · {stars_text(marks.rating)}"


class WhyMatched(QWidget):
    """Marks and the explanation of one photo; `attach` connects it to the window's marker and query."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Marks and why this photo matched")
        self.runner = runner
        self._marker: Marker | None = None
        self._query_text: Callable[[], str] = lambda: ""
        self._photo_id: int | None = None
        self._seq = 0  # bumped per photo shown; answers for an earlier one are dropped
        # A grid, not a QFormLayout: after the place and marks arrived, the form kept sharing out the rows'
        # old heights, and a two-line place or explanation was cut off mid-line (tests/test_gui_viewer.py).
        grid = QGridLayout(self)
        self.place, self.marks, self.why = _label("Place"), _label("Marks"), _label("Why this matched")
        self.marks.setToolTip(MARKS_TIP)
        self.row_names = [QLabel(name) for name in ("Place:", "Marks:", "Matched:")]
        for row, (name, label) in enumerate(zip(self.row_names, (self.place, self.marks, self.why), strict=True)):
            grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, row, 1)
        grid.setColumnStretch(1, 1)

    def attach(self, marker: Marker, query_text: Callable[[], str]) -> None:
        """Write marks through `marker` (the grid's too, so both follow) and explain `query_text()`."""
        self._marker, self._query_text = marker, query_text
        marker.changed.connect(self._marks_changed)

    def show_photo(self, photo_id: int) -> None:
        self._photo_id, self._seq = photo_id, self._seq + 1
        self.marks.setText("…")
        self.place.setText("…")
        query = self._query_text().strip()
        self.why.setText("…" if query else "No search: the photo is listed, not ranked.")
        seq = self._seq

        def read(lib: Library) -> tuple[PlaceName | None, PhotoMarks, Explanation | None]:
            place, marks = lib.places.of_photo(photo_id), lib.marks.of([photo_id])[photo_id]
            return place, marks, explain(lib, query, photo_id) if query else None

        def show(found: tuple[PlaceName | None, PhotoMarks, Explanation | None]) -> None:
            place, marks, why = found
            if seq == self._seq:
                self.place.setText(place_words(place))
                self.marks.setText(marks_text(marks))
                if why is not None:
                    self.why.setText(_why_text(why))

        self.runner.run_op(read, show, lambda exc: self._failed(seq, exc))

    def toggle_favourite(self) -> None:
        if self._marker is not None and self._photo_id is not None:
            self._marker.toggle_favourite([self._photo_id])

    def rate(self, stars: int) -> None:
        if self._marker is not None and self._photo_id is not None:
            self._marker.rate([self._photo_id], stars)

    def _marks_changed(self, photo_ids: list[int]) -> None:
        if self._photo_id in photo_ids:
            self.show_photo(self._photo_id)

    def _failed(self, seq: int, exc: BaseException) -> None:
        """A query the library refuses (edited since, a file gone) or a fault of the machine is said in
        place, as the presenter words it; a bug goes to the presenter."""

        def say(sentence: str) -> None:
            if seq == self._seq:
                self.why.setText(f"Cannot explain: {sentence}")

        shown_in_place(say, self.runner.present)(exc)


def _why_text(why: Explanation) -> str:
    """The score, then what made it; a plain one-term search's score is that term's similarity, said once."""
    score = [] if why.score is None or lone_term(why) else [f"score {why.score:.3f}"]
    return "\n".join([*score, *describe(why)]) or "It passes the search's filters."


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setAccessibleName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
