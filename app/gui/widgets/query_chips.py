"""The search field: typed words and filters, with the photos and image files of the query shown as chips.

"Find similar", "Add to query", a dropped or pasted image put `#379 + #188` into the query; a person reads
that better as the photos themselves. The field keeps the query language underneath: `query()` is the
whole text (chips first, then what is typed), `set_query()` splits any text into chips and typed text,
and typing `#379 + #188` still works (Enter turns it into chips). A click on a chip, or Backspace at the
start of the typed text, removes it.

The chips are child widgets laid over the left of the line edit, whose text starts after them, so the
field keeps its platform look, focus, input methods and shortcuts.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QImage, QKeyEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLineEdit, QStyle, QToolButton, QWidget

from photosift.core.errors import QueryError
from photosift.core.search.filters import starts_filter
from photosift.core.search.query import parse_query

CHIP_GAP = 4  # pixels between chips, and between the last chip and the text
LABEL_WIDTH = 120  # pixels: a chip's name is elided beyond this (the tooltip has the whole path)
CHIPS_SHARE = 0.6  # chips use at most this share of the field's width before they drop their names
ICON_MARGIN = 6  # pixels above and below a chip's picture inside the field
KEPT_PICTURES = 64  # chip pictures kept, so a query edited and run again does not decode them again
# A term's text as the query language reads it from its start: an optional weight, then a quoted
# string or a run without spaces (an image term without quotes is one token: core.search.query).
RAW_TERM = re.compile(r'(?:\d+(?:\.\d+)?:|\.\d+:)?(?:"[^"]*"|[^\s"]+)')


@dataclass(frozen=True)
class ImageTerm:
    """A photo (`#12`) or image file term of a query: what a chip in the search field stands for.

    `source` is the term as written in the query (weight and quotes kept, operator left out); `value` is
    the photo id or the image file's absolute path."""

    source: str
    kind: Literal["photo", "image"]
    value: str
    subtract: bool = False

    @property
    def photo_id(self) -> int | None:
        return int(self.value) if self.kind == "photo" else None


def split_query(text: str) -> tuple[tuple[ImageTerm, ...], str]:
    """The image terms of `text` (chips) and the rest of it (typed words and filters), such that
    `join_query` gives back an equivalent query. A query that does not parse is all rest: its error
    is shown as typed."""
    try:
        query = parse_query(text)
    except QueryError:
        return (), text.strip()
    terms: list[ImageTerm] = []
    pieces, cut = [], 0
    for term in query.terms:
        match = RAW_TERM.match(text, term.position)
        if term.kind == "text" or match is None:
            continue
        pieces.append(text[cut : _operator_before(text, term.position)])
        cut = match.end()
        kind: Literal["photo", "image"] = "photo" if term.kind == "photo" else "image"
        terms.append(ImageTerm(match.group(), kind, term.value, term.weight < 0))
    pieces.append(text[cut:])
    rest = " ".join(piece.strip() for piece in pieces if piece.strip())
    return tuple(terms), re.sub(r"^\+\s+", "", rest)  # "#12 + beach" leaves "beach", not "+ beach"


def _operator_before(text: str, position: int) -> int:
    """Where the term at `position` begins with its `+` or `-` (the position itself when it has none)."""
    i = position - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i if i >= 0 and text[i] in "+-" and (i == 0 or text[i - 1].isspace()) else position


def join_query(terms: tuple[ImageTerm, ...], rest: str) -> str:
    """The query text of chips and typed text: `#12 - #40 + beach after:2023`."""
    parts: list[str] = []
    for term in terms:
        parts.append(f"- {term.source}" if term.subtract else f"+ {term.source}" if parts else term.source)
    rest = rest.strip()
    if rest:
        # A bare word after an image term would run into it ("#12 beach" is one text term): join with +.
        joined = not parts or rest[0] in "+-" or starts_filter(rest, 0)
        parts.append(rest if joined else f"+ {rest}")
    return " ".join(parts)


def chip_label(term: ImageTerm, name: str | None = None) -> str:
    """What a chip says: the photo's file name (its `#id` until the name is known), "not …" when subtracted."""
    shown = name or (f"#{term.photo_id}" if term.photo_id is not None else PurePath(term.value).name)
    return f"not {shown}" if term.subtract else shown


class QueryChip(QToolButton):
    """One photo or image file of the query; a click removes it from the query."""

    def __init__(self, term: ImageTerm, parent: QWidget):
        super().__init__(parent)
        self.term = term
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the grid; Backspace removes chips
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.show_name(None)

    def show_name(self, path: str | None) -> None:
        label = chip_label(self.term, PurePath(path).name if path else None)
        self.setText(self.fontMetrics().elidedText(label, Qt.TextElideMode.ElideMiddle, LABEL_WIDTH) + "  ✕")
        where = path or self.term.value
        kind = "Photos not like" if self.term.subtract else "Photos like"
        self.setToolTip(f"{kind} {where}\n{self.term.source} in the query. Click to remove it.")
        self.setAccessibleName(f"Remove {label} from the search")

    def set_compact(self, compact: bool) -> None:
        """Picture only (many chips in a narrow field), or picture and name."""
        style = Qt.ToolButtonStyle.ToolButtonIconOnly if compact else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        self.setToolButtonStyle(style)


