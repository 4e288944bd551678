"""The search results as a Qt item model: hits in rank order, loaded a page at a time as the view scrolls.

The rows are QStandardItems, so Qt paints the grid without calling into Python: a Python `data()` and
delegate meant one GIL acquisition per cell per paint, and while indexing threads run Python each can
wait a switch interval or more (benchmarks/bench_grid_paint.py, beside three busy Python threads: a
median paint of 29-35 ms that way, 5.5-6.6 ms now). Thumbnails are therefore asked for by rows
(`want_thumbnails`, for the rows on screen) rather than when a cell is painted.

The timeline (the home view: every photo, newest first) adds a heading row before each month's photos.
A heading's size hint is the view's width, so the icon-mode view puts it on a line of its own; its
`hit_at` is None, and `hits()`, `hit_count()` and `position()` count photos only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath

from PySide6.QtCore import (
    QDate,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSignalBlocker,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QPixmap, QStandardItem, QStandardItemModel

from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.core.search.records import SearchHit, SearchPage

HitRole = Qt.ItemDataRole.UserRole + 1  # the SearchHit of a row

Index = QModelIndex | QPersistentModelIndex
Dates = Mapping[int, datetime]  # photo id -> its date, for the timeline's month headings
HEADING_HEIGHT = 36  # pixels: a month's heading line, room for a larger bold font


class ResultsModel(QStandardItemModel):
    """Holds the hits of the current query. When the view wants more rows and the last page said
    `has_more`, it emits `more_wanted(offset)`; the window runs the query from there and calls `append`."""

    more_wanted = Signal(int)  # offset of the next page

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None):
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._hits: list[SearchHit | None] = []  # by row; None for a month heading
        self._month: tuple[int, int] | None = None  # (year, month) of the last row added to the timeline
        self._cell = QSize()  # a photo cell's size (icon and name), set by the view
        self._heading_width = 0
        self._rows: dict[int, int] = {}  # photo id -> row, to show a thumbnail when it is ready
        self._shown: set[int] = set()  # photo ids whose row shows its thumbnail (not the placeholder)
        self._has_more = False
        self._loading = False
        self._next_offset = 0  # pages may hold fewer hits than their limit (photos gone since indexing)
        thumbnails.ready.connect(self._thumbnail_ready)
        thumbnails.dropped.connect(self._thumbnail_dropped)

    # Filling --------------------------------------------------------------------------------------

    def reset(self, page: SearchPage | None, dates: Dates | None = None) -> None:
        """Show `page` as the first page of a new query (None: no query, no rows); with `dates`, under
        month headings (the timeline)."""
        self._thumbnails.drop_queued()
        # One modelReset once the new rows are in (views and the viewer then find them), not a removal
        # and an insertion: the signals of the rows' own changes are held back meanwhile.
        self.beginResetModel()
        with QSignalBlocker(self):
            self.setRowCount(0)
            self._hits, self._rows, self._shown, self._month = [], {}, set(), None
            self._has_more = self._loading = False
            self._next_offset = 0
            if page is not None:
                self._add(page, dates)
        self.endResetModel()

    def append(self, page: SearchPage, dates: Dates | None = None) -> None:
        """Add the next page (the one `more_wanted` asked for)."""
        self._loading = False
        new = [h for h in page.hits if h.photo_id not in self._rows]
        if new:
            self._add(SearchPage(tuple(new), page.offset, page.limit, page.has_more), dates)
        self._has_more, self._next_offset = page.has_more, page.offset + page.limit

    def loading_failed(self) -> None:
        """The page `more_wanted` asked for did not come; allow asking again."""
        self._loading = False

    def _add(self, page: SearchPage, dates: Dates | None) -> None:
        items = []
        for hit in page.hits:
            when = dates.get(hit.photo_id) if dates is not None else None
            if when is not None and (when.year, when.month) != self._month:
                self._month = (when.year, when.month)
                self._hits.append(None)
                items.append(self._heading(when))
            self._rows[hit.photo_id] = len(self._hits)
            self._hits.append(hit)
            items.append(self._item(hit))
        self._has_more = page.has_more
        self._next_offset = page.offset + page.limit
        self.invisibleRootItem().appendRows(items)

    def _item(self, hit: SearchHit) -> QStandardItem:
        name = PurePath(hit.path).name
        icon = self._thumbnails.cached(hit.photo_id)  # a refreshed page keeps its pictures: no flicker
        if icon is not None:
            self._shown.add(hit.photo_id)
        item = QStandardItem(icon if icon is not None else self._thumbnails.placeholder, name)
        item.setEditable(False)
        item.setDragEnabled(False)
        item.setToolTip(f"{hit.path}\n#{hit.photo_id}" + ("" if hit.score is None else f", similarity {hit.score:.3f}"))
        accessible = name + ("" if hit.score is None else f", similarity {hit.score:.2f}")
        item.setData(accessible, Qt.ItemDataRole.AccessibleTextRole)
        item.setData(hit, HitRole)
        if self._cell.isValid():
            item.setData(self._cell, Qt.ItemDataRole.SizeHintRole)
        return item

    def _heading(self, when: datetime) -> QStandardItem:
        item = QStandardItem(QLocale().toString(QDate(when.year, when.month, 1), "MMMM yyyy"))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable: Ctrl+A, the viewer and menus skip it
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        item.setFont(font)
        item.setData(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, Qt.ItemDataRole.TextAlignmentRole)
        item.setData(QSize(self._heading_width, HEADING_HEIGHT), Qt.ItemDataRole.SizeHintRole)
        return item

    def set_cell_size(self, cell: QSize) -> None:
        """Every photo's cell (the thumbnail size changed)."""
        self._cell = cell
        for row, hit in enumerate(self._hits):
            if hit is not None:
                self.item(row).setData(cell, Qt.ItemDataRole.SizeHintRole)

    def set_heading_width(self, width: int) -> None:
        """Month headings span the view's width (it was resized), which puts each on a line of its own."""
        if width != self._heading_width:
            self._heading_width = width
            for row, hit in enumerate(self._hits):
                if hit is None:
                    self.item(row).setData(QSize(width, HEADING_HEIGHT), Qt.ItemDataRole.SizeHintRole)

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

    def thumbnail(self, row: int) -> QPixmap | None:
        """The row's thumbnail picture if it is in memory (the viewer shows it while the photo loads)."""
        return self._thumbnails.preview(self.hit(row).photo_id)

    # Thumbnails -----------------------------------------------------------------------------------

    def want_thumbnails(self, rows: range) -> None:
        """Show the thumbnails of `rows` (those on screen): ready ones now, the rest once they are made."""
        for row in rows:
            hit = self.hit_at(row)
            if hit is not None:
                icon = self._thumbnails.icon(hit.photo_id, hit.path)  # queues it if not ready
                if icon is not None and hit.photo_id not in self._shown:
                    self._shown.add(hit.photo_id)
                    self.item(row).setIcon(icon)

    def icons_changed(self) -> None:
        """Every icon must be fetched again (the thumbnail size changed): placeholders until then."""
        for photo_id in self._shown:
            self.item(self._rows[photo_id]).setIcon(self._thumbnails.placeholder)
        self._shown.clear()

    @Slot(int)
    def _thumbnail_ready(self, photo_id: int) -> None:
        row = self._rows.get(photo_id)
        if row is not None:
            self.want_thumbnails(range(row, row + 1))

    @Slot(int)
    def _thumbnail_dropped(self, photo_id: int) -> None:
        """The cache let go of this thumbnail (least recently shown): rows hold no more than the cache."""
        if photo_id in self._shown:
            self._shown.discard(photo_id)
            self.item(self._rows[photo_id]).setIcon(self._thumbnails.placeholder)

    # Qt's model interface ---------------------------------------------------------------------------

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._has_more and not self._loading

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._loading = True
            self.more_wanted.emit(self._next_offset)
