"""Near-duplicates: the groups `core.duplicates` found, each photo's place in one with the person's mark,
and the perceptual hash and sharpness read from each photo looked at (so a new search decodes only
photos it has not seen).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("best_photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="SET NULL")),
        sa.Column("found_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "duplicate_members",
        sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("duplicate_groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("duplicate", sa.Boolean, nullable=False),
        sa.Column("by_user", sa.Boolean, nullable=False),
    )
    op.create_index("ix_duplicate_members_group_id", "duplicate_members", ["group_id"])
    op.create_index("ix_duplicate_members_duplicate", "duplicate_members", ["duplicate"])
    op.create_table(
        "photo_signatures",
        sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("phash", sa.BigInteger),
        sa.Column("sharpness", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("photo_signatures")
    op.drop_index("ix_duplicate_members_duplicate", "duplicate_members")
    op.drop_index("ix_duplicate_members_group_id", "duplicate_members")
    op.drop_table("duplicate_members")
    op.drop_table("duplicate_groups")
