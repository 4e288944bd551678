"""Albums: manual albums (a list of photos) and smart albums (a saved search).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "albums",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("query", sa.Text),
        sa.Column("threshold", sa.Float),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "album_photos",
        sa.Column("album_id", sa.Integer, sa.ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True, index=True),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("album_photos")
    op.drop_table("albums")
