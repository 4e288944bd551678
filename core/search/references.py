"""Photo references: how `#12`, `12` or a file's path name a library photo, in one place.

The command line, albums and tags all take photos this way; a reference is resolved against the
catalog, so that a number names a photo that exists and a path names a file the library has indexed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from photosift.core.errors import UserError

if TYPE_CHECKING:
    from photosift.core.catalog.records import PhotoInfo

MAX_PHOTO_ID = 2**63 - 1  # SQLite's largest integer: a bigger number cannot name a photo


class PhotoLookup(Protocol):
    """The part of the catalog a reference needs."""

    def photo_id_for_path(self, path: str) -> int | None: ...

    def photo(self, photo_id: int) -> PhotoInfo | None: ...


def parse_reference(text: str) -> int | Path:
    """The photo id that `#12` or `12` names, or the path that any other text names. A bare number
    that is also the name of an existing file is the file. A NUL byte is refused: no file name holds one.
    Raises UserError for a number too large to be a photo id."""
    if "\0" in text:
        raise UserError(f"{text.split(chr(0))[0]!r} followed by a NUL byte (\\0) is not a photo or a file name.")
    digits = text[1:] if text.startswith("#") else text
    if not (digits.isascii() and digits.isdigit()) or (not text.startswith("#") and os.path.lexists(text)):
        return Path(text)
    photo_id = int(digits)
    if photo_id > MAX_PHOTO_ID:
        raise UserError(f"There is no photo #{photo_id} in the library.")
    return photo_id


def resolve_photo(lookup: PhotoLookup, text: str) -> int:
    """The id of the library photo that `text` names (`#12`, `12` or a file's path)."""
    target = parse_reference(text)
    if isinstance(target, int):
        if lookup.photo(target) is None:
            raise UserError(f"There is no photo #{target} in the library.")
        return target
    from photosift.core.catalog.catalog import absolute_path  # the catalog's own path form, loaded with it

    photo_id = lookup.photo_id_for_path(absolute_path(target))
    if photo_id is None:
        raise UserError(f"{text} is not a photo in the library (index its folder first).")
    return photo_id
