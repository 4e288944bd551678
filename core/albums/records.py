"""The album record that crosses the core boundary, apart from `store` so that `photosift albums list` reads
it without SQLAlchemy (core.catalog.readonly)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

AlbumKind = Literal["manual", "smart"]


@dataclass(frozen=True)
class AlbumInfo:
    """An album. A manual album holds the photos put in it; a smart album is a saved search whose
    members are whatever it finds now, so it keeps up as photos arrive.

    Attributes:
        query: smart albums: the search, in the full query language (core.query).
        threshold: smart albums: the least similarity a photo needs to belong; None keeps the hits
            close to the best one (see core.selection.RELEVANCE_MARGIN).
        photo_count: members now; None where a smart album's search fails (see `problem`).
        problem: why a smart album's search fails now (a tag or album it names is gone), else None.
    """

    id: int
    name: str
    kind: AlbumKind
    query: str | None
    threshold: float | None
    created_at: datetime
    photo_count: int | None = None
    problem: str | None = None


def album_infos(rows: list[tuple[Any, ...]]) -> list[AlbumInfo]:
    """Albums by name (ignoring case) from `readonly.album_rows`; smart albums without their count."""
    albums = [
        AlbumInfo(
            i, name, cast(AlbumKind, kind), query, threshold, created, (members or 0) if kind == "manual" else None
        )
        for i, name, kind, query, threshold, created, members in rows
    ]
    return sorted(albums, key=lambda a: a.name.casefold())
