"""Table definitions. The migrations in `core/migrations/versions/` create exactly these tables.

Identity is the photo (its content), not the file: a photo may have several files (copies), and a
file moved or renamed keeps pointing at the same photo, so its embeddings survive without model work.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

folders = Table(
    "folders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False, unique=True),
    Column("status", String(16), nullable=False, default="ok"),  # ok | offline
    Column("added_at", DateTime, nullable=False),
    Column("scanned_at", DateTime),
)

photos = Table(
    "photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fingerprint", String(64), nullable=False, index=True),
    Column("content_hash", String(64)),  # full-file hash, computed only to settle a fingerprint collision
    Column("size", BigInteger, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("taken_at", DateTime, index=True),
    Column("camera", Text),
    Column("gps_lat", Float),
    Column("gps_lon", Float),
    Column("orientation", Integer),
    Column("status", String(16), nullable=False, default="pending"),  # pending | ok | failed
    Column("error", Text),
)

files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("path", Text, nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(128), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("dim", Integer, nullable=False),
    # Bumped in the same transaction as every change to this model's embeddings; a saved vector
    # index records the generation it was built at, so a stale index is detected on open.
    Column("generation", Integer, nullable=False, default=0),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("vector", LargeBinary, nullable=False),  # float16, L2-normalised
)
