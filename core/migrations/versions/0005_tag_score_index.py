"""An index on tag scores by tag and score: the side panel's tag counts and the `tag:` filter read one
range of it per tag, where without it SQLite built a temporary index over every score on each count
(18 s at 5,000 photos, hours at a million). It holds the photo id too, so the `tag:` filter reads only the
index (0.31 s to 0.09 s for a tag on 20,000 photos).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tag_scores_tag_score", "tag_scores", ["model_id", "tag_id", "score", "photo_id"])


def downgrade() -> None:
    op.drop_index("ix_tag_scores_tag_score", "tag_scores")
