"""The menu of a tag in the side panel: show its photos, or move its threshold a step either way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from app.gui.library_sections import filter_term
from core.library import Library

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


def tag_menu(window: MainWindow, name: str) -> QMenu:
    menu = QMenu(window)
    menu.addAction("Show photos", lambda: window.search_for(filter_term("tag", name)))
    menu.addSeparator()
    menu.addAction("More photos (more sensitive)", lambda: change_sensitivity(window, name, +1))
    menu.addAction("Fewer photos (less sensitive)", lambda: change_sensitivity(window, name, -1))
    return menu


def change_sensitivity(window: MainWindow, name: str, step: int) -> None:
    """Move a tag's threshold one step; the panel's counts and the current results follow."""

    def work(lib: Library) -> int:
        level = max(-2, min(2, lib.tags.tag(name).sensitivity + step))
        return lib.tags.set_sensitivity(name, level).sensitivity

    def done(level: int) -> None:
        window.statusBar().showMessage(f"Sensitivity of {name}: {level:+d} (from -2 to +2).", 8000)
        window.refresh_library_status()
        if window.search.text():
            window.run_query(keep_scroll=True)

    window.runner.run_op(work, done, window.report_error, writes=True)
