"""What can be done with selected results: the context menu and the query edits behind it.

Queries are edited as text ("beach + #12 - #40"), so every refinement stays visible in the search field
and can be changed or repeated by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QMenu, QWidget

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


class ResultActions:
    """Builds the context menu for the selected hits; the window supplies how each action is carried out."""

    def __init__(
        self,
        parent: QWidget,
        search_for: Callable[[str], None],
        current_query: Callable[[], str],
        open_url: Callable[[QUrl], object],
        copy_image: Callable[[SearchHit], None],
        show_properties: Callable[[SearchHit], None],
    ):
        self._parent, self._search_for, self._query = parent, search_for, current_query
        self._open_url, self._copy_image, self._properties = open_url, copy_image, show_properties

    def menu(self, hits: Sequence[SearchHit]) -> QMenu:
        """The menu for `hits` (the right-clicked photo first, then the rest of the selection)."""
        first, many = hits[0], len(hits) > 1
        menu = QMenu(self._parent)
        menu.setAccessibleName("Photo actions")
        menu.addAction("Find similar images", lambda: self._search_for(similar_query(hits)))
        menu.addAction("Add to query (+)", lambda: self._search_for(refine_query(self._query(), hits, "+")))
        menu.addAction("Subtract from query (-)", lambda: self._search_for(refine_query(self._query(), hits, "-")))
        menu.addSeparator()
        menu.addAction("Open", lambda: self.open_files(hits))
        menu.addAction("Show in folder", lambda: self._open_url(QUrl.fromLocalFile(str(Path(first.path).parent))))
        menu.addSeparator()
        menu.addAction("Copy paths" if many else "Copy path", lambda: copy_paths(hits))
        menu.addAction("Copy image", lambda: self._copy_image(first))
        menu.addSeparator()
        menu.addAction("Properties", lambda: self._properties(first))
        return menu

    def open_files(self, hits: Sequence[SearchHit]) -> None:
        for hit in hits:
            self._open_url(QUrl.fromLocalFile(hit.path))


def copy_paths(hits: Sequence[SearchHit]) -> None:
    QGuiApplication.clipboard().setText("\n".join(hit.path for hit in hits))


def put_image_on_clipboard(image: QImage | None) -> None:
    if image is not None and not image.isNull():
        QGuiApplication.clipboard().setImage(image)
