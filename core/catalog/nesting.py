"""Watched folders never nest: one folder inside another would hold the same files twice.

A folder inside a watched one (a subfolder, or a link that leads into it) is refused: its photos are
already in the library. A folder above watched ones takes them in: their files move to it, keeping
their photos and embeddings, and they stop being watched on their own. Links are resolved, since the
scanner follows them.
"""

from __future__ import annotations

import os

from sqlalchemy import Connection, delete, select, update

from photosift.core.catalog import schema as s
from photosift.core.errors import UserError


def _inside(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def refuse_inside_watched(conn: Connection, path: str) -> None:
    """Raise UserError if `path` lies inside a watched folder (or is one, reached another way)."""
    real = os.path.realpath(path)
    for (watched,) in conn.execute(select(s.folders.c.path)):
        if watched == path or not _inside(real, os.path.realpath(watched)):
            continue
        if real == os.path.realpath(watched):
            raise UserError(f"{path} is the watched folder {watched} under another name; it is already in the library.")
        raise UserError(
            f"{path} is inside the watched folder {watched}, so its photos are already in the library; "
            "to watch only this part, remove the larger folder first."
        )


def merge_nested(conn: Connection) -> list[str]:
    """Fold every watched folder that lies inside another into the outer one; returns the paths folded.

    Also repairs catalogs from before nesting was refused, where the same file would otherwise be
    claimed by two folders on every scan.
    """
    rows = [(int(r.id), str(r.path), os.path.realpath(r.path)) for r in conn.execute(select(s.folders))]
    folded = []
    for inner_id, inner_path, inner_real in rows:
        # The outermost one, so a chain (a inside b inside c) folds straight into c.
        outers = [o for o in rows if o[0] != inner_id and o[2] != inner_real and _inside(inner_real, o[2])]
        outer = min(outers, key=lambda o: len(o[2]), default=None)
        if outer is not None:
            conn.execute(update(s.files).where(s.files.c.folder_id == inner_id).values(folder_id=outer[0]))
            conn.execute(delete(s.folders).where(s.folders.c.id == inner_id))
            folded.append(inner_path)
    return folded
