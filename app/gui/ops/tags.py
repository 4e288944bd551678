"""Tag actions from the window: a tag's menu in the side panel (show, review, sensitivity) and new tags.

They take the parent for their dialogs, the app state and the few things of the window they act on
(the search on show, the review queue, the selection), never the window itself.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu, QWidget

from photosift.app.gui.dialogs.tags import open_new_tag_dialog, open_sensitivity_dialog
from photosift.app.gui.state import AppState, Changes
from photosift.app.gui.widgets.library_sections import filter_term
from photosift.core.library import Library
from photosift.core.search.records import SearchHit


class TagActions:
    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        search_for: Callable[[str], None],
        review: Callable[[str], object],
        selection: Callable[[], list[SearchHit]],
    ):
        """`search_for` puts a query in the search field and runs it; `review` opens the review queue on
        a tag; `selection` is the photos selected in the grid."""
        self._parent, self._state = parent, state
        self._search_for, self._review, self._selection = search_for, review, selection

    def menu(self, name: str) -> QMenu:
        """The menu of a tag's row in the side panel."""
        menu = QMenu(self._parent)
        menu.addAction("Show photos", lambda: self._search_for(filter_term("tag", name)))
        menu.addAction("Review suggestions…", lambda: self._review(name))
        menu.addSeparator()
        menu.addAction("More photos (more sensitive)", lambda: self.change_sensitivity(name, +1))
        menu.addAction("Fewer photos (less sensitive)", lambda: self.change_sensitivity(name, -1))
        menu.addAction("Sensitivity…", lambda: self._open_sensitivity(name))
        return menu

    def change_sensitivity(self, name: str, step: int) -> None:
        """Move a tag's threshold one step; the panel's counts and the current results follow."""

        def work(lib: Library) -> int:
            level = max(-2, min(2, lib.tags.tag(name).sensitivity + step))
            return lib.tags.set_sensitivity(name, level).sensitivity

        def done(level: int) -> None:
            self._state.notice.emit(f"Sensitivity of {name}: {level:+d} (from -2 to +2).")
            self._state.announce(Changes(tags=True))

        self._state.runner.run_op(work, done, writes=True)

    def new_tag(self) -> None:
        """Define a tag; the selected photos (if any) become its examples."""
        ids = [hit.photo_id for hit in self._selection()]
        dialog = open_new_tag_dialog(self._parent, self._state.runner, ids)
        dialog.tag_added.connect(self._tag_added)

    def _tag_added(self, name: str) -> None:
        self._state.announce(Changes(tags=True))
        self._search_for(filter_term("tag", name))

    def _open_sensitivity(self, name: str) -> None:
        dialog = open_sensitivity_dialog(self._parent, self._state.runner, name)
        dialog.sensitivity_changed.connect(lambda *_: self._state.announce(Changes(tags=True)))
