"""Tag actions from the window: a tag's menu in the side panel (show, review, sensitivity) and new tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from photosift.app.gui.dialogs.tags import open_new_tag_dialog, open_sensitivity_dialog
from photosift.app.gui.state import Changes
from photosift.app.gui.widgets.library_sections import filter_term
from photosift.core.library import Library

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


def tag_menu(window: MainWindow, name: str) -> QMenu:
    menu = QMenu(window)
    menu.addAction("Show photos", lambda: window.search_for(filter_term("tag", name)))
    menu.addAction("Review suggestions…", lambda: window.review_queue.review(name))
    menu.addSeparator()
    menu.addAction("More photos (more sensitive)", lambda: change_sensitivity(window, name, +1))
    menu.addAction("Fewer photos (less sensitive)", lambda: change_sensitivity(window, name, -1))
    menu.addAction(
        "Sensitivity…",
        lambda: open_sensitivity_dialog(window, window.runner, name).sensitivity_changed.connect(
            lambda *_: window.state.announce(Changes(tags=True))
        ),
    )
    return menu


def change_sensitivity(window: MainWindow, name: str, step: int) -> None:
    """Move a tag's threshold one step; the panel's counts and the current results follow."""

    def work(lib: Library) -> int:
        level = max(-2, min(2, lib.tags.tag(name).sensitivity + step))
        return lib.tags.set_sensitivity(name, level).sensitivity

    def done(level: int) -> None:
        window.statusBar().showMessage(f"Sensitivity of {name}: {level:+d} (from -2 to +2).", 8000)
        window.state.announce(Changes(tags=True))

    window.runner.run_op(work, done, writes=True)


def new_tag(window: MainWindow) -> None:
    """Define a tag; the selected photos (if any) become its examples."""
    dialog = open_new_tag_dialog(window, window.runner, [h.photo_id for h in window.current_hits()])
    dialog.tag_added.connect(
        lambda name: (window.state.announce(Changes(tags=True)), window.search_for(filter_term("tag", name)))
    )
