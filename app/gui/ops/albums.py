"""Albums from the window: create, rename, delete, add and remove photos, save a search as a smart album,
and let an album suggest the tags its photos share.

Dialogs are window-modal and opened with `open()`, so indexing and searches go on behind them. Writes
go through the task runner's writer and announce `Changes(albums=True)`, which the side panel and the
results follow. The actions take their dialogs' parent, the app state and the search on show, never the
window itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from photosift.app.gui.start_folders import in_documents
from photosift.app.gui.state import AppState, Changes
from photosift.app.gui.widgets.library_sections import filter_term
from photosift.core.albums.store import AlbumInfo
from photosift.core.library import Library
from photosift.core.search.records import SearchHit
from photosift.core.tags.records import TagSuggestion
from photosift.core.wording import plural

TITLE_ROOM = 160  # pixels beside a dialog's title for the window buttons and frame


class ShownSearch(Protocol):
    """The search on show (the window's `SearchController`): its query, and a new search."""

    def text(self) -> str: ...

    def search_for(self, text: str) -> None: ...


class AlbumActions(QObject):
    suggestions_shown = Signal(object)  # the tag suggestions dialog of an album, once it is open

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        search: ShownSearch,
        shown: Callable[[], list[SearchHit]],
        albums: Callable[[], Iterable[AlbumInfo]],
    ):
        """`shown` is the photos the grid holds; `albums` the albums the side panel lists (read there
        already, so a menu opens at once)."""
        super().__init__(parent)
        self._parent, self._state, self._search, self._shown, self._albums = parent, state, search, shown, albums

    def albums(self) -> list[AlbumInfo]:
        return list(self._albums())

    # Menus ------------------------------------------------------------------------------------------

    def album_menu(self, album: AlbumInfo | None) -> QMenu:
        """The menu of an album row (or of the Albums heading when `album` is None)."""
        menu = QMenu(self._parent)
        if album is not None:
            menu.addAction("Show photos", lambda: self._search.search_for(filter_term("album", album.name)))
            menu.addAction("Suggest tags…", lambda: self.suggest_tags(album.name))
            menu.addAction("Rename…", lambda: self.ask_name("Rename album", album.name, self._renamer(album.name)))
            menu.addAction("Delete…", lambda: self.confirm_delete(album.name))
            menu.addSeparator()
        menu.addAction("New album…", lambda: self.ask_name("New album", "", self.creator([])))
        smart = menu.addAction("New smart album from this search…", self.save_search)
        smart.setEnabled(bool(self._search.text()))
        return menu

    def extend_result_menu(self, menu: QMenu, hits: Sequence[SearchHit]) -> None:
        """Add "Add to album" (and "Remove from album" while an album is shown) to a photo's menu."""
        menu.addSeparator()
        submenu = menu.addMenu("Add to album")
        for album in self.albums():
            if album.kind == "manual":
                submenu.addAction(album.name, partial(self.add, album.name, hits))
        submenu.addSeparator()
        submenu.addAction("New album…", lambda: self.ask_name("New album", "", self.creator(hits)))
        shown = self.shown_album()
        if shown is not None:
            menu.addAction(f"Remove from “{shown}”", lambda: self.remove(shown, hits))

    def shown_album(self) -> str | None:
        """The manual album the search field shows exactly (`album:"X"`), if any."""
        query = self._search.text()
        for album in self.albums():
            if album.kind == "manual" and query == filter_term("album", album.name):
                return album.name
        return None

    # Actions ----------------------------------------------------------------------------------------

    def ask_name(
        self, title: str, current: str, then: Callable[[str], None], label: str = "Album name:"
    ) -> QInputDialog:
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        # Wide enough for its title: window managers cut a title to the dialog's width ("New smart al…").
        dialog.setMinimumWidth(dialog.fontMetrics().horizontalAdvance(title) + TITLE_ROOM)
        dialog.setTextValue(current)
        dialog.textValueSelected.connect(lambda name: then(name.strip()) if name.strip() else None)
        dialog.open()
        return dialog

    def save_search(self) -> QInputDialog:
        """Save the search on show as a smart album holding what the grid shows.

        A ranked search shows every photo, best first; the album keeps those at least as similar as the
        last one loaded (without a threshold it kept only the few near the best hit: a search showing
        393 photos saved an album of 5). A search of filters only keeps every photo that passes.
        """
        query, hits = self._search.text(), self._shown()
        scores = [hit.score for hit in hits if hit.score is not None]
        threshold = min(scores) if scores else None

        def create(name: str) -> None:
            self._write(lambda lib: lib.albums.create_smart(name, query, threshold), f"Smart album “{name}” saved.")

        kept = plural(len(hits), "photo")
        label = f"The album keeps the {kept} shown, and new photos that match as well.\n\nAlbum name:"
        return self.ask_name("New smart album", "", create, label)

    def add(self, name: str, hits: Sequence[SearchHit]) -> None:
        ids = [h.photo_id for h in hits]
        self._write(lambda lib: lib.albums.add(name, ids), f"Added {plural(len(ids), 'photo')} to “{name}”.")

    def remove(self, name: str, hits: Sequence[SearchHit]) -> None:
        ids = [h.photo_id for h in hits]
        self._write(lambda lib: lib.albums.remove(name, ids), f"Removed {plural(len(ids), 'photo')} from “{name}”.")

    def confirm_delete(self, name: str) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete album",
            f"Delete the album “{name}”?\n\nIts photos stay in the library and on disk.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self._parent,
        )
        box.accepted.connect(lambda: self._write(lambda lib: lib.albums.delete(name), f"Album “{name}” deleted."))
        box.open()
        return box

    def suggest_tags(self, name: str) -> None:
        """Propose the tags most of the album's photos carry; the ones the user keeps are accepted for all."""

        def read(lib: Library) -> tuple[list[int], list[TagSuggestion]]:
            ids = sorted(lib.albums.photo_ids(name))
            return ids, lib.suggest_tags(ids)

        def show(found: tuple[list[int], list[TagSuggestion]]) -> None:
            ids, suggestions = found
            dialog = SuggestionsDialog(name, suggestions, self._parent)
            dialog.accepted.connect(lambda: self._accept_tags(ids, dialog.chosen()))
            dialog.open()
            self.suggestions_shown.emit(dialog)

        self._state.runner.run_op(read, show)

    def _accept_tags(self, ids: list[int], tags: list[str]) -> None:
        pairs = [(photo_id, tag) for tag in tags for photo_id in ids]
        if pairs:
            self._write(
                lambda lib: lib.tags.accept(pairs), f"Tagged {plural(len(ids), 'photo')} with {', '.join(tags)}."
            )

    def creator(self, hits: Sequence[SearchHit]) -> Callable[[str], None]:
        ids = [h.photo_id for h in hits]

        def create(name: str) -> None:
            def work(lib: Library) -> None:
                lib.albums.create(name)
                if ids:
                    lib.albums.add(name, ids)

            held = f" with {plural(len(ids), 'photo')}" if ids else ""
            self._write(work, f"Album “{name}” created{held}.")

        return create

    def choose(self, title: str, then: Callable[[str], object]) -> QInputDialog:
        """Ask which album (the one on show first), then call `then` with its name."""
        names = [album.name for album in self.albums()]
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle(title)
        dialog.setLabelText("Album:")
        dialog.setComboBoxItems(names)
        dialog.setComboBoxEditable(False)
        if (shown := self.shown_album()) in names:
            dialog.setTextValue(shown)
        dialog.textValueSelected.connect(lambda name: then(name) if name in names else None)
        dialog.open()
        return dialog

    def export(self) -> None:
        """Write every album, with its photos' paths, to a JSON file the person chooses (as `photosift albums
        export` does; core refuses a file inside a photo folder)."""
        suggested = in_documents("albums.json")
        path, _ = QFileDialog.getSaveFileName(self._parent, "Export albums", suggested, "JSON files (*.json)")
        if path:
            self._state.runner.run_op(
                lambda lib: lib.albums.export(Path(path)),
                lambda count: self._state.notice.emit(f"Exported {plural(count, 'album')} to {path}."),
            )

    def _renamer(self, old: str) -> Callable[[str], None]:
        return lambda new: self._write(lambda lib: lib.albums.rename(old, new), f"Album “{old}” renamed to “{new}”.")

    def _write(self, work: Callable[[Library], object], done: str) -> None:
        def finished(_: object) -> None:
            self._state.notice.emit(done)
            self._state.announce(Changes(albums=True))  # the counts, and results filtered by album

        self._state.runner.run_op(work, finished, writes=True)


class SuggestionsDialog(QDialog):
    """Checkable tag suggestions for an album, the most shared first (all checked above half the photos)."""

    def __init__(self, album: str, suggestions: Sequence[TagSuggestion], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Suggested tags for {album}")
        self.list = QListWidget()
        self.list.setAccessibleName("Suggested tags")
        for s in suggestions:
            item = QListWidgetItem(f"{s.name} — {plural(s.photos, 'photo')} ({100 * s.share:.0f}%)")
            item.setData(Qt.ItemDataRole.UserRole, s.name)
            item.setCheckState(Qt.CheckState.Checked if s.share >= 0.5 else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        note = "Checked tags are accepted for every photo in the album." if suggestions else "No tags to suggest yet."
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (QLabel(note), self.list, buttons):
            layout.addWidget(widget)

    def chosen(self) -> list[str]:
        items = [self.list.item(i) for i in range(self.list.count())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]
