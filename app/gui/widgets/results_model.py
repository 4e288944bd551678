"""The search results as a Qt item model: hits in rank order, loaded a page at a time as the view scrolls.

The rows are QStandardItems, so Qt paints the grid without calling into Python: a Python `data()` and
delegate meant one GIL acquisition per cell per paint, and while indexing threads run Python each can
wait a switch interval or more (benchmarks/bench_grid_paint.py). Thumbnails are therefore asked for by
rows (`want_thumbnails`, for the rows on screen) rather than when a cell is painted.

The grid is justified (`justified`): each row's size hint is its cell, at the photo's aspect ratio and
its line's height, and a row on screen holds its thumbnail scaled to exactly that cell, so Qt's icon-mode
painting fills the cell edge to edge. A photo without its picture yet shows the placeholder background.

The timeline (the home view: every photo, newest first) adds a heading row before each month's photos,
a line of its own; its `hit_at` is None, and `hits()`, `hit_count()` and `position()` count photos only.
"""

from __future__ import annotations

import os
import time
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import (
    QDate,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSignalBlocker,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QFont, QPixmap, QStandardItem, QStandardItemModel

from photosift.app.gui.readable import readable_path
from photosift.app.gui.widgets.grid_geometry import GridGeometry
from photosift.app.gui.widgets.justified import justify
from photosift.app.gui.widgets.mark_badges import draw_badge
from photosift.app.gui.widgets.thumbnails import ThumbnailCache, covering, draw_frame
from photosift.core.search.records import SearchHit, SearchPage

Index = QModelIndex | QPersistentModelIndex
Dates = Mapping[int, datetime]  # photo id -> its date, for the timeline's month headings
HEADING_HEIGHT = 36  # pixels: a month's heading line, room for a larger bold font
PAGE = 200  # photos asked for at a time when the view scrolls past the loaded ones
LOAD_ALL = 1_000_000  # End on a query of unknown size asks for this many at once (and again if there are more)
# End on 100,000 results made every row in one go and froze the window for ~5 s: rows are made for at
# most TURN_S a turn of the event loop (the window answers between turns), ROWS_AT_ONCE between looks at
# the clock (a few ms of work, even on a busy 2-core machine).
TURN_S = 0.03
ROWS_AT_ONCE = 200
# Rows holding a scaled picture: a few screens of the largest cells. Farther rows go back to the
# placeholder, so memory stays bounded however far one scrolls.
SHOWN_MAX = 400
PLACEHOLDER = QColor(128, 128, 128, 60)
SELECTED_FRAME = 4  # pixels: the frame of a selected photo, plain at a glance over any picture
ACCESSIBLE, SIZE_HINT = Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.SizeHintRole


class ResultsModel(QStandardItemModel):
    """Holds the hits of the current query. When the view wants more rows and the last page said
    `has_more`, it emits `more_wanted(offset, limit)`; the window runs the query and calls `append`."""

    more_wanted = Signal(int, int)  # offset of the next page, how many photos are wanted from there
    filled = Signal()  # the last rows of a page too large for one turn of the event loop are in

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None):
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._geometry = GridGeometry()
        self._prototype = QStandardItem()  # what every photo's row starts as (cloned in one call)
        self._prototype.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
        self._prototype.setBackground(QBrush(PLACEHOLDER))
        self._feed = QTimer(self, singleShot=True, interval=0)  # the next rows of a large page
        self._feed.timeout.connect(self._feed_more)
        self._clear()
        thumbnails.ready.connect(self._thumbnail_ready)
        thumbnails.dropped.connect(self._thumbnail_dropped)

    def _clear(self) -> None:
        self._hits: list[SearchHit | None] = []  # by row; None for a month heading
        self._aspects: list[float | None] = []  # by row: width/height (0.0 unknown); None for a heading
        self._sizes: list[tuple[int, int]] = []  # by row: the picture's (or heading's) size in the layout
        self._lines: list[int] = []  # the first row of every line of the layout
        self._line_heights: list[int] = []  # the height of every line, with the spacing below it
        self._height = 0  # of all the lines, with the spacing around them
        self._month: tuple[int, int] | None = None  # (year, month) of the last row added to the timeline
        self._rows: dict[int, int] = {}  # photo id -> row, to show a thumbnail when it is ready
        self._shown: OrderedDict[int, tuple[int, int]] = OrderedDict()  # photo id -> size of its picture
        self._selected: set[int] = set()  # photo ids drawn framed as selected
        self._badges: dict[int, str] = {}  # photo id -> its marks' badge ("" none), once read (GridMarks)
        self._total: int | None = None  # photos the whole query has, where known (the timeline)
        self._has_more = self._loading = False
        self._next_offset = 0  # pages may hold fewer hits than their limit (photos gone since indexing)
        self._pending: deque[SearchHit] = deque()  # hits received, their rows not made yet (TURN_S)
        self._pending_dates: Dates | None = None

    # Filling --------------------------------------------------------------------------------------

    def reset(self, page: SearchPage | None, dates: Dates | None = None, total: int | None = None) -> None:
        """Show `page` as the first page of a new query (None: no query, no rows); with `dates`, under
        month headings (the timeline). `total` is how many photos the query has in all, where known."""
        self._thumbnails.drop_queued()
        self._feed.stop()
        # One modelReset once the new rows are in (views and the viewer then find them), not a removal
        # and an insertion: the signals of the rows' own changes are held back meanwhile.
        self.beginResetModel()
        with QSignalBlocker(self):
            self.setRowCount(0)
            self._clear()
            self._total = total
            if page is not None:
                self._receive(page.hits, page, dates)
        self.endResetModel()

    def append(self, page: SearchPage, dates: Dates | None = None) -> None:
        """Add the next page (the one `more_wanted` asked for): its first rows now, the rest over the next
        turns of the event loop (`filled` says when they are all in)."""
        self._loading = False
        self._receive([h for h in page.hits if h.photo_id not in self._rows], page, dates)

    def loading_failed(self) -> None:
        """The page `more_wanted` asked for did not come; allow asking again."""
        self._loading = False

    def filling(self) -> bool:
        """Whether rows of a page received are still being made (`filled` follows)."""
        return bool(self._pending)

    def _receive(self, hits: Iterable[SearchHit], page: SearchPage, dates: Dates | None) -> None:
        self._has_more, self._next_offset = page.has_more, page.offset + page.limit
        self._pending.extend(hits)
        self._pending_dates = dates
        self._add_pending(preview=True)

    def _feed_more(self) -> None:
        self._add_pending(preview=False)
        if not self._pending:
            self.filled.emit()

    def _add_pending(self, preview: bool) -> None:
        """Make rows for the hits received for up to TURN_S, and ask for another turn for the rest."""
        deadline = time.perf_counter() + TURN_S
        while self._pending:
            self._add([self._pending.popleft() for _ in range(min(ROWS_AT_ONCE, len(self._pending)))], preview)
            preview = False
            if time.perf_counter() >= deadline:
                break
        if self._pending:
            self._feed.start()

    def _add(self, hits: list[SearchHit], preview: bool) -> None:
        first, dates = len(self._hits), self._pending_dates
        for hit in hits:
            when = dates.get(hit.photo_id) if dates is not None else None
            if when is not None and (when.year, when.month) != self._month:
                self._month = (when.year, when.month)
                self._hits.append(None)
                self._aspects.append(None)
            self._rows[hit.photo_id] = len(self._hits)
            self._hits.append(hit)
            self._aspects.append(hit.aspect or 0.0)
        tail = self._lines[-1] if self._lines else 0  # the last line may take more photos now
        self._lay_out(tail, first)
        items = []
        for row in range(first, len(self._hits)):
            photo = self._hits[row]  # None for a month heading
            items.append(self._item(photo, row) if photo is not None else self._heading(row, dates or {}))
        self.invisibleRootItem().appendRows(items)
        shown = first + SHOWN_MAX if preview else first  # a refreshed page shows its pictures at once: no flicker
        for row in range(first, min(len(self._hits), shown)):
            photo = self._hits[row]
            picture = self._thumbnails.preview(photo.photo_id) if photo is not None else None
            if photo is not None and picture is not None:
                self._show(row, photo.photo_id, picture)

    def _item(self, hit: SearchHit, row: int) -> QStandardItem:
        """A photo's row: three calls into Qt, as End may make 100,000 of them (the tooltip comes on
        hover: `give_tooltip`)."""
        name = os.path.basename(readable_path(hit.path))
        item = self._prototype.clone()
        item.setData(name + ("" if hit.score is None else f", similarity {hit.score:.2f}"), ACCESSIBLE)
        if self._geometry.caption:
            item.setText(name)
        item.setData(self._cell(row), SIZE_HINT)
        return item

    def _heading(self, row: int, dates: Dates) -> QStandardItem:
        hit = self._hits[row + 1]
        assert hit is not None  # a heading is always followed by the photo that opened its month
        when = dates[hit.photo_id]
        item = QStandardItem(QLocale().toString(QDate(when.year, when.month, 1), "MMMM yyyy"))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable: Ctrl+A, the viewer and menus skip it
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        item.setFont(font)
        item.setData(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, Qt.ItemDataRole.TextAlignmentRole)
        item.setData(self._cell(row), SIZE_HINT)
        return item

    # Layout -----------------------------------------------------------------------------------------

    def set_geometry(self, geometry: GridGeometry) -> None:
        """Lay every row out again (the view was resized or the thumbnail size changed), and frame the
        selected photos in a new highlight colour (the theme changed)."""
        # Taller cells or a sharper screen may need another tier; another screen, pictures scaled for it.
        if self._thumbnails.fit_to(geometry.height, geometry.ratio) or geometry.ratio != self._geometry.ratio:
            self.icons_changed()
        old, self._geometry = self._geometry, geometry
        if replace(old, highlight=geometry.highlight) != geometry:
            captions = old.caption != geometry.caption
            self.layoutAboutToBeChanged.emit()
            with QSignalBlocker(self):  # one layoutChanged for the view, not a dataChanged per row
                self._lay_out(0, len(self._hits), every=captions)
                for row, hit in enumerate(self._hits):
                    if hit is not None and captions:
                        self.item(row).setText(os.path.basename(readable_path(hit.path)) if geometry.caption else "")
            self.layoutChanged.emit()
        if old.highlight != geometry.highlight:
            for photo_id in self._selected & self._shown.keys():
                self._reshow(photo_id)

    def _lay_out(self, start: int, existing: int, every: bool = False) -> None:
        """Justify the rows from `start` (the first row of a line) on; rows below `existing` are items
        already, and those whose cell changed (`every`: all of them) get their new size hint."""
        g = self._geometry
        laid = justify(self._aspects[start:], max(g.line, 1), g.height, g.spacing, HEADING_HEIGHT)
        kept = bisect_right(self._lines, start - 1)
        del self._lines[kept:], self._line_heights[kept:]
        self._lines.extend(start + line for line in laid.lines)
        old, self._sizes[start:] = self._sizes[start:existing], laid.sizes
        for row in range(start, existing):
            if every or self._sizes[row] != old[row - start]:
                self.item(row).setData(self._cell(row), SIZE_HINT)
        # Kept per line, so adding a page's rows turn by turn sums only the new lines' heights.
        self._line_heights.extend(self._cell(first).height() + g.spacing for first in self._lines[kept:])
        self._height = g.spacing + sum(self._line_heights)

    def laid_out_height(self) -> int:
        """The height of the loaded rows in the view, known before the view has laid them out."""
        return self._height

    def _cell(self, row: int) -> QSize:
        width, height = self._sizes[row]
        return QSize(width, height + (self._geometry.caption if self._hits[row] is not None else 0))

    def lines(self) -> list[int]:
        """The first row of every line of the layout, in order."""
        return self._lines

    # Reading ----------------------------------------------------------------------------------------

    def hit(self, row: int) -> SearchHit:
        """The photo at `row`, which must not be a heading (see `hit_at`)."""
        hit = self._hits[row]
        if hit is None:
            raise IndexError(f"row {row} is a month heading")
        return hit

    def hit_at(self, row: int) -> SearchHit | None:
        """The photo at `row`; None for a month heading or a row out of range."""
        return self._hits[row] if 0 <= row < len(self._hits) else None

    def row_of(self, photo_id: int) -> int | None:
        return self._rows.get(photo_id)

    def hits(self) -> list[SearchHit]:
        return [hit for hit in self._hits if hit is not None]

    def hit_count(self) -> int:
        return len(self._rows)

    def position(self, row: int) -> int:
        """How many photos come before `row` (headings are not counted)."""
        return sum(1 for hit in self._hits[: max(row, 0)] if hit is not None)

    def remaining(self) -> int:
        """Photos of the query without their row yet: exact where the total is known, else those received
        and a page while there are more."""
        if not self._has_more and not self._pending:
            return 0
        if self._total is not None:
            return max(0, self._total - self.hit_count())
        return len(self._pending) + (PAGE if self._has_more else 0)

    def give_tooltip(self, row: int) -> None:
        """Give a photo's row its tooltip (path, id, similarity) when the pointer first rests on it, after
        any the row has already (the query's photo says so), rather than to every row as it is made."""
        hit, item = self.hit(row), self.item(row)
        path = readable_path(hit.path)
        if path not in item.toolTip():
            similarity = "" if hit.score is None else f", similarity {hit.score:.3f}"
            reason = self._thumbnails.unreadable_reason(hit.photo_id)
            unreadable = f"Cannot be read: {reason}." if reason else ""
            lines = (item.toolTip().strip(), f"{path}\n#{hit.photo_id}{similarity}", unreadable)
            item.setToolTip("\n".join(filter(None, lines)))

    def thumbnail(self, row: int) -> QPixmap | None:
        """The row's thumbnail picture if it is in memory (the viewer shows it while the photo loads)."""
        return self._thumbnails.preview(self.hit(row).photo_id)

    # Loading further --------------------------------------------------------------------------------

    def load_through(self, count: int) -> bool:
        """Ask for pages until `count` photos are loaded (a scrollbar drag or End went past the loaded
        ones); True if a request went out."""
        if not self._has_more or self._loading or self._pending or count <= self._next_offset:
            return False
        self._loading = True
        self.more_wanted.emit(self._next_offset, max(PAGE, count - self._next_offset))
        return True

    def load_all(self) -> bool:
        """Ask for every photo not loaded yet (End); True if a request went out."""
        return self.load_through(self._total if self._total is not None else LOAD_ALL)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._has_more and not self._loading and not self._pending

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self.load_through(self._next_offset + PAGE)

    # Thumbnails -----------------------------------------------------------------------------------

    def want_thumbnails(self, rows: range) -> None:
        """Show the thumbnails of `rows` (those on screen): ready ones now, the rest once they are made."""
        for row in rows:
            hit = self.hit_at(row)
            if hit is not None and self._shown.get(hit.photo_id) != self._sizes[row]:
                picture = self._thumbnails.picture(hit.photo_id, hit.path)  # queues it if not ready
                if picture is not None:
                    self._show(row, hit.photo_id, picture)
            elif hit is not None:
                self._shown.move_to_end(hit.photo_id)
        while len(self._shown) > SHOWN_MAX:
            self._hide(next(iter(self._shown)))

    def _show(self, row: int, photo_id: int, picture: QPixmap) -> None:
        if not self._aspects[row] and picture.height():  # no size in the catalog: the thumbnail's
            self._learn_aspect(row, picture.width() / picture.height())
        size = self._sizes[row]
        self._shown[photo_id] = size
        self._shown.move_to_end(photo_id)
        shown = covering(picture, QSize(*size), self._geometry.ratio)
        draw_badge(shown, self._badges.get(photo_id, ""))
        if photo_id in self._selected:
            draw_frame(shown, self._geometry.highlight, SELECTED_FRAME)
        self.item(row).setData(shown, Qt.ItemDataRole.DecorationRole)

    def set_selected(self, rows: Iterable[int], selected: bool) -> None:
        """Frame these rows' pictures as selected (or not): Qt's own selected look, a faint tint of the
        picture, is hard to see over a photo. Rows without their picture yet get the frame when it comes."""
        for row in rows:
            hit = self.hit_at(row)
            if hit is None or (hit.photo_id in self._selected) == selected:
                continue
            if selected:
                self._selected.add(hit.photo_id)
            else:
                self._selected.discard(hit.photo_id)
            if hit.photo_id in self._shown:
                self._reshow(hit.photo_id)

    def photos_without_badges(self) -> list[int]:
        """The photos whose marks have not been read for their badge yet."""
        return [hit.photo_id for hit in self._hits if hit is not None and hit.photo_id not in self._badges]

    def badge(self, photo_id: int) -> str:
        """The photo's badge as drawn ("" for none, or its marks not read yet)."""
        return self._badges.get(photo_id, "")

    def set_badges(self, badges: Mapping[int, str]) -> None:
        """Badge these photos (mark_badges.badge_text of their marks), drawing shown pictures again."""
        for photo_id, badge in badges.items():
            drawn = self._badges.get(photo_id, "")
            self._badges[photo_id] = badge
            if badge != drawn and photo_id in self._shown:
                self._reshow(photo_id)

    def _reshow(self, photo_id: int) -> None:
        """Draw a shown photo's picture again (its frame changed)."""
        picture = self._thumbnails.preview(photo_id)
        if picture is not None:
            self._show(self._rows[photo_id], photo_id, picture)

    def _hide(self, photo_id: int) -> None:
        del self._shown[photo_id]
        self.item(self._rows[photo_id]).setData(None, Qt.ItemDataRole.DecorationRole)

    def _learn_aspect(self, row: int, aspect: float) -> None:
        self._aspects[row] = aspect
        self.layoutAboutToBeChanged.emit()
        with QSignalBlocker(self):
            self._lay_out(self._lines[bisect_right(self._lines, row) - 1], len(self._hits))
        self.layoutChanged.emit()

    def icons_changed(self) -> None:
        """Every picture must be fetched again (the thumbnail size changed): placeholders until then."""
        for photo_id in list(self._shown):
            self._hide(photo_id)

    @Slot(int)
    def _thumbnail_ready(self, photo_id: int) -> None:
        row = self._rows.get(photo_id)
        if row is not None:
            self.want_thumbnails(range(row, row + 1))

    @Slot(int)
    def _thumbnail_dropped(self, photo_id: int) -> None:
        """The cache let go of this thumbnail (least recently shown): rows hold no more than the cache."""
        if photo_id in self._shown:
            self._hide(photo_id)
