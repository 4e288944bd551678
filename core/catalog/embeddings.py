"""The catalog's models and their embeddings: which models it holds vectors of, the vectors (float16
blobs), and each model's generation, which says what state of them a vector index was built from (see
core.library_index). `Catalog` takes these methods in through `EmbeddingRows`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select, update

from photosift.core.catalog import schema as s
from photosift.core.catalog.database import chunks, read_transaction, write_transaction
from photosift.core.catalog.records import PhotoResult
from photosift.core.errors import ModelMismatchError

VectorReader = Callable[[int, int], np.ndarray]  # (start, stop) -> the vectors of ids[start:stop]
_RANGE_OF_VECTORS = "SELECT vector FROM embeddings WHERE +model_id = ? AND photo_id BETWEEN ? AND ? ORDER BY photo_id"

# float16 halves the database against float32; cosine scores move by ~1e-3, far below ranking noise.
STORAGE_DTYPE = np.float16


def as_stored(vectors: np.ndarray) -> np.ndarray:
    """Vectors rounded exactly as the catalog stores them, so an index built from fresh results ranks
    the same as one rebuilt from SQLite."""
    return np.asarray(vectors, dtype=STORAGE_DTYPE).astype(np.float32)


def _generation(conn: Connection, model_id: int) -> int:
    return int(conn.execute(select(s.models.c.generation).where(s.models.c.id == model_id)).scalar_one())


def _encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=STORAGE_DTYPE).tobytes()


def _decode_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=STORAGE_DTYPE).reshape(len(blobs), dim).astype(np.float32)


class EmbeddingRows:
    """The models and embeddings part of `Catalog` (core.catalog.catalog), which holds the engine."""

    engine: Engine

    def ensure_model(self, key: str, name: str, dim: int) -> int:
        """The id of the model with this spec key, registering it on first use."""
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(s.models).where(s.models.c.key == key)).first()
            if row is None:
                insert_model = insert(s.models).values(key=key, name=name, dim=dim, generation=0)
                return int(conn.execute(insert_model.returning(s.models.c.id)).scalar_one())
            if row.dim != dim:
                raise ModelMismatchError(
                    f"The catalog holds {row.dim}-d embeddings for model {name}, but it now produces {dim}-d ones."
                )
            return int(row.id)

    def generation(self, model_id: int) -> int:
        """A counter of the changes to this model's embeddings: every transaction that adds or deletes
        some moves it on by exactly one. The vector index is saved with it (see core.library_index)."""
        with self.engine.connect() as conn:
            return _generation(conn, model_id)

    def pending_photos(self, model_id: int) -> list[tuple[int, str]]:
        """Photos with no embedding for this model and no recorded failure, each with one of its paths."""
        has_vector = select(s.embeddings.c.photo_id).where(s.embeddings.c.model_id == model_id)
        query = (
            select(s.photos.c.id, func.min(s.files.c.path))
            .join(s.files, s.files.c.photo_id == s.photos.c.id)
            .where(s.photos.c.status != "failed", ~s.photos.c.id.in_(has_vector))
            .group_by(s.photos.c.id)
            .order_by(s.photos.c.id)
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1])) for r in conn.execute(query)]

    def write_results(self, model_id: int, results: Sequence[PhotoResult]) -> tuple[int, int] | None:
        """Store one batch of indexing results (metadata, vectors, failures) in one transaction.

        Returns:
            The model's generation before and after the batch, or None when it stored no vector (the
            generation did not move): the caller's vector index knows whether it saw every step between.
        """
        with write_transaction(self.engine) as conn:
            live = {
                r[0]
                for r in conn.execute(select(s.photos.c.id).where(s.photos.c.id.in_([r.photo_id for r in results])))
            }
            vectors = []
            for result in results:
                if result.photo_id not in live:  # deleted by a scan while it was being embedded
                    continue
                values: dict[str, object] = {"status": "failed" if result.error else "ok", "error": result.error}
                if result.metadata is not None:
                    m = result.metadata
                    values.update(
                        width=m.width,
                        height=m.height,
                        taken_at=m.taken_at,
                        camera=m.camera,
                        gps_lat=m.gps_lat,
                        gps_lon=m.gps_lon,
                        orientation=m.orientation,
                    )
                conn.execute(update(s.photos).where(s.photos.c.id == result.photo_id).values(**values))
                if result.vector is not None:
                    vectors.append(
                        {"photo_id": result.photo_id, "model_id": model_id, "vector": _encode_vector(result.vector)}
                    )
            if not vectors:
                return None
            conn.execute(insert(s.embeddings).prefix_with("OR REPLACE"), vectors)
            before = _generation(conn, model_id)
            conn.execute(update(s.models).where(s.models.c.id == model_id).values(generation=before + 1))
            return before, before + 1

    def embeddings(self, model_id: int, photo_ids: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, float32 vectors) of this model's embeddings, all or for the given photos."""
        with self.engine.connect() as conn:
            return self._embeddings(conn, model_id, photo_ids)

    @contextlib.contextmanager
    def embedding_snapshot(self, model_id: int) -> Iterator[tuple[int, np.ndarray, VectorReader]]:
        """(generation, sorted ids, reader) of this model's embeddings in one snapshot, so the generation
        says exactly which state they are (to build a vector index from). `reader(start, stop)` gives the
        float32 vectors of ids[start:stop]: read whole, a million 1152-d embeddings held 2.3 GB of blobs
        beside 4.6 GB of float32 (9 GB at the peak); a range at a time holds one range."""
        column = s.embeddings.c.photo_id
        query = select(column).where(s.embeddings.c.model_id == model_id).order_by(column)
        with read_transaction(self.engine) as conn:
            dim = int(conn.execute(select(s.models.c.dim).where(s.models.c.id == model_id)).scalar_one())
            ids = np.fromiter(conn.execute(query).scalars(), dtype=np.int64)

            def reader(start: int, stop: int) -> np.ndarray:
                # `+model_id` keeps SQLite off the model_id index, which read every vector of the model for
                # each range (46 GB read at a million photos): the primary key's photo_id range is the plan.
                rows = conn.exec_driver_sql(_RANGE_OF_VECTORS, (model_id, int(ids[start]), int(ids[stop - 1])))
                return _decode_vectors([r[0] for r in rows], dim)

            yield _generation(conn, model_id), ids, reader

    def embedding_ids_at(self, model_id: int) -> tuple[int, np.ndarray]:
        """(generation, sorted photo ids) of this model's embeddings, read in one snapshot."""
        query = select(s.embeddings.c.photo_id).where(s.embeddings.c.model_id == model_id)
        with read_transaction(self.engine) as conn:
            ids = np.fromiter(conn.execute(query).scalars(), dtype=np.int64)
            return _generation(conn, model_id), np.sort(ids)

    @staticmethod
    def _embeddings(conn: Connection, model_id: int, photo_ids: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
        dim_query = select(s.models.c.dim).where(s.models.c.id == model_id)
        query = select(s.embeddings.c.photo_id, s.embeddings.c.vector).where(s.embeddings.c.model_id == model_id)
        dim = int(conn.execute(dim_query).scalar_one())
        if photo_ids is None:
            rows = list(conn.execute(query.order_by(s.embeddings.c.photo_id)))
        else:
            rows = [
                r for chunk in chunks(photo_ids) for r in conn.execute(query.where(s.embeddings.c.photo_id.in_(chunk)))
            ]
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        return ids, _decode_vectors([r[1] for r in rows], dim)
