"""Albums of a library: manual ones (photos put in by hand) and smart ones (a saved search).

A smart album stores a query in the full search language and a relevance threshold; its members are
found again on every read, so photos that arrive and get indexed join it without anyone updating it.
Albums live in the catalog only: creating, filling, exporting or deleting one never writes into a
photo folder or touches a photo file.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from photosift.core.albums.store import AlbumInfo, AlbumStore
from photosift.core.catalog.catalog import Catalog, absolute_path
from photosift.core.catalog.photo_filters import capture_order
from photosift.core.errors import AlbumError, QueryError
from photosift.core.export_target import refuse_photo_folders, write_json
from photosift.core.search.query import Query, parse_query
from photosift.core.search.ranking import Match
from photosift.core.search.records import SearchFilters, SearchPage

EXPORT_FORMAT = "photosift-albums"
EXPORT_VERSION = 1


class AlbumSearch(Protocol):
    """What albums need of their library (`core.library.Library`, which builds them and hands itself in):
    its catalog, and its search, since a smart album is a saved search."""

    @property
    def catalog(self) -> Catalog: ...

    def matches(self, query: Query, filters: SearchFilters, wanted: int | None = None) -> list[Match]: ...

    def page(self, matches: Sequence[Match], offset: int, limit: int) -> SearchPage: ...


class _Evaluating(threading.local):
    """The smart albums whose search is running on this thread: one whose search names itself
    (directly or through another smart album) would otherwise recurse forever."""

    def __init__(self) -> None:
        self.ids: set[int] = set()


class Albums:
    """Create, fill, read and export the albums of one library."""

    def __init__(self, library: AlbumSearch) -> None:
        self._library = library
        self._store = AlbumStore(library.catalog.engine)
        self._evaluating = _Evaluating()

    def list_all(self) -> list[AlbumInfo]:
        """Every album by name, with its member count (smart albums run their search to count)."""
        return [self._counted(album) for album in self._store.albums()]

    def get(self, name: str) -> AlbumInfo:
        """The album called `name` (ignoring case), counted. Raises AlbumError if there is none."""
        return self._counted(self._store.find(name))

    def create(self, name: str) -> AlbumInfo:
        """A new, empty manual album. Raises AlbumError if the name is taken or unusable."""
        return self._store.create(name, "manual")

    def create_smart(self, name: str, query: str, threshold: float | None = None) -> AlbumInfo:
        """A new smart album for `query` (checked now, so a typo fails here rather than on every read).

        Args:
            threshold: the least similarity a photo needs to belong; None keeps the hits near the best.
        """
        parse_query(query)
        return self._counted(self._store.create(name, "smart", query.strip(), threshold))

    def rename(self, name: str, new_name: str) -> AlbumInfo:
        album = self._store.find(name)
        self._store.rename(album.id, new_name)
        return self.get(new_name)

    def delete(self, name: str) -> None:
        """Delete an album (its photos stay in the library and on disk)."""
        self._store.delete(self._store.find(name).id)

    def add(self, name: str, photo_ids: Sequence[int]) -> int:
        """Put photos in a manual album; returns how many were not in it already."""
        return self._store.add(self._manual(name).id, photo_ids)

    def remove(self, name: str, photo_ids: Sequence[int]) -> int:
        """Take photos out of a manual album; returns how many were in it."""
        return self._store.remove(self._manual(name).id, photo_ids)

    def photo_ids(self, name: str) -> set[int]:
        """The album's photos now. Raises AlbumError for an unknown album, QueryError for a smart
        album whose search no longer works (or names itself)."""
        album = self._store.find(name)
        if album.kind == "manual":
            return self._store.member_ids(album.id)
        return {photo_id for photo_id, _ in self._smart_matches(album)}

    def matches(self, name: str) -> list[Match]:
        """The album's photos in display order: a manual album newest first (no scores), a smart
        album in its search's order (best first, or by date for sort:date) with scores."""
        album = self._store.find(name)
        if album.kind == "manual":
            members = self._store.member_ids(album.id)
            return [(i, None) for i in capture_order(self._library.catalog.engine, members, newest_first=True)]
        return self._smart_matches(album)

    def page(self, name: str, offset: int = 0, limit: int = 50) -> SearchPage:
        """One page of the album's photos, in the order of `matches`."""
        return self._library.page(self.matches(name), offset, limit)

    def _smart_matches(self, album: AlbumInfo) -> list[Match]:
        if album.id in self._evaluating.ids:
            raise QueryError(f'The smart album "{album.name}" includes itself through an album: filter.')
        self._evaluating.ids.add(album.id)
        try:
            assert album.query is not None  # smart albums are created with one
            return self._library.matches(parse_query(album.query), SearchFilters(min_score=album.threshold), None)
        finally:
            self._evaluating.ids.discard(album.id)

    def export(self, path: Path) -> int:
        """Write every album (name, kind, query, threshold, members by path) as JSON to `path`;
        returns the number of albums. Refuses a path in a photo folder (`core.export_target`)."""
        target = Path(absolute_path(path))
        refuse_photo_folders(self._library.catalog.engine, [target])
        albums = [self._exported(album) for album in self._store.albums()]
        data = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": datetime.now(), "albums": albums}
        write_json(target, data, "the album export")
        return len(albums)

    def _exported(self, album: AlbumInfo) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": album.name, "kind": album.kind, "query": album.query}
        entry |= {"threshold": album.threshold, "created_at": album.created_at}
        try:
            ids = [photo_id for photo_id, _ in self.matches(album.name)]
        except QueryError as exc:  # a smart album whose search broke: keep its definition
            return entry | {"photos": [], "problem": str(exc)}
        infos = self._library.catalog.photos(ids)
        return entry | {"photos": [infos[i].paths[0] for i in ids if i in infos and infos[i].paths]}

    def _manual(self, name: str) -> AlbumInfo:
        album = self._store.find(name)
        if album.kind != "manual":
            raise AlbumError(f'"{album.name}" is a smart album: its photos come from its search, not by hand.')
        return album

    def _counted(self, album: AlbumInfo) -> AlbumInfo:
        if album.kind == "manual":
            return album
        try:
            return replace(album, photo_count=len(self.matches(album.name)))
        except QueryError as exc:  # one broken smart album must not hide the others
            return replace(album, photo_count=None, problem=str(exc))
