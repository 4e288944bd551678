"""What can be done with the selected photos, each action created once with its shortcut: the Photo menu
and the grid's context menu show the same `QAction` objects, so a shortcut, a menu entry and a right-click
always do the same thing to the same photos.

The actions act on the grid's selection, the current photo first. A right-click selects what it is
over first (as file managers do), so the context menu's photos are the selection too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QItemSelectionModel, QObject, Qt, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QListView, QMenu, QWidget

from photosift.app.gui.dialogs.shortcuts import GROUP_PROPERTY, Shortcut, key_bindings
from photosift.app.gui.ops.results import copy_paths, file_url, refine_query, show_folder, similar_query
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.core.search.records import SearchHit

Act = Callable[[list[SearchHit]], object]


class PhotoGrid(Protocol):
    """What the actions do with photos in the window they serve (the main window is one)."""

    def current_hits(self) -> list[SearchHit]:
        """The selected photos, the current one first."""

    def search_for(self, text: str) -> None: ...

    def query_text(self) -> str: ...

    def open_viewer(self, row: int) -> None: ...

    def copy_image(self, hit: SearchHit) -> None: ...

    def show_properties(self, hit: SearchHit) -> None: ...


class PhotoActions(QObject):
    """The photo actions of one window; `add_to(menu)` lists them, `menu(hits)` is the context menu."""

    def __init__(
        self,
        parent: QWidget,
        view: QListView,
        model: ResultsModel,
        grid: PhotoGrid,
        open_url: Callable[[QUrl], object],
    ):
        """The actions act on `view`'s selection of `model`'s photos (their shortcuts are `view`'s) through
        `grid`; `parent` owns them and their dialogs."""
        super().__init__(parent)
        self._parent, self._view, self._model, self._grid = parent, view, model, grid
        search_for = grid.search_for

        def refine(sign: str) -> Act:
            return lambda h: search_for(refine_query(grid.query_text(), h, sign))

        def view_first(hits: list[SearchHit]) -> None:
            row = model.row_of(hits[0].photo_id)
            if row is not None:
                grid.open_viewer(row)

        self.similar = self._action("Find &similar images", "S", lambda h: search_for(similar_query(h)))
        self.add = self._action("&Add to query (+)", "+", refine("+"))
        self.subtract = self._action("S&ubtract from query (-)", "-", refine("-"))
        self.view = self._action("&View", "Space", view_first)
        self.open = self._action("&Open in default app", "Ctrl+Return", lambda h: open_files(open_url, h))
        self.show_in_folder = self._action(
            "Show in &folder", None, lambda h: show_folder(parent, open_url, Path(h[0].path).parent)
        )
        self.copy_path = self._action("Copy &path", "Ctrl+Shift+C", copy_paths)
        self.copy_image = self._action("&Copy image", QKeySequence.StandardKey.Copy, lambda h: grid.copy_image(h[0]))
        self.properties = self._action("P&roperties", "Alt+Return", lambda h: grid.show_properties(h[0]))
        self.groups: list[list[QAction]] = [
            [self.similar, self.add, self.subtract],
            [self.view, self.open, self.show_in_folder],
            [self.copy_path, self.copy_image],
            [self.properties],
        ]

    def _action(self, text: str, shortcut: Shortcut | None, act: Act) -> QAction:
        action = QAction(text, self._parent)
        action.setProperty(GROUP_PROPERTY, "Grid")
        if shortcut is not None:
            action.setShortcuts(key_bindings(shortcut))
            # A shortcut of the grid only, so typing "+" or "S" in the search field still types.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self._view.addAction(action)
        action.triggered.connect(lambda: self._run(act))
        return action

    def _run(self, act: Act) -> None:
        hits = self._grid.current_hits()
        if hits:
            act(hits)

    def add_to(self, menu: QMenu) -> None:
        """Add every action to `menu`, in groups between separators."""
        for number, group in enumerate(self.groups):
            if number:
                menu.addSeparator()
            menu.addActions(group)

    def menu(self, hits: Sequence[SearchHit]) -> QMenu:
        """The context menu for `hits` (the right-clicked photo first), which become the selection."""
        self.select(hits)
        menu = QMenu(self._parent)
        menu.setAccessibleName("Photo actions")
        self.add_to(menu)
        return menu

    def select(self, hits: Sequence[SearchHit]) -> None:
        """Make `hits` the grid's selection, the first one current."""
        selection, model = self._view.selectionModel(), self._model
        rows = [row for row in (model.row_of(hit.photo_id) for hit in hits) if row is not None]
        if not rows:
            return
        flags = QItemSelectionModel.SelectionFlag
        selection.setCurrentIndex(model.index(rows[0], 0), flags.ClearAndSelect)
        for row in rows[1:]:
            selection.select(model.index(row, 0), flags.Select)
        self.copy_path.setText("Copy &paths" if len(rows) > 1 else "Copy &path")


def open_files(open_url: Callable[[QUrl], object], hits: Sequence[SearchHit]) -> None:
    """Open each photo in the system's default app for its type."""
    for hit in hits:
        open_url(file_url(hit.path))
