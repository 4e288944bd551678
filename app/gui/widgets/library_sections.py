"""The Tags and Albums sections of the side panel: what the library holds besides folders.

Clicking a tag or an album searches for it (`tag:beach`, `album:"Summer 2023"`), so the filter is visible
and editable in the search field like every other query. Counts come from one background read per refresh.
Albums have icons of their own (a stack of photos; a smart album's with a magnifier), so they never read as
folders on disk, and a "+" beside the Albums heading creates one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QMenu, QToolButton, QTreeWidgetItem, QWidget

from photosift.app.gui.widgets.side_panel import SidePanel
from photosift.app.tasks import TaskRunner
from photosift.core.albums.store import AlbumInfo
from photosift.core.library import Library
from photosift.core.wording import plural
from photosift.resources import resource_path

KIND_ROLE = Qt.ItemDataRole.UserRole + 2  # "tag" or "album" on a row of these sections
NAME_ROLE = Qt.ItemDataRole.UserRole + 3
SHOWN_TAGS = 25  # the most common tags listed; the rest are a search (or the review queue) away


@dataclass(frozen=True)
class Collections:
    """What the sections show: tags that photos carry, with counts, and every album."""

    tags: tuple[tuple[str, int], ...]
    albums: tuple[AlbumInfo, ...]


def read_collections(library: Library) -> Collections:
    counts = library.tags.counts()
    carried = sorted(((name, n) for name, n in counts.items() if n), key=lambda item: (-item[1], item[0]))
    return Collections(tuple(carried[:SHOWN_TAGS]), tuple(library.albums.list_all()))


def filter_term(key: str, name: str) -> str:
    """`tag:beach`, or `album:"Summer 2023"` when the name needs quotes."""
    return f"{key}:{name}" if name and not any(c.isspace() or c in '"+-' for c in name) else f'{key}:"{name}"'


class LibrarySections(QObject):
    """Fills the Tags and Albums sections and turns clicks and right-clicks on them into actions."""

    refreshed = Signal(object)  # the Collections shown
    album_menu_wanted = Signal(object, QPoint)  # an AlbumInfo (or None for the heading), and where
    tag_menu_wanted = Signal(str, QPoint)
    new_album_wanted = Signal()  # the "+" beside the Albums heading

    def __init__(self, panel: SidePanel, runner: TaskRunner, search_for: Callable[[str], None]):
        super().__init__(panel)
        self.panel, self.runner, self._search_for = panel, runner, search_for
        self.albums_section = panel.add_section("Albums")  # the user's own first; tags can be many
        self.tags_section = panel.add_section("Tags")
        self.icons = {kind: QIcon(str(resource_path("icons", f"{kind}.svg"))) for kind in ("album", "smart-album")}
        self.new_album_button = self._plus_button(panel)
        self._albums: dict[str, AlbumInfo] = {}
        panel.item_activated.connect(self._activated)
        panel.item_menu_requested.connect(self._menu)

    def albums(self) -> list[AlbumInfo]:
        """The albums as last shown (menus need them at once, without a round trip to the catalog)."""
        return list(self._albums.values())

    def refresh(self, on_error: Callable[[BaseException], None]) -> None:
        self.runner.run_op(read_collections, self.show, on_error)

    def show(self, collections: Collections) -> None:
        self._albums = {a.name: a for a in collections.albums}
        self._fill(
            self.tags_section,
            [
                (name, f"{n:,}", "tag", f"{plural(n, 'photo')} {'carries' if n == 1 else 'carry'} {name}", None)
                for name, n in collections.tags
            ],
        )
        rows = []
        for album in collections.albums:
            count = "?" if album.photo_count is None else f"{album.photo_count:,}"
            tip = album.problem or (f"Smart album: {album.query}" if album.kind == "smart" else "Album")
            icon = self.icons["smart-album" if album.kind == "smart" else "album"]
            rows.append((album.name, count, "album", tip, icon))
        self._fill(self.albums_section, rows)
        self.refreshed.emit(collections)

    @staticmethod
    def _fill(section: QTreeWidgetItem, rows: Sequence[tuple[str, str, str, str, QIcon | None]]) -> None:
        section.takeChildren()
        for name, count, kind, tip, icon in rows:
            item = QTreeWidgetItem(section, [name, count])
            item.setData(0, KIND_ROLE, kind)
            item.setData(0, NAME_ROLE, name)
            item.setToolTip(0, tip)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setData(
                0, Qt.ItemDataRole.AccessibleTextRole, f"{kind} {name}, {count} {'photo' if count == '1' else 'photos'}"
            )
            if icon is not None:
                item.setIcon(0, icon)

    def _plus_button(self, panel: SidePanel) -> QToolButton:
        """A "+" in the Albums heading's second column (the heading spans one column, so it has room), at
        its right end, above the counts: a folder's "1,204 · indexing…" makes the column wide, and a "+"
        centred in it stood apart from everything."""
        button = QToolButton(autoRaise=True)
        button.setText("+")
        button.setToolTip("New album…")
        button.setAccessibleName("New album")
        button.clicked.connect(self.new_album_wanted)
        self.albums_section.setFirstColumnSpanned(False)
        cell = QWidget()
        row = QHBoxLayout(cell)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(button)
        panel.tree.setItemWidget(self.albums_section, 1, cell)
        return button

    def _activated(self, item: QTreeWidgetItem) -> None:
        kind, name = item.data(0, KIND_ROLE), item.data(0, NAME_ROLE)
        if kind in ("tag", "album"):
            self._search_for(filter_term(kind, name))

    def _menu(self, item: QTreeWidgetItem, at: QPoint) -> None:
        kind, name = item.data(0, KIND_ROLE), item.data(0, NAME_ROLE)
        if kind == "album":
            self.album_menu_wanted.emit(self._albums.get(name), at)
        elif item is self.albums_section:
            self.album_menu_wanted.emit(None, at)
        elif kind == "tag":
            self.tag_menu_wanted.emit(name, at)


def show_menu(menu: QMenu, at: QPoint) -> None:
    menu.exec(at)
    menu.deleteLater()
