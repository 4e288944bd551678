"""Search in a library: by the query language, by a photo or an image file, and the pages of results.

`Library` takes these methods in through `LibrarySearch`; they read the catalog, the model's vector
index, the filter index and the recognised text that the library holds, and never write.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from photosift.core.catalog.catalog import absolute_path
from photosift.core.errors import AlbumError, QueryError, UserError
from photosift.core.imageio import load_image
from photosift.core.ocr.blend import blend, within
from photosift.core.search.query import Query, parse_query
from photosift.core.search.ranking import Match, nearest, relevant
from photosift.core.search.records import SearchFilters, SearchHit, SearchPage, SortOrder
from photosift.core.search.vectors import TermEncoders, query_vector

if TYPE_CHECKING:
    from photosift.core.albums.service import Albums
    from photosift.core.catalog import Catalog
    from photosift.core.library import LibraryEncoder
    from photosift.core.library_index import LibraryIndex
    from photosift.core.ocr.service import TextService
    from photosift.core.search.filter_index import FilterIndex
    from photosift.core.search.photo_columns import IdArray
    from photosift.core.vindex import VectorIndex


class LibrarySearch:
    """The search part of `Library` (core.library), which builds what these methods read."""

    catalog: Catalog
    model_id: int
    encoder: LibraryEncoder
    albums: Albums
    text: TextService
    _index: LibraryIndex
    _filters: FilterIndex

    def vector_index(self) -> VectorIndex:
        """The index for this model, as current as the catalog: loaded from disk if the file is current,
        else rebuilt from SQLite (no model work; nothing is written: a writer saves it later)."""
        return self._index.current()

    def search(
        self,
        text: str,
        filters: SearchFilters | None = None,
        offset: int = 0,
        limit: int = 50,
        base: Path | None = None,
    ) -> SearchPage:
        """Search with the query language: weighted terms (core.query) and filters (core.query_filters),
        within `filters` as well. Results best first, or by date for sort:date; a query of filters
        only lists its photos newest first. Paged."""
        matches = self.matches(parse_query(text, base), filters or SearchFilters(), offset + limit + 1)
        return self.page(matches, offset, limit)

    def matches(self, query: Query, filters: SearchFilters, wanted: int | None = None) -> list[Match]:
        """The results of a parsed query that also pass `filters`, in order.

        Args:
            wanted: how many a ranked search needs (at least); None asks for every relevant hit, cut
                at `filters.min_score` or near the best hit (smart albums). Sorting by date always
                cuts that way, and a query of filters only always returns all its photos.
        """
        sort = query.filters.sort if query.filters.sort != "relevance" else filters.sort
        allowed = self._filters.allowed((query.filters, filters))
        if not query.terms:
            return [(i, None) for i in self._filters.capture_order(allowed, newest_first=sort != "oldest")]
        vector = query_vector(query, self.term_encoders())
        # Recognised text holding a text term's words raises a photo (core.ocr.blend: a bonus, documented)
        texts = self.text.blended_ids(t.value for t in query.terms if t.kind == "text" and t.weight > 0)
        return self._ranked(vector, allowed, filters.min_score, sort, wanted, (), within(texts, allowed))

    def album_photo_ids(self, name: str) -> set[int]:
        """The photos of the album `name` now (the `album:` filter). Raises QueryError if there is none."""
        try:
            return self.albums.photo_ids(name)
        except AlbumError as exc:
            raise QueryError(str(exc)) from exc

    def similar(
        self, photo: int | Path, filters: SearchFilters | None = None, offset: int = 0, limit: int = 50
    ) -> SearchPage:
        """Photos that look like a library photo (by id or path) or any image file outside the library."""
        filters = filters or SearchFilters()
        photo_id = photo if isinstance(photo, int) else self.photo_id_for_path(photo)
        exclude: tuple[int, ...] = ()
        if photo_id is None:
            if not isinstance(photo, Path):
                raise QueryError(f"There is no photo #{photo} in the library.")
            vector = self._encode_image_file(str(photo))
        else:
            stored, exclude = self._stored_vector(photo_id), (photo_id,)
            if stored is None:
                raise UserError(self._why_no_vector(photo_id))
            vector = stored
        allowed = self._filters.allowed((filters,))
        matches = self._ranked(vector, allowed, filters.min_score, filters.sort, offset + limit + 1, exclude)
        return self.page(matches, offset, limit)

    def _why_no_vector(self, photo_id: int) -> str:
        """Why a library photo cannot be compared: one whose file could not be read never will be until it
        changes, which "not indexed yet" would not tell."""
        info = self.catalog.photo(photo_id)
        if info is not None and info.status == "failed":
            return f"Photo #{photo_id} could not be read, so there is nothing to compare it with: {info.error}."
        return f"Photo #{photo_id} is not indexed yet; run the indexer first."

    def _ranked(
        self,
        vector: np.ndarray,
        allowed: IdArray | None,
        min_score: float | None,
        sort: SortOrder,
        wanted: int | None,
        exclude: Sequence[int],
        text_ids: Collection[int] = (),
    ) -> list[Match]:
        if wanted is not None and min_score is None and sort == "relevance":
            hits = nearest(self.vector_index(), vector, allowed, wanted, exclude)
        else:
            hits = relevant(self.vector_index(), vector, allowed, min_score, exclude)
        hits = blend(hits, text_ids, vector, lambda ids: self.catalog.embeddings(self.model_id, ids), min_score)
        return hits if sort == "relevance" else self._filters.by_capture_time(hits, sort == "newest")

    def page(self, matches: Sequence[Match], offset: int, limit: int) -> SearchPage:
        """One page of `matches` as hits with a path to show (photos deleted meanwhile are left out)."""
        shown = matches[offset : offset + limit]
        infos = self.catalog.photos([i for i, _ in shown])
        hits = tuple(
            SearchHit(i, infos[i].paths[0], s, infos[i].aspect) for i, s in shown if i in infos and infos[i].paths
        )
        return SearchPage(hits, offset, limit, has_more=len(matches) > offset + limit)

    def term_encoders(self) -> TermEncoders:
        """How each kind of query term becomes a vector with this library's model."""
        return TermEncoders(self.encoder.encode_texts, self._encode_image_file, self._stored_vector)

    def _encode_image_file(self, path: str) -> np.ndarray:
        img, _ = load_image(Path(path), min_side=self.encoder.min_side)
        return np.asarray(self.encoder.encode_images(self.encoder.preprocess(img)[None])[0])

    def _stored_vector(self, photo_id: int) -> np.ndarray | None:
        ids, vectors = self.catalog.embeddings(self.model_id, [photo_id])
        return vectors[0] if len(ids) else None

    def photo_id_for_path(self, path: Path | str) -> int | None:
        """The photo that has a file at `path` (made absolute as the scanner stores it), or None: a dropped or
        pasted file may be one of the library's own photos."""
        return self.catalog.photo_id_for_path(absolute_path(path))
