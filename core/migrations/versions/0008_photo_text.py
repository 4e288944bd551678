"""Text in photos: what OCR read from each photo it looked at (`core.ocr`), and a full-text index of it.

The index is an SQLite FTS5 table with the trigram tokenizer over `photo_text` (external content, kept in
step by triggers, so the text is stored once): OCR often runs words together ("INVOICE2023"), and a
trigram index finds a word inside such a run, where a word tokenizer would not.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TRIGGERS = (
    """CREATE TRIGGER photo_text_added AFTER INSERT ON photo_text BEGIN
        INSERT INTO photo_text_fts(rowid, text) VALUES (new.photo_id, new.text);
    END""",
    """CREATE TRIGGER photo_text_removed AFTER DELETE ON photo_text BEGIN
        INSERT INTO photo_text_fts(photo_text_fts, rowid, text) VALUES ('delete', old.photo_id, old.text);
    END""",
    """CREATE TRIGGER photo_text_changed AFTER UPDATE ON photo_text BEGIN
        INSERT INTO photo_text_fts(photo_text_fts, rowid, text) VALUES ('delete', old.photo_id, old.text);
        INSERT INTO photo_text_fts(rowid, text) VALUES (new.photo_id, new.text);
    END""",
)


def upgrade() -> None:
    op.create_table(
        "photo_text",
        sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("read_at", sa.DateTime, nullable=False),
    )
    op.execute(
        "CREATE VIRTUAL TABLE photo_text_fts USING fts5("
        "text, content='photo_text', content_rowid='photo_id', tokenize='trigram')"
    )
    for trigger in _TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for trigger in ("photo_text_changed", "photo_text_removed", "photo_text_added"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE photo_text_fts")
    op.drop_table("photo_text")
