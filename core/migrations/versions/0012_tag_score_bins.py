"""Side panel counts without a pass over the scores: each tag's stored candidate scores counted per bin.

A tag's count is the number of its candidate scores at or above its threshold. Counting them read one
range of the (model, tag, score) index per tag, 1.9 s for 462 tags at a million photos (38 s with a
cold cache). `tag_score_bins` holds, per model and tag, how many candidate scores fall in each 0.001
wide bin of the score, kept in step by triggers on `tag_scores`, so a count adds the bins above the
threshold's bin and reads only the scores in that one bin (core.tags.store.counts_above). Thresholds move
with calibration after every batch, so counts of "at or above" cannot themselves be kept.

INSERT OR REPLACE deletes the row it replaces without firing delete triggers (unless recursive triggers
are on), so a BEFORE INSERT trigger takes a replaced score out of its bin first. Deletes through foreign
keys (a photo, a tag or a model removed) fire the delete trigger.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Must equal core.tags.store.SCORE_BIN (tests/test_tag_counts.py compares the counts with a plain scan).
_BIN = "CAST(({score} + 1.0) * 1000 AS INTEGER)"


def _bin(score: str) -> str:
    return _BIN.format(score=score)


_ADD = (
    "INSERT INTO tag_score_bins (model_id, tag_id, bin, photos) VALUES (new.model_id, new.tag_id, {bin}, 1)"
    " ON CONFLICT DO UPDATE SET photos = photos + 1;"
).format(bin=_bin("new.score"))
_TAKE = (
    "UPDATE tag_score_bins SET photos = photos - 1"
    " WHERE model_id = {row}.model_id AND tag_id = {row}.tag_id AND bin = {bin};"
)
_TRIGGERS = (
    f"""CREATE TRIGGER tag_scores_binned AFTER INSERT ON tag_scores BEGIN {_ADD} END""",
    """CREATE TRIGGER tag_scores_replacing BEFORE INSERT ON tag_scores BEGIN
        UPDATE tag_score_bins SET photos = photos - 1 WHERE (model_id, tag_id, bin) IN (
            SELECT model_id, tag_id, {bin} FROM tag_scores
            WHERE model_id = new.model_id AND tag_id = new.tag_id AND photo_id = new.photo_id);
    END""".format(bin=_bin("score")),
    f"""CREATE TRIGGER tag_scores_unbinned AFTER DELETE ON tag_scores BEGIN
        {_TAKE.format(row="old", bin=_bin("old.score"))}
    END""",
    f"""CREATE TRIGGER tag_scores_rebinned AFTER UPDATE ON tag_scores BEGIN
        {_TAKE.format(row="old", bin=_bin("old.score"))} {_ADD}
    END""",
)


def upgrade() -> None:
    op.create_table(
        "tag_score_bins",
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("bin", sa.Integer, primary_key=True),
        sa.Column("photos", sa.Integer, nullable=False),
        sqlite_with_rowid=False,  # the key is the table: a count reads the bins without a lookup each
    )
    op.execute(
        f"INSERT INTO tag_score_bins (model_id, tag_id, bin, photos) SELECT model_id, tag_id, {_bin('score')}, count(*)"
        f" FROM tag_scores GROUP BY model_id, tag_id, {_bin('score')}"
    )
    for trigger in _TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for trigger in ("tag_scores_rebinned", "tag_scores_unbinned", "tag_scores_replacing", "tag_scores_binned"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("tag_score_bins")
