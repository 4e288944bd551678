"""Text in photos: which model's gate left a photo unread (`photo_text.model_id`), so a photo the gate
skipped is looked at again after a switch to another model, whose embedding may see the text.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No foreign key: SQLite cannot add one to an existing table without copying it, which would drop the
    # full-text index's triggers on photo_text (migration 0008). A model's id that no longer exists simply
    # differs from the current model's.
    op.add_column("photo_text", sa.Column("model_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("photo_text", "model_id")
