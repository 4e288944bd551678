"""Tag actions from the window: a tag's menu in the side panel (show, review, sensitivity), new tags, and
tags given to or taken from the selected photos (the Tags menu and a photo's "Tag" submenu).

They take the parent for their dialogs, the app state and the few things of the window they act on
(the search on show, the review queue, the selection), never the window itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtWidgets import QMenu, QWidget

from photosift.app.gui.dialogs.tags import open_label_dialog, open_new_tag_dialog, open_sensitivity_dialog
from photosift.app.gui.state import AppState, Changes
from photosift.app.gui.widgets.library_sections import filter_term
from photosift.core.library import Library
from photosift.core.search.records import SearchHit
from photosift.core.wording import plural

RECENT_TAGS = 5  # tags a photo's "Tag" submenu offers at one click: the ones given lately, newest first


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
        self.recent: list[str] = []  # the tags given to photos lately (in the catalog), newest first
        state.changed.connect(lambda changes: self._read_recent() if changes.tags else None)
        state.model_switched.connect(lambda _library: self._read_recent())
        self._read_recent()

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

    def extend_result_menu(self, menu: QMenu, hits: Sequence[SearchHit]) -> None:
        """Add the "Tag" submenu to a photo's menu: the tags given lately at one click, any other tag, a
        tag taken away, and a new tag with these photos as its examples."""
        ids = [hit.photo_id for hit in hits]
        menu.addSeparator()
        submenu = menu.addMenu("&Tag")
        for name in self.recent:
            submenu.addAction(name, partial(self.give, name, ids))
        if self.recent:
            submenu.addSeparator()
        submenu.addAction("Tag &as…", lambda: self.label(ids, True))
        submenu.addAction("&Remove a tag…", lambda: self.label(ids, False))
        submenu.addAction("&New tag from these photos…", self.new_tag)

    def label_selection(self, accepted: bool) -> None:
        """Ask which tag the selected photos carry (or never carry); without a selection, say to make one."""
        ids = [hit.photo_id for hit in self._selection()]
        if not ids:
            self._state.notice.emit("Select the photos to tag first.")
            return
        self.label(ids, accepted)

    def label(self, photo_ids: Sequence[int], accepted: bool) -> None:
        dialog = open_label_dialog(self._parent, self._state.runner, photo_ids, accepted, self.recent)
        dialog.labelled.connect(lambda name, count: self._labelled(name, count, accepted))

    def give(self, name: str, photo_ids: Sequence[int]) -> None:
        """Label the photos with tag `name` at once (a recent tag from the photo's menu)."""
        pairs = [(photo_id, name) for photo_id in photo_ids]
        self._state.runner.run_op(
            lambda lib: lib.tags.accept(pairs), lambda count: self._labelled(name, count, True), writes=True
        )

    def _read_recent(self) -> None:
        """Fetch the tags given lately, so that a photo's menu opens at once with them."""

        def keep(names: list[str]) -> None:
            self.recent = names

        self._state.runner.run_op(lambda lib: lib.tags.recently_labelled(RECENT_TAGS), keep)

    def _labelled(self, name: str, count: int, accepted: bool) -> None:
        if accepted:
            self._state.notice.emit(f"Tagged {plural(count, 'photo')} “{name}”.")
        else:
            self._state.notice.emit(f"{plural(count, 'photo').capitalize()} will not carry “{name}”.")
        self._state.announce(Changes(tags=True))

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
