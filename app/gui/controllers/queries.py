"""What the search field's text means: a text query, or "photos like this one" for a `#id` or an image file.

The text of the query is always the whole query: a similar search started from a menu or a drop stays
visible and editable, its photos and image files shown as chips (widgets.query_chips). The ops built here
run on a worker thread (they may touch the disk).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QImage

from photosift.app.gui.widgets.query_chips import ImageTerm
from photosift.app.gui.widgets.viewer_images import decode_op
from photosift.core.errors import PhotosiftError, UserError
from photosift.core.imageio import PHOTO_EXTENSIONS
from photosift.core.library import Library
from photosift.core.search.query import parse_query
from photosift.core.search.records import SearchFilters, SearchPage
from photosift.core.search.references import parse_reference

PHOTO_ID = re.compile(r"#(\d+)")
SMOOTH = Qt.TransformationMode.SmoothTransformation
KEEP_PASTED = 20  # pasted images kept in the cache, so the last few queries can be run again


def similar_target(text: str) -> int | Path | None:
    """The photo a query asks for look-alikes of: `#id` alone, or the path of one image file alone.

    Raises:
        UserError: the `#id` is larger than any photo id can be (core.search.references decides).
    """
    text = text.strip()
    if PHOTO_ID.fullmatch(text):
        return parse_reference(text)
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]  # a path with spaces is quoted in a query (`image_term`)
    path = Path(text).expanduser()
    if path.suffix.lower() in PHOTO_EXTENSIONS and path.is_file():
        return path
    return None


def image_term(path: Path) -> str:
    """`path` as one image term of a query: quoted when it holds white space, which would split it."""
    return f'"{path}"' if any(c.isspace() for c in str(path)) else str(path)


def file_query_op(path: Path) -> Callable[[Library], str]:
    """An op for the task runner: the query for photos like an image file (dropped or pasted). A file of one
    of the library's photos asks as that photo (`#id`), so the photo leads its results marked as the query,
    as a find similar from the grid does; any other file asks by its path."""

    def op(library: Library) -> str:
        photo_id = library.photo_id_for_path(path)
        return image_term(path) if photo_id is None else f"#{photo_id}"

    return op


def result_filters(library: Library) -> SearchFilters:
    """What the window's searches add to the query: marked near-duplicates left out, if the person chose so."""
    return SearchFilters(hide_duplicates=library.settings.hide_duplicates)


def follows_tags_or_albums(text: str) -> bool:
    """Whether a change of tags or albums can change the results of the query `text`: it filters by tag or
    by album (a smart album's own search may name tags). Other results stay as they are, so they are not
    fetched again: after End that meant every loaded row, 100,000 of them. A query that does not parse
    counts as following them, so that running it again shows its error."""
    try:
        filters = parse_query(text).filters
    except PhotosiftError:
        return True
    return bool(filters.include_tags or filters.exclude_tags or filters.albums)


def query_op(text: str, offset: int, limit: int) -> Callable[[Library], SearchPage]:
    """An op for the task runner: one page of results for the field's `text`.

    A lone photo (by id or path) goes through `Library.similar`, which leaves the photo itself out; a
    photo by id is put back at the top of the first page, the query itself. Anything else is the query
    language of `Library.search`.
    """

    def op(library: Library) -> SearchPage:
        target = similar_target(text)
        if target is None:
            return library.search(text, result_filters(library), offset=offset, limit=limit)
        page = library.similar(target, result_filters(library), offset=offset, limit=limit)
        if offset or not isinstance(target, int):
            return page
        # The photo the search started from leads its first page, so the grid shows what it is like.
        source = library.page([(target, 1.0)], 0, 1).hits
        return SearchPage((*source, *page.hits), page.offset, page.limit, page.has_more)

    return op


@dataclass(frozen=True)
class ChipPicture:
    """What a chip shows of its photo or image file: a small picture and the file's path."""

    image: QImage
    path: str


def chip_picture_op(term: ImageTerm, side: int) -> Callable[[Library], ChipPicture]:
    """An op for the task runner: the picture of a chip's photo or file, upright, cropped to a square of
    `side` pixels (scaled here, off the GUI thread: a pasted screenshot can be large)."""

    def op(library: Library) -> ChipPicture:
        path = term.value
        if term.photo_id is not None:
            photo = library.photo(term.photo_id)
            if photo is None or not photo.paths:
                raise UserError(f"There is no photo #{term.photo_id} in the library.")
            path = photo.paths[0]
        image = decode_op(path, side)(library).image
        square = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatioByExpanding, SMOOTH)
        return ChipPicture(square.copy((square.width() - side) // 2, (square.height() - side) // 2, side, side), path)

    return op


@dataclass(frozen=True)
class TimelinePage:
    """One page of the timeline (every photo, newest first), how many photos there are in all, and
    the date of each photo on the page (its month heading)."""

    page: SearchPage
    total: int
    dates: dict[int, datetime]


def timeline_op(offset: int, limit: int) -> Callable[[Library], TimelinePage]:
    """An op for the task runner: one page of the home view's timeline."""

    def op(library: Library) -> TimelinePage:
        dated, total = library.timeline_page(offset, limit, library.settings.hide_duplicates)
        shown = library.page([(photo_id, None) for photo_id, _ in dated], 0, limit)
        page = dataclasses.replace(shown, offset=offset, has_more=total > offset + limit)
        return TimelinePage(page, total, {photo_id: date.when for photo_id, date in dated})

    return op


def image_file_filter() -> str:
    """The file dialog's filter for the image files a search can start from (the photo extensions)."""
    patterns = " ".join(f"*{suffix}" for suffix in sorted(PHOTO_EXTENSIONS))
    return f"Images ({patterns});;All files (*)"


def dropped_image(mime: QMimeData) -> Path | None:
    """The first local image file in dragged data, or None if it carries none."""
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.suffix.lower() in PHOTO_EXTENSIONS:
                return path
    return None


def pasted_image_op(mime: QMimeData, folder: Path) -> Callable[[Library], Path] | None:
    """An op giving an image file for the clipboard's content: a copied image file as it is, copied pixels
    saved as a PNG in Photosift's cache (never in a photo folder); None when the clipboard has no image."""
    path = dropped_image(mime) or (similar_target(mime.text()) if mime.hasText() else None)
    if isinstance(path, Path):
        return lambda _: path
    if not mime.hasImage():
        return None
    image = QImage(mime.imageData())  # implicitly shared: safe to save on a worker thread

    def save(_: Library) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for old in sorted(folder.glob("pasted-*.png"))[: -KEEP_PASTED + 1 or None]:
            old.unlink(missing_ok=True)
        target = folder / f"pasted-{time.time_ns()}.png"
        if not image.save(str(target)):  # PNG, from the suffix
            raise UserError(f"The pasted image could not be saved to {folder}.")
        return target

    return save
