"""Folder actions that need a word with the user first: removing a folder, and its unreadable files."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from photosift.app.gui.dialogs.failures import FailuresDialog
from photosift.app.gui.state import AppState
from photosift.core.catalog import PhotoInfo


def confirm_remove_folder(parent: QWidget, state: AppState, path: str) -> QMessageBox:
    """Ask before forgetting a folder's photos (window-modal, so the app keeps running meanwhile)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Remove folder",
        f"Stop watching {path} and forget its photos?\n\nThe photos themselves are not touched.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.accepted.connect(lambda: state.indexing.remove_folder(path))
    box.open()
    return box


def show_failures(parent: QWidget, state: AppState, path: str) -> None:
    """List the folder's files that could not be read, each with its reason."""

    def show(failures: list[PhotoInfo]) -> None:
        FailuresDialog(failures, path, parent=parent).open()

    state.runner.run_op(lambda lib: lib.failures(path), show)
