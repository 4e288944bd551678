"""What the photo actions do (`gui.photo_actions` creates them): the query edits, the clipboard, the folder.

Queries are edited as text ("beach + #12 - #40"), so every refinement stays visible in the search field
and can be changed or repeated by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QWidget

from photosift.app.gui.presenter import message_box
from photosift.app.gui.readable import readable_path
from photosift.core.search.records import SearchHit


def similar_query(hits: Sequence[SearchHit]) -> str:
    """The query for photos like all of `hits`: "#7", or "#7 + #9" for several."""
    return " + ".join(f"#{hit.photo_id}" for hit in hits)


def refine_query(query: str, hits: Sequence[SearchHit], sign: str) -> str:
    """`query` with the photos added (sign "+") or subtracted ("-") as image terms."""
    terms = " ".join(f"{sign} #{hit.photo_id}" for hit in hits)
    if not query.strip():
        return similar_query(hits) if sign == "+" else terms
    return f"{query.strip()} {terms}"


def file_url(path: str | Path) -> QUrl:
    """A file:// URL for `path` that keeps its exact bytes: a name that is not valid UTF-8 (stored
    surrogate-escaped) became a different, missing file through `QUrl.fromLocalFile`."""
    return QUrl.fromEncoded(Path(path).absolute().as_uri().encode("ascii"))


def show_folder(parent: QWidget, open_url: Callable[[QUrl], object], folder: Path) -> bool:
    """Open `folder` in the file manager; where none can be opened, say so and put its path on the
    clipboard instead (a desktop without xdg-open, a minimal window manager). Returns whether it opened."""
    if open_url(file_url(folder)):
        return True
    QGuiApplication.clipboard().setText(str(folder))
    message_box(
        parent,
        f"No file manager could be opened to show {folder}. Its path is on the clipboard: paste it into a "
        "file manager or a terminal.",
    ).open()
    return False


def copy_paths(hits: Sequence[SearchHit]) -> None:
    """The paths as text to read and paste. A name that is not valid UTF-8 has no exact text: it is copied
    readably (see `readable_path`) rather than with its odd bytes dropped. (File URLs beside the text would
    keep the bytes, but PySide6 crashes at exit while the clipboard holds a QMimeData set from Python.)"""
    QGuiApplication.clipboard().setText("\n".join(readable_path(hit.path) for hit in hits))


def put_image_on_clipboard(image: QImage | None) -> None:
    if image is not None and not image.isNull():
        QGuiApplication.clipboard().setImage(image)
