"""Albums in the catalog: their definitions and the members of manual albums.

Albums live only in the database. Nothing here reads or writes photo files or folders, and a photo
leaves every album when its last file is gone (album_photos rows cascade with the photo).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from photosift.core.albums.records import AlbumInfo as AlbumInfo  # defined where the listing reads it
from photosift.core.albums.records import AlbumKind as AlbumKind
from photosift.core.albums.records import album_infos
from photosift.core.catalog import readonly
from photosift.core.catalog import schema as s
from photosift.core.catalog.database import IN_CHUNK, write_transaction
from photosift.core.errors import AlbumError


class AlbumStore:
    """Reads and writes the albums and album_photos tables; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def albums(self) -> list[AlbumInfo]:
        """Every album by name, manual ones with their member counts (smart ones count on read)."""
        with self.engine.connect() as conn:
            return album_infos(readonly.album_rows(conn.connection.driver_connection))

    def find(self, name: str) -> AlbumInfo:
        """The album called `name`, ignoring case. Raises AlbumError if there is none."""
        wanted = name.strip().casefold()
        for album in self.albums():
            if album.name.casefold() == wanted:
                return album
        raise AlbumError(f'There is no album named "{name}".')

    def create(self, name: str, kind: AlbumKind, query: str | None = None, threshold: float | None = None) -> AlbumInfo:
        name = self._free_name(name)
        values = {"name": name, "kind": kind, "query": query, "threshold": threshold, "created_at": datetime.now()}
        with write_transaction(self.engine) as conn:
            conn.execute(insert(s.albums).values(**values))
        return self.find(name)

    def rename(self, album_id: int, new_name: str) -> None:
        new_name = self._free_name(new_name, album_id)
        with write_transaction(self.engine) as conn:
            conn.execute(update(s.albums).where(s.albums.c.id == album_id).values(name=new_name))

    def delete(self, album_id: int) -> None:
        """Delete the album and its member list (never the photos)."""
        with write_transaction(self.engine) as conn:
            conn.execute(delete(s.album_photos).where(s.album_photos.c.album_id == album_id))
            conn.execute(delete(s.albums).where(s.albums.c.id == album_id))

    def add(self, album_id: int, photo_ids: Sequence[int]) -> int:
        """Put photos in a manual album; returns how many were not in it already.

        Raises AlbumError naming the first id that is not a photo in the catalog.
        """
        wanted = list(dict.fromkeys(photo_ids))
        with write_transaction(self.engine) as conn:
            present: set[int] = set()
            members: set[int] = set()
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                present.update(r[0] for r in conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_(chunk))))
                members.update(
                    r[0]
                    for r in conn.execute(
                        select(s.album_photos.c.photo_id).where(
                            s.album_photos.c.album_id == album_id, s.album_photos.c.photo_id.in_(chunk)
                        )
                    )
                )
            missing = [i for i in wanted if i not in present]
            if missing:
                raise AlbumError(f"There is no photo #{missing[0]} in the library.")
            now = datetime.now()
            new = [{"album_id": album_id, "photo_id": i, "added_at": now} for i in wanted if i not in members]
            if new:
                conn.execute(insert(s.album_photos), new)
        return len(new)

    def remove(self, album_id: int, photo_ids: Sequence[int]) -> int:
        """Take photos out of a manual album; returns how many were in it."""
        wanted = list(dict.fromkeys(photo_ids))
        removed = 0
        with write_transaction(self.engine) as conn:
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                removed += conn.execute(
                    delete(s.album_photos).where(
                        s.album_photos.c.album_id == album_id, s.album_photos.c.photo_id.in_(chunk)
                    )
                ).rowcount
        return removed

    def member_ids(self, album_id: int) -> set[int]:
        """The photos put in a manual album."""
        query = select(s.album_photos.c.photo_id).where(s.album_photos.c.album_id == album_id)
        with self.engine.connect() as conn:
            return {int(r[0]) for r in conn.execute(query)}

    def _free_name(self, name: str, album_id: int | None = None) -> str:
        """`name` tidied, after checking that no other album has it (ignoring case) and that a query can
        name it (album:"..." has no way to escape a double quote)."""
        name = " ".join(name.split())
        if not name:
            raise AlbumError("An album needs a name.")
        if '"' in name:
            raise AlbumError(f"Album names cannot contain a double quote: {name}")
        taken = [a for a in self.albums() if a.name.casefold() == name.casefold() and a.id != album_id]
        if taken:
            raise AlbumError(f'There is already an album named "{taken[0].name}".')
        return name
