"""Table definitions. The migrations in `core/migrations/versions/` create exactly these tables.

Identity is the photo (its content), not the file: a photo may have several files (copies), and a
file moved or renamed keeps pointing at the same photo, so its embeddings survive without model work.
"""

from __future__ import annotations

import os

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

metadata = MetaData()


class FilePath(TypeDecorator[str]):
    """A path exactly as the OS named it. A name that is not valid UTF-8 (Latin-1 names from old archives
    and Windows copies: `caf\\xe9.jpg`) comes from `os.scandir` surrogate-escaped, which SQLite text cannot
    hold; it is stored as its bytes (a BLOB in the TEXT column) and read back as the same string, so every
    lookup by path matches and the file opens again. Valid names stay plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | bytes | None:
        if value is None or value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return os.fsencode(value)
        return value

    def process_result_value(self, value: str | bytes | None, dialect: Dialect) -> str | None:
        return os.fsdecode(value) if isinstance(value, bytes) else value


folders = Table(
    "folders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", FilePath, nullable=False, unique=True),
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
    Column("path", FilePath, nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
)

# Entries of photo folders left out on purpose (named pipes, sockets, devices, dangling or looping links),
# each with the reason; replaced for a folder at each of its scans (`core.catalog.skipped`).
skipped_files = Table(
    "skipped_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("path", FilePath, nullable=False, unique=True),
    Column("reason", Text, nullable=False),
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

albums = Table(
    "albums",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # manual | smart
    Column("query", Text),  # smart albums: the saved search, in the full search language
    Column("threshold", Float),  # smart albums: the least cosine score a member needs (None: the default)
    Column("created_at", DateTime, nullable=False),
)

# Members of manual albums. Rows go with their photo (ON DELETE CASCADE, foreign keys are on), so a
# photo whose last file disappears leaves every album; deleting an album never touches photos.
album_photos = Table(
    "album_photos",
    metadata,
    Column("album_id", Integer, ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("added_at", DateTime, nullable=False),
)

# Tags ----------------------------------------------------------------------------------------------
# Definitions, per-model vectors and scores, and user labels are kept apart: automatic tagging rewrites
# vectors and scores freely, and never touches labels (they outlive re-tagging and model changes).

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),  # normalised: lower case, single spaces
    Column("group_name", Text, nullable=False),
    Column("builtin", Boolean, nullable=False),  # from resources/tags/vocabulary.json, refreshed on open
    Column("prompts", Text, nullable=False),  # JSON list of phrases, ensembled with the vocabulary's templates
    Column("sensitivity", Integer, nullable=False, default=0),  # the user's step, -2 (fewer) to +2 (more)
)

# A custom tag's example photos, blended into its vector (core.tags.scoring.blend_examples).
tag_examples = Table(
    "tag_examples",
    metadata,
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# Each tag's vector for each model, cached so that a new tag or model computes only what is missing.
tag_vectors = Table(
    "tag_vectors",
    metadata,
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("definition", String(64), nullable=False),  # digest of prompts, templates, examples: stale if changed
    Column("vector", LargeBinary, nullable=False),  # float32, L2-normalised
    Column("histogram", LargeBinary, nullable=False),  # zlib int32 counts of all its scores (core.tags.calibration)
)

# The best-scoring tags of each photo for each model (core.tags.scoring.TOP_K of them): candidates,
# which carry the tag when the score reaches the tag's calibrated threshold.
tag_scores = Table(
    "tag_scores",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("score", Float, nullable=False),
)
# Tag counts and the `tag:` filter read one range of this per tag (scores at or above its threshold),
# and nothing else: it holds the photo id too.
Index("ix_tag_scores_tag_score", tag_scores.c.model_id, tag_scores.c.tag_id, tag_scores.c.score, tag_scores.c.photo_id)

# How many of a tag's candidate scores fall in each 0.001-wide bin, kept in step by triggers on tag_scores
# (migration 0012), so that side panel counts read bins rather than every score (core.tags.store).
tag_score_bins = Table(
    "tag_score_bins",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("bin", Integer, primary_key=True),
    Column("photos", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# The user's word on a (photo, tag): accepted or rejected. Model-independent, and the fine-tuning labels.
tag_labels = Table(
    "tag_labels",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("accepted", Boolean, nullable=False),
    Column("labelled_at", DateTime, nullable=False),
)

# Places and marks ----------------------------------------------------------------------------------

# The place of each photo with GPS, named offline (core.places). A row with no names: the photo was looked
# up and no named place lies near it (at sea); a photo with GPS and no row is still to look up.
places = Table(
    "places",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("locality", Text),  # the nearest named place (a district, a village)
    Column("city", Text),  # the largest place close by: what people call where they were
    Column("region", Text),
    Column("country", Text),
    Column("country_code", String(2)),
)
# The side panel's counts group by country and city; place filters read each column's distinct names.
Index("ix_places_country_city", places.c.country, places.c.city)
Index("ix_places_city", places.c.city)
Index("ix_places_locality", places.c.locality)
Index("ix_places_region", places.c.region)
Index("ix_places_country_code", places.c.country_code)
Index("ix_photos_gps_lat", photos.c.gps_lat)  # near: reads a band of latitudes

# The person's favourites and star ratings (core.marks): only in the catalog, never written into photos.
photo_marks = Table(
    "photo_marks",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("favourite", Boolean, nullable=False),
    Column("rating", Integer, nullable=False),  # 0 (none) to 5 stars
    Column("marked_at", DateTime, nullable=False),
)

# Near-duplicates -----------------------------------------------------------------------------------

# Groups of near-duplicate photos found by `core.duplicates` from the stored embeddings. A new search
# replaces the groups but keeps the person's word on each photo (`by_user`), so review survives it.
duplicate_groups = Table(
    "duplicate_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("best_photo_id", Integer, ForeignKey("photos.id", ondelete="SET NULL")),  # the copy to keep
    Column("found_at", DateTime, nullable=False),
)

duplicate_members = Table(
    "duplicate_members",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("duplicate_groups.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("similarity", Float, nullable=False),  # cosine similarity of its embedding to the best copy's
    Column("duplicate", Boolean, nullable=False, index=True),  # marked as a duplicate (the `is:duplicate` filter)
    Column("by_user", Boolean, nullable=False),  # the mark is the person's, not the suggestion
)

# What the duplicate search read from each photo it looked at: a 64-bit perceptual hash (DCT pHash) to
# confirm ambiguous pairs, and a cheap sharpness to pick the best copy; NULL where the file could not be read.
photo_signatures = Table(
    "photo_signatures",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("phash", BigInteger),  # signed: the 64 bits as SQLite's integer holds them
    Column("sharpness", Float),  # variance of the Laplacian of a 256-pixel grey thumbnail
    Column("crop_hashes", LargeBinary),  # the pHashes of windows inside the photo, little-endian int64s
)

# Text in photos ------------------------------------------------------------------------------------

# What OCR read from each photo it looked at (`core.ocr`): status "text" (found some), "none" (looked,
# found none), "unlikely" (left out by the gate: `core.ocr.gate`), or "failed" (the file could not be read).
# Full-text search goes through `photo_text_fts`, an FTS5 trigram index that triggers keep in step (see
# migration 0008); SQLAlchemy cannot describe a virtual table, so it and its shadow tables stay out of here.
photo_text = Table(
    "photo_text",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("text", Text, nullable=False),  # lines as read, one per line; "" unless status is "text"
    Column("read_at", DateTime, nullable=False),
    Column("model_id", Integer),  # "unlikely": the model whose gate left it out (another model gates anew)
)
FULL_TEXT_INDEX = "photo_text_fts"


def is_full_text_table(name: str) -> bool:
    """Whether `name` is the FTS5 index or one of its shadow tables (the schema check leaves them out)."""
    return name == FULL_TEXT_INDEX or name.startswith(FULL_TEXT_INDEX + "_")