class QueryField(QLineEdit):
    """A line edit for the query whose image terms show as chips."""

    chips_changed = Signal()  # a chip was removed (or the field cleared): the query changed
    picture_wanted = Signal(object)  # an ImageTerm whose chip has no picture yet; answer with `show_picture`

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._chips: list[QueryChip] = []
        self._pictures: OrderedDict[str, tuple[QPixmap, str]] = OrderedDict()  # by term value
        self.setMinimumHeight(self.fontMetrics().height() + 3 * ICON_MARGIN)  # room for a chip's picture
        # The field's own clear button clears the typed text only, and hides while only chips are left.
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_LineEditClearButton)
        self.clear_action = QAction(icon, "Clear the search", self)
        self.clear_action.triggered.connect(self.clear_all)
        self.addAction(self.clear_action, QLineEdit.ActionPosition.TrailingPosition)
        self.textChanged.connect(lambda _: self._show_clear())
        self._show_clear()

    # The query -------------------------------------------------------------------------------------

    def query(self) -> str:
        """The whole query: the chips' terms, then the typed text."""
        return join_query(self.terms(), self.text())

    def terms(self) -> tuple[ImageTerm, ...]:
        return tuple(chip.term for chip in self._chips)

    def set_query(self, text: str) -> None:
        """Show `text` as chips and typed text (menus, drops and pastes put their query here)."""
        terms, rest = split_query(text)
        self._set_chips(terms)
        self.setText(rest)

    def tidy(self) -> None:
        """Turn image terms typed by hand into chips (Enter does this; typing does not, so the text does
        not move under the cursor)."""
        terms, rest = split_query(self.query())
        if terms != self.terms():
            self._set_chips(terms)
            self.setText(rest)

    def clear_all(self) -> None:
        had_chips = bool(self._chips)
        self._set_chips(())
        self.clear()
        self.textEdited.emit("")
        if had_chips:
            self.chips_changed.emit()

    def remove_chip(self, chip: QueryChip) -> None:
        self._set_chips(tuple(c.term for c in self._chips if c is not chip))
        self.chips_changed.emit()

    def chips(self) -> list[QueryChip]:
        return list(self._chips)

    # Pictures --------------------------------------------------------------------------------------

    def chip_side(self) -> int:
        """A chip picture's side in device pixels."""
        return round(self._icon_side() * self.devicePixelRatioF())

    def _icon_side(self) -> int:
        return self.minimumHeight() - 2 * ICON_MARGIN

    def show_picture(self, term: ImageTerm, image: QImage, path: str) -> None:
        """The picture of `term`'s photo or file is ready (kept for the next chips of the same photo)."""
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self._pictures[term.value] = (pixmap, path)
        while len(self._pictures) > KEPT_PICTURES:
            self._pictures.popitem(last=False)
        for chip in self._chips:
            if chip.term.value == term.value:
                self._dress(chip)
        self._layout_chips()

    def _dress(self, chip: QueryChip) -> None:
        pixmap, path = self._pictures[chip.term.value]
        chip.setIcon(QIcon(pixmap))
        chip.show_name(path)

    # Layout and keys -------------------------------------------------------------------------------

    def _set_chips(self, terms: tuple[ImageTerm, ...]) -> None:
        for chip in self._chips:
            chip.deleteLater()
        self._chips = []
        for term in terms:
            chip = QueryChip(term, self)
            chip.clicked.connect(lambda _=False, c=chip: self.remove_chip(c))
            chip.setIconSize(QSize(self._icon_side(), self._icon_side()))
            self._chips.append(chip)
            if term.value in self._pictures:
                self._pictures.move_to_end(term.value)
                self._dress(chip)
            else:
                self.picture_wanted.emit(term)
            chip.show()
        self._layout_chips()
        self._show_clear()

    def _layout_chips(self) -> None:
        """Place the chips at the left, names dropped when they would crowd out the text; the text
        starts after the last one."""
        height = self.height() - 6
        for chip in self._chips:
            chip.set_compact(False)  # measured with their names, or the choice would flip at every call
        compact = sum(c.sizeHint().width() + CHIP_GAP for c in self._chips) > self.width() * CHIPS_SHARE
        x = 4
        for chip in self._chips:
            chip.set_compact(compact)
            width = chip.sizeHint().width()
            chip.setGeometry(x, 3, width, height)
            x += width + CHIP_GAP
        self.setTextMargins(x - 4 if self._chips else 0, 0, 0, 0)

    def _show_clear(self) -> None:
        self.clear_action.setVisible(bool(self._chips or self.text()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._layout_chips()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Backspace at the start of the typed text removes the last chip, as in a mail client's To field."""
        at_start = self.cursorPosition() == 0 and not self.hasSelectedText()
        if event.key() == Qt.Key.Key_Backspace and at_start and self._chips:
            self.remove_chip(self._chips[-1])
            return
        super().keyPressEvent(event)
