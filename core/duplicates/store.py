"""The catalog rows of near-duplicates: groups, members with their marks, and photo signatures.

A new search replaces the groups in one transaction, carrying over the person's marks (`by_user`) of the
photos it finds again, so a review outlives both a restart and the next search. A photo whose last file
goes leaves its group with it (ON DELETE CASCADE); a group left with one photo is no group and is dropped
when the groups are next read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import IN_CHUNK, write_transaction
from photosift.core.duplicates.records import DuplicateGroup, DuplicateMember, FoundGroup, Signature
from photosift.core.errors import UserError


def read_signatures(engine: Engine, photo_ids: Sequence[int]) -> dict[int, Signature]:
    """The stored signatures of those photos that have one."""
    found: dict[int, Signature] = {}
    t = s.photo_signatures
    with engine.connect() as conn:
        for chunk in _chunks(photo_ids):
            query = select(t.c.photo_id, t.c.phash, t.c.sharpness, t.c.crop_hashes).where(t.c.photo_id.in_(chunk))
            for row in conn.execute(query):
                found[int(row.photo_id)] = Signature(row.phash, row.sharpness, _unpacked(row.crop_hashes))
    return found


def save_signatures(engine: Engine, signatures: dict[int, Signature]) -> None:
    """Store signatures (replacing older ones of the same photos); photos deleted meanwhile are skipped."""
    if not signatures:
        return
    t = s.photo_signatures
    with write_transaction(engine) as conn:
        alive = sorted(_existing_photos(conn, list(signatures)))
        for chunk in _chunks(alive):
            conn.execute(delete(t).where(t.c.photo_id.in_(chunk)))
        rows = [
            {
                "photo_id": i,
                "phash": signatures[i].phash,
                "sharpness": signatures[i].sharpness,
                "crop_hashes": _packed(signatures[i].crop_hashes),
            }
            for i in alive
        ]
        if rows:
            conn.execute(insert(t), rows)


def replace_groups(engine: Engine, groups: Iterable[FoundGroup]) -> int:
    """Make `groups` the library's duplicate groups, keeping the person's marks; returns the duplicates.

    A photo the person marked as not a duplicate is not suggested as one again: where the suggested best
    copy was marked a duplicate by them, the first photo they did not mark so becomes the best copy.
    """
    m = s.duplicate_members
    with write_transaction(engine) as conn:
        marks = {
            int(r.photo_id): bool(r.duplicate)
            for r in conn.execute(select(m.c.photo_id, m.c.duplicate).where(m.c.by_user))
        }
        conn.execute(delete(m))
        conn.execute(delete(s.duplicate_groups))
        now = datetime.now()
        duplicates = 0
        for group in groups:
            alive = _existing_photos(conn, list(group.photo_ids))
            order = [(p, sim) for p, sim in zip(group.photo_ids, group.similarities, strict=True) if p in alive]
            if len(order) < 2:
                continue
            best = next((p for p, _ in order if not marks.get(p, False)), order[0][0])
            new_group = insert(s.duplicate_groups).values(best_photo_id=best, found_at=now)
            gid = conn.execute(new_group.returning(s.duplicate_groups.c.id)).scalar_one()
            rows = [
                {
                    "photo_id": p,
                    "group_id": gid,
                    "similarity": sim,
                    "duplicate": marks.get(p, p != best),
                    "by_user": p in marks,
                }
                for p, sim in order
            ]
            duplicates += sum(r["duplicate"] for r in rows)
            conn.execute(insert(m), rows)
    return duplicates


def read_groups(engine: Engine, group_ids: Sequence[int] | None = None) -> list[DuplicateGroup]:
    """The groups (all, or those given) in the order they were found, best copy first in each; groups
    left with fewer than two photos are left out."""
    m, g, f, p = s.duplicate_members, s.duplicate_groups, s.files, s.photos
    first_path = select(f.c.photo_id, func.min(f.c.path).label("path")).group_by(f.c.photo_id).subquery()
    query = (
        select(
            g.c.id,
            g.c.best_photo_id,
            m.c.photo_id,
            first_path.c.path,
            p.c.width,
            p.c.height,
            m.c.similarity,
            m.c.duplicate,
            m.c.by_user,
        )
        .join(m, m.c.group_id == g.c.id)
        .join(p, p.c.id == m.c.photo_id)
        .join(first_path, first_path.c.photo_id == m.c.photo_id)
        .order_by(g.c.id, (m.c.photo_id != g.c.best_photo_id), m.c.similarity.desc(), m.c.photo_id)
    )
    if group_ids is not None:
        query = query.where(g.c.id.in_(list(group_ids)))
    members: dict[int, list[DuplicateMember]] = {}
    best: dict[int, int | None] = {}
    with engine.connect() as conn:
        for r in conn.execute(query):
            best[r.id] = r.best_photo_id
            member = DuplicateMember(r.photo_id, r.path, r.width, r.height, r.similarity, r.duplicate, r.by_user)
            members.setdefault(r.id, []).append(member)
    return [DuplicateGroup(gid, best[gid], tuple(ms)) for gid, ms in members.items() if len(ms) > 1]


def mark(engine: Engine, photo_ids: Sequence[int], duplicate: bool) -> int:
    """Record the person's word that these photos are (or are not) duplicates; returns the photos marked.

    A best copy marked as a duplicate stops being the best copy: its group then has none to suggest
    until the person keeps one.
    """
    m = s.duplicate_members
    with write_transaction(engine) as conn:
        marked = 0
        for chunk in _chunks(photo_ids):
            marked += conn.execute(
                update(m).where(m.c.photo_id.in_(chunk)).values(duplicate=duplicate, by_user=True)
            ).rowcount
            if duplicate:
                g = s.duplicate_groups
                conn.execute(update(g).where(g.c.best_photo_id.in_(chunk)).values(best_photo_id=None))
    return marked


def keep(engine: Engine, group_id: int, photo_id: int) -> None:
    """The person keeps `photo_id` as the group's best copy and marks every other photo a duplicate.

    Raises:
        UserError: the photo is not in that group (any more).
    """
    m = s.duplicate_members
    with write_transaction(engine) as conn:
        found = conn.execute(select(m.c.photo_id).where(m.c.group_id == group_id, m.c.photo_id == photo_id)).first()
        if found is None:
            raise UserError(f"Photo #{photo_id} is not in duplicate group {group_id}; find duplicates again.")
        conn.execute(
            update(s.duplicate_groups).where(s.duplicate_groups.c.id == group_id).values(best_photo_id=photo_id)
        )
        conn.execute(update(m).where(m.c.group_id == group_id).values(duplicate=m.c.photo_id != photo_id, by_user=True))


def duplicate_photo_ids(engine: Engine) -> set[int]:
    """Photos marked as duplicates (by the search's suggestion or by the person)."""
    m = s.duplicate_members
    with engine.connect() as conn:
        return {int(r[0]) for r in conn.execute(select(m.c.photo_id).where(m.c.duplicate))}


def _packed(hashes: tuple[int, ...]) -> bytes | None:
    return np.array(hashes, dtype="<i8").tobytes() if hashes else None


def _unpacked(packed: bytes | None) -> tuple[int, ...]:
    return tuple(int(h) for h in np.frombuffer(packed, dtype="<i8")) if packed else ()


def _existing_photos(conn: Connection, photo_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(photo_ids):
        found.update(int(r[0]) for r in conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_(chunk))))
    return found


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    items = list(ids)
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]
