"""Where the file dialogs open: the platform's folder for what is being chosen, never the process's working
directory (for an app started from a menu that is anywhere; from a shell, wherever the shell was)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

Location = QStandardPaths.StandardLocation


def pictures_folder() -> str:
    """Photo folders and images to search by are looked for here first."""
    return _existing(QStandardPaths.writableLocation(Location.PicturesLocation))


def downloads_folder() -> str:
    """A model file someone fetched by hand is most likely here."""
    return _existing(QStandardPaths.writableLocation(Location.DownloadLocation))


def documents_folder() -> str:
    """Caption files are read from, and exports written to, here first (an export never goes into a photo
    folder: core refuses that)."""
    return _existing(QStandardPaths.writableLocation(Location.DocumentsLocation))


def _existing(folder: str) -> str:
    """`folder`, or the nearest folder above it that exists: a home without a Pictures folder opens the dialog
    in the home folder, not at a greyed-out "Pictures" typed into its name field."""
    path = Path(folder)
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return str(path)


def in_documents(name: str) -> str:
    """A save dialog's suggestion: `name` in the Documents folder."""
    return str(Path(documents_folder()) / name)
