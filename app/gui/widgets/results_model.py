"""The search results as a Qt item model: hits in rank order, loaded a page at a time as the view scrolls.

The rows are QStandardItems, so Qt paints the grid without calling into Python: a Python `data()` and
delegate meant one GIL acquisition per cell per paint, and while indexing threads run Python each can
wait a switch interval or more (benchmarks/bench_grid_paint.py, beside three busy Python threads: a
median paint of 29-35 ms that way, 5.5-6.6 ms now). Thumbnails are therefore asked for by rows
(`want_thumbnails`, for the rows on screen) rather than when a cell is painted.
"""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QPixmap, QStandardItem, QStandardItemModel

from photosift.app.gui.widgets.thumbnails import ThumbnailCache
from photosift.core.search.records import SearchHit, SearchPage

HitRole = Qt.ItemDataRole.UserRole + 1  # the SearchHit of a row

Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QStandardItemModel):
    """Holds the hits of the current query. When the view wants more rows and the last page said
    `has_more`, it emits `more_wanted(offset)`; the window runs the query from there and calls `append`."""

    more_wanted = Signal(int)  # offset of the next page

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None):
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._hits: list[SearchHit] = []
        self._rows: dict[int, int] = {}  # photo id -> row, to show a thumbnail when it is ready
        self._shown: set[int] = set()  # photo ids whose row shows its thumbnail (not the placeholder)
        self._has_more = False
        self._loading = False
        self._next_offset = 0  # pages may hold fewer hits than their limit (photos gone since indexing)
        thumbnails.ready.connect(self._thumbnail_ready)
        thumbnails.dropped.connect(self._thumbnail_dropped)

    # Filling --------------------------------------------------------------------------------------

    def reset(self, page: SearchPage | None) -> None:
        """Show `page` as the first page of a new query (None: no query, no rows)."""
        self._thumbnails.drop_queued()
        # One modelReset once the new rows are in (views and the viewer then find them), not a removal
        # and an insertion: the signals of the rows' own changes are held back meanwhile.
        self.beginResetModel()
        with QSignalBlocker(self):
            self.setRowCount(0)
            self._hits, self._rows, self._shown = [], {}, set()
            self._has_more = self._loading = False
            self._next_offset = 0
            if page is not None:
                self._add(page)
        self.endResetModel()

    def append(self, page: SearchPage) -> None:
        """Add the next page (the one `more_wanted` asked for)."""
        self._loading = False
        new = [h for h in page.hits if h.photo_id not in self._rows]
        if new:
            self._add(SearchPage(tuple(new), page.offset, page.limit, page.has_more))
        self._has_more, self._next_offset = page.has_more, page.offset + page.limit

    def loading_failed(self) -> None:
        """The page `more_wanted` asked for did not come; allow asking again."""
        self._loading = False

    def _add(self, page: SearchPage) -> None:
        items = []
        for hit in page.hits:
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
        return item

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def row_of(self, photo_id: int) -> int | None:
        return self._rows.get(photo_id)

    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def thumbnail(self, row: int) -> QPixmap | None:
        """The row's thumbnail picture if it is in memory (the viewer shows it while the photo loads)."""
        return self._thumbnails.preview(self._hits[row].photo_id)

    # Thumbnails -----------------------------------------------------------------------------------

    def want_thumbnails(self, rows: range) -> None:
        """Show the thumbnails of `rows` (those on screen): ready ones now, the rest once they are made."""
        for row in rows:
            if 0 <= row < len(self._hits):
                hit = self._hits[row]
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
