"""The person's marks on photos: a favourite flag and a 0-5 star rating, kept in the catalog
(`photo_marks`) and never written into the photo files, which Photosift does not modify.

A photo with no row is neither favourite nor rated (0 stars); a row whose marks are all cleared is
deleted, so the table holds only photos someone marked.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, insert, select, update

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import IN_CHUNK, write_transaction
from photosift.core.errors import UserError

MAX_STARS = 5


@dataclass(frozen=True)
class PhotoMarks:
    """A photo's marks."""

    favourite: bool = False
    rating: int = 0  # stars, 0 (unrated) to MAX_STARS


class MarkStore:
    """The marks of one catalog's photos (`library.marks`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of(self, photo_ids: Sequence[int]) -> dict[int, PhotoMarks]:
        """The marks of each photo given (unmarked photos get `PhotoMarks()`)."""
        ids = list(photo_ids)
        found = {photo_id: PhotoMarks() for photo_id in ids}
        with self._engine.connect() as conn:
            for start in range(0, len(ids), IN_CHUNK):
                found.update(_marks_in(conn, ids[start : start + IN_CHUNK]))
        return found

    def set_favourite(self, photo_ids: Sequence[int], favourite: bool) -> int:
        """Mark or unmark photos as favourites; returns how many photos of the library that touched."""
        return self._change(photo_ids, lambda old: PhotoMarks(favourite, old.rating))

    def set_rating(self, photo_ids: Sequence[int], stars: int) -> int:
        """Rate photos `stars` (0 clears the rating); returns how many photos of the library that touched.

        Raises:
            UserError: stars outside 0-5.
        """
        if not 0 <= stars <= MAX_STARS:
            raise UserError(f"A rating is 0 to {MAX_STARS} stars, not {stars}.")
        return self._change(photo_ids, lambda old: PhotoMarks(old.favourite, stars))

    def _change(self, photo_ids: Sequence[int], change: Callable[[PhotoMarks], PhotoMarks]) -> int:
        """Apply `change` to each photo's marks in one transaction (ids not in the library are skipped)."""
        wanted, now, touched = sorted(set(photo_ids)), datetime.now(), 0
        with write_transaction(self._engine) as conn:
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                alive = set(conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_(chunk))).scalars())
                current = _marks_in(conn, chunk)
                for photo_id in sorted(alive):
                    _write(conn, photo_id, current.get(photo_id), change(current.get(photo_id, PhotoMarks())), now)
                touched += len(alive)
        return touched


def _marks_in(conn: Connection, photo_ids: Sequence[int]) -> dict[int, PhotoMarks]:
    query = select(s.photo_marks.c.photo_id, s.photo_marks.c.favourite, s.photo_marks.c.rating)
    rows = conn.execute(query.where(s.photo_marks.c.photo_id.in_(photo_ids)))
    return {int(i): PhotoMarks(bool(f), int(r)) for i, f, r in rows}


def _write(conn: Connection, photo_id: int, old: PhotoMarks | None, new: PhotoMarks, now: datetime) -> None:
    fields = {"favourite": new.favourite, "rating": new.rating, "marked_at": now}
    row = s.photo_marks.c.photo_id == photo_id
    if new == PhotoMarks():
        conn.execute(delete(s.photo_marks).where(row))
    elif old is None:
        conn.execute(insert(s.photo_marks).values(photo_id=photo_id, **fields))
    elif old != new:
        conn.execute(update(s.photo_marks).where(row).values(**fields))


def favourite_photo_ids(engine: Engine) -> set[int]:
    """The photos marked as favourites (`is:favourite`)."""
    with engine.connect() as conn:
        query = select(s.photo_marks.c.photo_id).where(s.photo_marks.c.favourite.is_(True))
        return set(conn.execute(query).scalars())


def rated_photo_ids(engine: Engine, bounds: Sequence[tuple[str, int]]) -> set[int]:
    """The photos whose stars (0 when unrated) satisfy every (comparison, stars) bound: `rating:>=4
    rating:<5` is [(">=", 4), ("<", 5)]; comparisons are =, <, <=, >, >=. Bounds that leave out 0 stars
    read only the marked photos; the others read every photo, since unrated ones count."""
    compare = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
    if not all(compare[op](0, n) for op, n in bounds):
        stars: ColumnElement[int] = s.photo_marks.c.rating
        query = select(s.photo_marks.c.photo_id)
    else:
        stars = func.coalesce(s.photo_marks.c.rating, 0)
        query = select(s.photos.c.id).outerjoin(s.photo_marks, s.photo_marks.c.photo_id == s.photos.c.id)
    with engine.connect() as conn:
        return set(conn.execute(query.where(*(compare[op](stars, n) for op, n in bounds))).scalars())
