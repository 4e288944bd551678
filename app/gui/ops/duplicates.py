"""Opening the duplicate review from the window: its marks and the "hide duplicates" option refresh the
results on show, and the option is saved with the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from photosift.app.gui.dialogs.duplicates import DuplicatesDialog
from photosift.app.gui.widgets.placement import centre_over
from photosift.app.gui.widgets.thumbnails import ThumbnailCache

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


def open_duplicates(window: MainWindow) -> DuplicatesDialog:
    """Show the review of the groups found so far; with none stored yet, start a search at once."""
    state = window.state
    # Its own thumbnail cache: every new search drops the grid's queued thumbnails.
    thumbnails = ThumbnailCache(window.thumbnails.cache_dir, parent=window)
    dialog = DuplicatesDialog(window.runner, thumbnails, state.settings.hide_duplicates, parent=window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.destroyed.connect(thumbnails.deleteLater)

    def hide(on: bool) -> None:
        state.save_settings(state.settings.with_changes(hide_duplicates=on))
        window.search.run_query(keep_scroll=True)

    dialog.hide_changed.connect(hide)
    dialog.marks_changed.connect(lambda: window.search.run_query(keep_scroll=True))
    dialog.loaded.connect(lambda: _find_if_never_searched(dialog))
    dialog.show()
    centre_over(dialog, window)
    dialog.load()
    return dialog


def _find_if_never_searched(dialog: DuplicatesDialog) -> None:
    """The first load with no groups starts a search (once), so the menu entry does what it says."""
    if not dialog.groups and not dialog.property("searched"):
        dialog.setProperty("searched", True)
        dialog.find()
