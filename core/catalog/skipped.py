"""Files a scan left out on purpose, with the reason: what `status --failures --all` lists beside the
photos that failed, so that a photo someone expected is never missing without a word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import write_transaction


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


def record_skipped(engine: Engine, folder_id: int, skipped: Sequence[SkippedFile]) -> None:
    """Replace what the last scan of a folder left out (a file fixed since drops off the list)."""
    with write_transaction(engine) as conn:
        conn.execute(delete(s.skipped_files).where(s.skipped_files.c.folder_id == folder_id))
        paths = {entry.path for entry in skipped}
        taken = {str(r[0]) for r in conn.execute(select(s.skipped_files.c.path))} & paths  # seen by another folder
        rows = [{"folder_id": folder_id, "path": e.path, "reason": e.reason} for e in skipped if e.path not in taken]
        if rows:
            conn.execute(insert(s.skipped_files), rows)


def skipped_files(engine: Engine, limit: int | None = None) -> list[SkippedFile]:
    """Files left out of the library on purpose, by path."""
    query = select(s.skipped_files.c.path, s.skipped_files.c.reason).order_by(s.skipped_files.c.path).limit(limit)
    with engine.connect() as conn:
        return [SkippedFile(str(path), str(reason)) for path, reason in conn.execute(query)]
