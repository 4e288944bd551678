"""Favourites and star ratings from the keyboard and menus: F toggles a favourite, Ctrl+1 to Ctrl+5 rate
and Ctrl+0 clears the rating, for the selected photos in the grid and the photo on show in the viewer.

Ctrl+digit, as digiKam has it, rather than bare digits (Lightroom's): the viewer's 0 and 1 already fit the
photo and show its actual pixels. Marks are kept in the catalog, never in the photo file. A change is a
write on the runner's writer; it says what it did on the status line and leaves the results in place (a
photo un-favourited under `is:favourite` stays until the next search, as in other photo apps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QListView, QMenu, QWidget

from photosift.app.gui.dialogs.shortcuts import GROUP_PROPERTY, key_bindings
from photosift.app.tasks import TaskRunner
from photosift.core.catalog.marks import MAX_STARS
from photosift.core.library import Library
from photosift.core.search.records import SearchHit

FAVOURITE_KEY = "F"
RATING_KEYS = tuple(f"Ctrl+{stars}" for stars in range(MAX_STARS + 1))  # Ctrl+0 clears


def stars_text(stars: int) -> str:
    """'★★★☆☆', or 'unrated' for 0."""
    return "★" * stars + "☆" * (MAX_STARS - stars) if stars else "unrated"


class Marker(QObject):
    """Writes marks for photos and says so; `changed` carries the photo ids whose marks changed."""

    changed = Signal(object)  # list of photo ids

    def __init__(self, runner: TaskRunner, notice: Callable[[str], object], parent: QObject | None = None):
        super().__init__(parent)
        self._runner, self._notice = runner, notice

    def toggle_favourite(self, photo_ids: Sequence[int]) -> None:
        """Make them all favourites, or, when they all are already, none of them."""

        def work(lib: Library) -> bool:
            favourite = not all(m.favourite for m in lib.marks.of(photo_ids).values())
            lib.marks.set_favourite(photo_ids, favourite)
            return favourite

        def done(favourite: bool) -> None:
            what = "a favourite" if len(photo_ids) == 1 else f"{len(photo_ids)} favourites"
            self._done(photo_ids, f"{'Now' if favourite else 'No longer'} {what}.")

        self._runner.run_op(work, done, writes=True)

    def rate(self, photo_ids: Sequence[int], stars: int) -> None:
        def done(_changed: int) -> None:
            photos = "the photo" if len(photo_ids) == 1 else f"{len(photo_ids)} photos"
            self._done(
                photo_ids, f"Rated {photos} {stars_text(stars)}." if stars else f"Cleared the rating of {photos}."
            )

        self._runner.run_op(lambda lib: lib.marks.set_rating(photo_ids, stars), done, writes=True)

    def _done(self, photo_ids: Sequence[int], sentence: str) -> None:
        self._notice(sentence)
        self.changed.emit(list(photo_ids))


class MarkActions(QObject):
    """The grid's Favourite action and Rating submenu (F, Ctrl+0-5), for the Photo and context menus."""

    def __init__(self, view: QListView, selection: Callable[[], list[SearchHit]], marker: Marker, parent: QWidget):
        """The actions are shortcuts of `view` and act on `selection()`, the selected photos."""
        super().__init__(parent)
        self._view, self._selection, self._marker, self._parent = view, selection, marker, parent
        self.favourite = self._action("&Favourite", FAVOURITE_KEY, lambda ids: marker.toggle_favourite(ids))
        self.rating_menu = QMenu("&Rating", parent)
        for stars, key in enumerate(RATING_KEYS):
            text = f"&{stars} star{'s' if stars > 1 else ''}" if stars else "&No rating"
            self.rating_menu.addAction(self._action(text, key, partial(marker.rate, stars=stars)))
        self.group: list[QAction] = [self.favourite, self.rating_menu.menuAction()]

    def _action(self, text: str, key: str, act: Callable[[list[int]], None]) -> QAction:
        action = QAction(text, self._parent)
        action.setProperty(GROUP_PROPERTY, "Grid")
        action.setShortcuts(key_bindings(key))
        # The grid's own keys: F and Ctrl+digits typed in the search field stay the field's.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._view.addAction(action)
        action.triggered.connect(lambda: self._run(act))
        return action

    def _run(self, act: Callable[[list[int]], None]) -> None:
        hits = self._selection()
        if hits:
            act([hit.photo_id for hit in hits])
