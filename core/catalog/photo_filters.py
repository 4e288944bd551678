"""Catalog queries behind search filters: the photos a folder, date or camera filter lets through, and
photos in capture-time order (for `sort:date`, queries of filters only and the timeline).

A photo's date is when it was taken (EXIF) or, for photos without one (screenshots, scans, edited
exports), the modification time of its oldest file: a person filing "after:2024" or scrolling the
timeline expects those photos somewhere, and the file's time is the best guess there is.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Engine,
    Select,
    String,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import IN_CHUNK

# LIKE's escape character; not a path separator on any platform, unlike the usual backslash.
_ESCAPE = "!"
# Up to this many ids are looked up by id (IN lists of IN_CHUNK); more are picked out of one pass over
# every photo. A pass grows with the library (120 ms at 100,000 photos on a busy 2-core machine), while
# a sort:date search or a smart album orders only its relevant hits, usually hundreds to thousands.
FEW_IDS = 20_000


def matching_photo_ids(
    engine: Engine,
    folders: Sequence[str] = (),
    after: datetime | None = None,
    before: datetime | None = None,
    cameras: Sequence[str] = (),
) -> set[int]:
    """Ids of photos in any of `folders`, taken in [after, before), with any of `cameras`; every
    photo when nothing is given. See `core.search.SearchFilters` for what each value means."""
    conditions: list[ColumnElement[bool]] = []
    if after is not None or before is not None:
        conditions.append(s.photos.c.id.in_(_date_candidates(after, before)))
    if after is not None:
        conditions.append(_dated(s.photos.c.taken_at >= after, _file_time() >= _as_ns(after)))
    if before is not None:
        conditions.append(_dated(s.photos.c.taken_at < before, _file_time() < _as_ns(before)))
    if cameras:
        conditions.append(or_(false(), *(s.photos.c.camera.ilike(_contains(c), escape=_ESCAPE) for c in cameras)))
    query = select(s.files.c.photo_id).distinct().join(s.photos, s.photos.c.id == s.files.c.photo_id)
    with engine.connect() as conn:
        if folders:
            watched = [str(r[0]) for r in conn.execute(select(s.folders.c.path))]
            conditions.append(or_(false(), *(_in_folder(folder, watched) for folder in folders)))
        return {int(r[0]) for r in conn.execute(query.where(*conditions))}


@dataclass(frozen=True)
class PhotoDate:
    """When a photo was taken, or its oldest file's modification time when it has no capture date."""

    when: datetime
    from_file: bool  # True: no capture date, `when` is the file's modification time (local time)


def capture_order(engine: Engine, photo_ids: Collection[int] | None, newest_first: bool) -> list[int]:
    """Photo ids (all, or those given) by date (see `PhotoDate`), newest or oldest first; ties in the
    order the photos were added."""
    return [photo_id for photo_id, _ in dated_order(engine, photo_ids, newest_first)]


def dated_order(engine: Engine, photo_ids: Collection[int] | None, newest_first: bool) -> list[tuple[int, PhotoDate]]:
    """`capture_order` with each photo's date (the timeline groups photos by month).

    One pass over the dates of every photo: tens of milliseconds at 200k photos, and no IN lists to
    chunk when a filter lets most of the library through.
    """
    dates = photo_dates(engine, photo_ids)
    # sorted() is stable, also with reverse=True, so equal times keep the order of ids
    return sorted(dates.items(), key=lambda item: item[1].when, reverse=newest_first)


def timeline_page(
    engine: Engine, offset: int, limit: int, hide_duplicates: bool = False
) -> tuple[list[tuple[int, PhotoDate]], int]:
    """Photos `offset` to `offset + limit` of the timeline (every photo with a file, in `dated_order`'s
    order: newest first, ties in id order) with their dates, and how many photos the timeline holds; with
    `hide_duplicates`, less the photos marked as near-duplicates.

    Reads rows from two ordered streams as far as the page, not every photo: the photos with a capture date
    along the `taken_at` index, and those without one (screenshots, scans: few) by their oldest file's time;
    from the oldest end when the page is nearer to it. The home view's first page of a million photos then
    takes tens of milliseconds, where dating and sorting them all took seconds a page
    (benchmarks/bench_window.py), and so does its last page (End).
    """
    files = s.files
    counted = select(func.count(files.c.photo_id.distinct()))
    if hide_duplicates:
        counted = counted.where(files.c.photo_id.not_in(_marked_duplicates()))
    with engine.connect() as conn:
        total = int(conn.execute(counted).scalar_one())
        if offset >= total:
            return [], total
        from_oldest = offset > total - offset - limit  # fewer rows to read from that end
        wanted = total - offset if from_oldest else offset + limit
        rows = _timeline_rows(conn, wanted, hide_duplicates, newest_first=not from_oldest)
    if from_oldest:  # the oldest `wanted` photos, oldest first: the page is at the start of them, reversed
        return rows[max(0, wanted - limit) :][::-1], total
    return rows[offset:], total


