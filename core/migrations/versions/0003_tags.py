"""Tags: definitions, example photos, per-model vectors and scores, and user labels.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fk(table: str, column: str = "id") -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.{column}", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("group_name", sa.Text, nullable=False),
        sa.Column("builtin", sa.Boolean, nullable=False),
        sa.Column("prompts", sa.Text, nullable=False),
        sa.Column("sensitivity", sa.Integer, nullable=False),
    )
    op.create_table(
        "tag_examples",
        sa.Column("tag_id", sa.Integer, _fk("tags"), primary_key=True),
        sa.Column("photo_id", sa.Integer, _fk("photos"), primary_key=True, index=True),
    )
    op.create_table(
        "tag_vectors",
        sa.Column("tag_id", sa.Integer, _fk("tags"), primary_key=True),
        sa.Column("model_id", sa.Integer, _fk("models"), primary_key=True, index=True),
        sa.Column("definition", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("histogram", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "tag_scores",
        sa.Column("model_id", sa.Integer, _fk("models"), primary_key=True),
        sa.Column("tag_id", sa.Integer, _fk("tags"), primary_key=True),
        sa.Column("photo_id", sa.Integer, _fk("photos"), primary_key=True, index=True),
        sa.Column("score", sa.Float, nullable=False),
    )
    op.create_table(
        "tag_labels",
        sa.Column("photo_id", sa.Integer, _fk("photos"), primary_key=True),
        sa.Column("tag_id", sa.Integer, _fk("tags"), primary_key=True, index=True),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("labelled_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("tag_labels", "tag_scores", "tag_vectors", "tag_examples", "tags"):
        op.drop_table(table)
