"""The search results as a Qt list model: hits in rank order, loaded a page at a time as the view scrolls."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot

from app.gui.thumbnails import ThumbnailCache
from core.search import SearchHit, SearchPage

HitRole = Qt.ItemDataRole.UserRole + 1  # the SearchHit of a row

Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractListModel):
    """Holds the hits of the current query. When the view wants more rows and the last page said
    `has_more`, it emits `more_wanted(offset)`; the window runs the query from there and calls `append`."""

    more_wanted = Signal(int)  # offset of the next page

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None):
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._hits: list[SearchHit] = []
        self._rows: dict[int, int] = {}  # photo id -> row, to repaint a row when its thumbnail is ready
        self._has_more = False
        self._loading = False
        self._next_offset = 0  # pages may hold fewer hits than their limit (photos gone since indexing)
        thumbnails.ready.connect(self._thumbnail_ready)

    # Filling --------------------------------------------------------------------------------------

    def reset(self, page: SearchPage | None) -> None:
        """Show `page` as the first page of a new query (None: no query, no rows)."""
        self.beginResetModel()
        self._thumbnails.drop_queued()
        self._hits, self._rows = [], {}
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
            self.beginInsertRows(QModelIndex(), len(self._hits), len(self._hits) + len(new) - 1)
            self._add(SearchPage(tuple(new), page.offset, page.limit, page.has_more))
            self.endInsertRows()
        self._has_more, self._next_offset = page.has_more, page.offset + page.limit

    def loading_failed(self) -> None:
        """The page `more_wanted` asked for did not come; allow asking again."""
        self._loading = False

    def _add(self, page: SearchPage) -> None:
        for hit in page.hits:
            self._rows[hit.photo_id] = len(self._hits)
            self._hits.append(hit)
        self._has_more = page.has_more
        self._next_offset = page.offset + page.limit

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def row_of(self, photo_id: int) -> int | None:
        return self._rows.get(photo_id)

    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    # Qt's model interface ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return PurePath(hit.path).name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnails.icon(hit.photo_id, hit.path) or self._thumbnails.placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{hit.path}\n#{hit.photo_id}" + ("" if hit.score is None else f", similarity {hit.score:.3f}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return PurePath(hit.path).name + ("" if hit.score is None else f", similarity {hit.score:.2f}")
        if role == HitRole:
            return hit
        return None

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._has_more and not self._loading

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._loading = True
            self.more_wanted.emit(self._next_offset)

    def icons_changed(self) -> None:
        """Every icon must be fetched again (the thumbnail size changed)."""
        if self._hits:
            self.dataChanged.emit(self.index(0), self.index(len(self._hits) - 1), [Qt.ItemDataRole.DecorationRole])

    @Slot(int)
    def _thumbnail_ready(self, photo_id: int) -> None:
        row = self._rows.get(photo_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