def _timeline_rows(
    conn: Connection, wanted: int, hide_duplicates: bool, newest_first: bool
) -> list[tuple[int, PhotoDate]]:
    """The first `wanted` photos of the timeline from one end: newest first with ties in id order, or
    exactly the reverse of that."""
    photos, files = s.photos, s.files
    has_file = select(files.c.photo_id).where(files.c.photo_id == photos.c.id).exists()
    shown = photos.c.id.not_in(_marked_duplicates()) if hide_duplicates else true()
    oldest = func.min(files.c.mtime_ns)

    def ordered(when: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        return (when.desc(), photos.c.id) if newest_first else (when.asc(), photos.c.id.desc())

    dated = (
        select(photos.c.id, photos.c.taken_at)
        .where(photos.c.taken_at.is_not(None), has_file, shown)
        .order_by(*ordered(photos.c.taken_at))
        .limit(wanted)
    )
    undated = (
        select(photos.c.id, oldest)
        .join(files, files.c.photo_id == photos.c.id)
        .where(photos.c.taken_at.is_(None), shown)
        .group_by(photos.c.id)
        .order_by(*ordered(oldest))
        .limit(wanted)
    )
    rows = [(int(i), PhotoDate(taken_at, False)) for i, taken_at in conn.execute(dated)]
    rows += [(int(i), PhotoDate(datetime.fromtimestamp(ns / 1e9), True)) for i, ns in conn.execute(undated)]
    # As dated_order: ids ascending, then a stable sort by date, newest first (or all of it reversed).
    rows.sort(key=lambda row: row[0], reverse=not newest_first)
    rows.sort(key=lambda row: row[1].when, reverse=newest_first)
    return rows[:wanted]


def _marked_duplicates() -> Select[Any]:
    """The ids of photos marked as near-duplicates: what `hide_duplicates` leaves out of the timeline."""
    return select(s.duplicate_members.c.photo_id).where(s.duplicate_members.c.duplicate)


def photo_dates(engine: Engine, photo_ids: Collection[int] | None = None) -> dict[int, PhotoDate]:
    """The date of each photo (all, or those given), in the order of ids; photos with no file left
    (deleted meanwhile) are left out."""
    query = (
        select(s.photos.c.id, s.photos.c.taken_at, func.min(s.files.c.mtime_ns))
        .join(s.files, s.files.c.photo_id == s.photos.c.id)
        .group_by(s.photos.c.id)
        .order_by(s.photos.c.id)
    )
    wanted = None if photo_ids is None else sorted(set(photo_ids))
    dates: dict[int, PhotoDate] = {}
    with engine.connect() as conn:
        rows: Iterable[Any]  # (id, taken_at, oldest mtime) rows
        if wanted is not None and len(wanted) <= FEW_IDS:
            rows = chain.from_iterable(
                conn.execute(query.where(s.photos.c.id.in_(wanted[i : i + IN_CHUNK])))
                for i in range(0, len(wanted), IN_CHUNK)
            )
        else:
            keep = None if wanted is None else set(wanted)
            rows = (r for r in conn.execute(query) if keep is None or r[0] in keep)
        for photo_id, taken_at, mtime_ns in rows:
            dates[int(photo_id)] = (
                PhotoDate(taken_at, False)
                if taken_at is not None
                else PhotoDate(datetime.fromtimestamp(mtime_ns / 1e9), True)
            )
    return dates


def _date_candidates(after: datetime | None, before: datetime | None) -> CompoundSelect[Any]:
    """Photos taken in [after, before), plus every photo without a capture date (their file's time decides),
    as two ranges of the `taken_at` index. Without it a date filter read every photo, since the file-time
    fallback keeps SQLite from using the index (0.25 s to 0.12 s at 100,000 photos)."""
    dated = s.photos.alias("dated")
    window = select(dated.c.id).where(dated.c.taken_at.is_not(None))
    if after is not None:
        window = window.where(dated.c.taken_at >= after)
    if before is not None:
        window = window.where(dated.c.taken_at < before)
    return union_all(window, select(dated.c.id).where(dated.c.taken_at.is_(None)))


def _file_time() -> ColumnElement[int]:
    """The modification time (ns) of the photo's oldest file, for a photo without a capture date."""
    copies = s.files.alias("copies")  # the outer query joins `files` too: correlate on the photo only
    return select(func.min(copies.c.mtime_ns)).where(copies.c.photo_id == s.photos.c.id).scalar_subquery()


def _dated(by_capture: ColumnElement[bool], by_file: ColumnElement[bool]) -> ColumnElement[bool]:
    return or_(and_(s.photos.c.taken_at.is_not(None), by_capture), and_(s.photos.c.taken_at.is_(None), by_file))


def _as_ns(moment: datetime) -> int:
    """A naive local time (as filters and EXIF give them) as nanoseconds since the epoch, like mtimes."""
    return round(moment.timestamp() * 1e9)


def _in_folder(folder: str, watched: Sequence[str]) -> ColumnElement[bool]:
    """Files below an absolute `folder`; or, for a folder name, files in a folder so named at or
    below a watched folder (matched on the watched folder's own name plus the file's path below it,
    so folders above the watched one never count)."""
    path = s.files.c.path
    if os.path.isabs(folder):
        prefix = folder.rstrip(os.sep) + os.sep
        return func.substr(path, 1, len(prefix)) == prefix
    pattern = f"%{os.sep}{_escape(folder)}{os.sep}%"
    return or_(
        false(),
        *(
            and_(
                func.substr(path, 1, len(root) + 1) == root + os.sep,
                literal(os.sep + os.path.basename(root), String)
                .concat(func.substr(path, len(root) + 1))
                .like(pattern, escape=_ESCAPE),
            )
            for root in watched
        ),
    )


def _escape(text: str) -> str:
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def _contains(text: str) -> str:
    return f"%{_escape(text)}%"
