"""Folder actions that need a word with the user first: removing a folder, and its unreadable files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from photosift.app.gui.dialogs.failures import FailuresDialog
from photosift.core.catalog import PhotoInfo

if TYPE_CHECKING:
    from photosift.app.gui.main_window import MainWindow


def confirm_remove_folder(window: MainWindow, path: str) -> QMessageBox:
    """Ask before forgetting a folder's photos (window-modal, so the app keeps running meanwhile)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Remove folder",
        f"Stop watching {path} and forget its photos?\n\nThe photos themselves are not touched.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        window,
    )
    box.accepted.connect(lambda: window.indexing.remove_folder(path))
    box.open()
    return box


def show_failures(window: MainWindow, path: str) -> None:
    """List the folder's files that could not be read, each with its reason."""

    def show(failures: list[PhotoInfo]) -> None:
        FailuresDialog(failures, path, parent=window).open()

    window.runner.run_op(lambda lib: lib.failures(path), show)
