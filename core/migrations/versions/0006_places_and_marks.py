"""Places and marks: the place name of each photo with GPS (reverse-geocoded offline by `core.places`), and
the person's favourite flag and 0-5 star rating (`core.marks`), kept in the catalog and never in the photo
file. Both are keyed by the photo, so they follow it through moves and renames and go with it.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("locality", sa.Text),
        sa.Column("city", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("country", sa.Text),
        sa.Column("country_code", sa.String(2)),
    )
    op.create_table(
        "photo_marks",
        sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("favourite", sa.Boolean, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("marked_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("photo_marks")
    op.drop_table("places")
