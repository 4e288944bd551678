"""The models the catalog holds embeddings of: how many photos each has embedded, and forgetting one.

Every model a library has searched with keeps its embeddings, so switching back to it is instant; these
are what the GUI's Models dialog lists, and what it deletes to reclaim space.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, select

from photosift.core.catalog import readonly
from photosift.core.catalog import schema as s
from photosift.core.catalog.database import write_transaction


@dataclass(frozen=True)
class StoredModel:
    """A model row of the catalog.

    Attributes:
        key: the spec key it was registered under (ModelSpec.key: architecture, weights, preprocessing).
        name: the spec name at registration.
        embedded: photos with an embedding from this model.
    """

    id: int
    key: str
    name: str
    dim: int
    embedded: int


def stored_models(engine: Engine) -> list[StoredModel]:
    """Every registered model with its embedding count, in registration order."""
    with engine.connect() as conn:
        return [StoredModel(*row) for row in readonly.stored_model_rows(conn.connection.driver_connection)]


def delete_model(engine: Engine, model_id: int) -> int:
    """Delete a model row with its embeddings, tag scores and tag vectors (they cascade); returns the number
    of embeddings deleted. Using the model again registers it anew and embeds every photo again."""
    with write_transaction(engine) as conn:
        embedded = conn.execute(select(func.count()).where(s.embeddings.c.model_id == model_id)).scalar_one()
        conn.execute(delete(s.embeddings).where(s.embeddings.c.model_id == model_id))
        conn.execute(delete(s.models).where(s.models.c.id == model_id))
    return int(embedded)
