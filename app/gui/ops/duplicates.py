"""Opening the duplicate review: its marks and the "hide duplicates" option refresh the results on show,
and the option is saved with the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget

from photosift.app.gui.dialogs.duplicates import DuplicatesDialog
from photosift.app.gui.state import AppState
from photosift.app.gui.widgets.placement import centre_over
from photosift.app.gui.widgets.thumbnails import ThumbnailCache


def open_duplicates(
    parent: QWidget, state: AppState, thumbnail_dir: Path, refresh: Callable[[], None]
) -> DuplicatesDialog:
    """Show the review of the groups found so far; with none stored yet, start a search at once.

    Args:
        thumbnail_dir: the window's thumbnail cache folder, so the review shows the pictures already made.
        refresh: runs the search on show again (photos were marked, or hidden or shown).
    """
    # One per window, kept when closed: a search still running then reports to a dialog that exists.
    dialog = parent.findChild(DuplicatesDialog)
    if dialog is None:
        # Its own thumbnail cache: every new search drops the grid's queued thumbnails.
        thumbnails = ThumbnailCache(thumbnail_dir, parent=parent)
        dialog = DuplicatesDialog(state.runner, thumbnails, state.settings.hide_duplicates, parent=parent)

        def hide(on: bool) -> None:
            state.save_settings(state.settings.with_changes(hide_duplicates=on))
            refresh()

        dialog.hide_changed.connect(hide)
        dialog.marks_changed.connect(refresh)
        dialog.loaded.connect(lambda: _find_if_never_searched(dialog))
    dialog.show()
    dialog.raise_()
    centre_over(dialog, parent)
    dialog.load()
    return dialog


def _find_if_never_searched(dialog: DuplicatesDialog) -> None:
    """The first load with no groups starts a search (once), so the menu entry does what it says."""
    if not dialog.groups and not dialog.property("searched"):
        dialog.setProperty("searched", True)
        dialog.find_duplicates()
