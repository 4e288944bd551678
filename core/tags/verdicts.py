"""The user's accepted and rejected tags, and the photo identities that let them travel between catalogs.

Labels belong to a (photo, tag), not to a model: they are never written by automatic tagging, survive
re-tagging and model changes, and are what the fine-tuning wizard trains on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, and_, delete, func, insert, select

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import IN_CHUNK, write_transaction

Pair = tuple[int, int]  # (photo id, tag id)


class LabelStore:
    """Labels in the catalog's SQLite file, plus the photo look-ups that exporting them needs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set_labels(self, pairs: Sequence[Pair], accepted: bool | None) -> int:
        """Accept (True), reject (False) or forget (None) the given (photo, tag) pairs; returns how many
        pairs exist as photos (a photo deleted meanwhile is skipped)."""
        wanted = sorted(set(pairs))
        with write_transaction(self.engine) as conn:
            photos = {p for p, _ in wanted}
            live = {
                int(r[0])
                for i in range(0, len(photos), IN_CHUNK)
                for r in conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_(sorted(photos)[i : i + IN_CHUNK])))
            }
            kept = [(p, t) for p, t in wanted if p in live]
            for photo_id, tag_id in kept:
                conn.execute(
                    delete(s.tag_labels).where(s.tag_labels.c.photo_id == photo_id, s.tag_labels.c.tag_id == tag_id)
                )
            if accepted is not None and kept:
                now = datetime.now()
                conn.execute(
                    insert(s.tag_labels),
                    [{"photo_id": p, "tag_id": t, "accepted": accepted, "labelled_at": now} for p, t in kept],
                )
        return len(kept)

    def labels_of_photos(self, photo_ids: Sequence[int]) -> dict[Pair, bool]:
        """(photo, tag) -> accepted, for the given photos."""
        ids = list(photo_ids)
        query = select(s.tag_labels.c.photo_id, s.tag_labels.c.tag_id, s.tag_labels.c.accepted)
        with self.engine.connect() as conn:
            return {
                (int(r[0]), int(r[1])): bool(r[2])
                for i in range(0, len(ids), IN_CHUNK)
                for r in conn.execute(query.where(s.tag_labels.c.photo_id.in_(ids[i : i + IN_CHUNK])))
            }

    def labelled(self, accepted: bool = True) -> dict[str, list[int]]:
        """Tag name -> photo ids the user accepted (or rejected) it for, photos in id order."""
        query = (
            select(s.tags.c.name, s.tag_labels.c.photo_id)
            .join(s.tags, s.tags.c.id == s.tag_labels.c.tag_id)
            .where(s.tag_labels.c.accepted == accepted)
            .order_by(s.tags.c.name, s.tag_labels.c.photo_id)
        )
        found: dict[str, list[int]] = {}
        with self.engine.connect() as conn:
            for name, photo_id in conn.execute(query):
                found.setdefault(name, []).append(int(photo_id))
        return found

    def recently_accepted(self, limit: int) -> list[str]:
        """The names of the tags the user accepted for photos most lately, newest first (at most `limit`)."""
        latest = func.max(s.tag_labels.c.labelled_at)
        query = (
            select(s.tags.c.name)
            .select_from(s.tag_labels)
            .join(s.tags, s.tags.c.id == s.tag_labels.c.tag_id)
            .where(s.tag_labels.c.accepted.is_(True))
            .group_by(s.tags.c.id)
            .order_by(latest.desc(), s.tags.c.name)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(query)]

    def unreviewed(self, model_id: int, tag_id: int, threshold: float, limit: int) -> list[tuple[int, float]]:
        """(photo id, score) of a tag's automatic suggestions the user has not labelled, best first."""
        query = _unreviewed(
            select(s.tag_scores.c.photo_id, s.tag_scores.c.score), model_id, tag_id, threshold
        ).order_by(s.tag_scores.c.score.desc())
        with self.engine.connect() as conn:
            return [(int(r[0]), float(r[1])) for r in conn.execute(query.limit(limit))]

    def count_unreviewed(self, model_id: int, tag_id: int, threshold: float) -> int:
        """How many suggestions `unreviewed` would list with no limit."""
        query = _unreviewed(select(func.count()).select_from(s.tag_scores), model_id, tag_id, threshold)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # Photo identities ------------------------------------------------------------------------------

    def identities(self, photo_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """photo id -> (one of its paths, its content fingerprint): what finds it again in another catalog."""
        ids = list(photo_ids)
        query = (
            select(s.photos.c.id, func.min(s.files.c.path), s.photos.c.fingerprint)
            .join(s.files, s.files.c.photo_id == s.photos.c.id)
            .group_by(s.photos.c.id)
        )
        with self.engine.connect() as conn:
            return {
                int(r[0]): (str(r[1]), str(r[2]))
                for i in range(0, len(ids), IN_CHUNK)
                for r in conn.execute(query.where(s.photos.c.id.in_(ids[i : i + IN_CHUNK])))
            }

    def find_photo(self, fingerprint: str, path: str) -> int | None:
        """The photo with this content fingerprint (the one at `path` if several share it), else the photo
        at `path`; None if neither is in the library."""
        by_print = select(s.photos.c.id).where(s.photos.c.fingerprint == fingerprint).order_by(s.photos.c.id)
        at_path = select(s.files.c.photo_id).where(s.files.c.path == path)
        with self.engine.connect() as conn:
            matches = [int(r[0]) for r in conn.execute(by_print)]
            located = conn.execute(at_path).scalar()
        if located is not None and (not matches or located in matches):
            return int(located)
        return matches[0] if matches else None

    def folder_paths(self) -> list[str]:
        """The watched photo folders, which exports must never write into."""
        with self.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(select(s.folders.c.path))]


def _unreviewed(query: Select[Any], model_id: int, tag_id: int, threshold: float) -> Select[Any]:
    """`query` over a tag's scores at or above `threshold` that no label of the user's covers."""
    labelled = and_(s.tag_labels.c.photo_id == s.tag_scores.c.photo_id, s.tag_labels.c.tag_id == tag_id)
    return query.outerjoin(s.tag_labels, labelled).where(
        s.tag_scores.c.model_id == model_id,
        s.tag_scores.c.tag_id == tag_id,
        s.tag_scores.c.score >= threshold,
        s.tag_labels.c.photo_id.is_(None),
    )
