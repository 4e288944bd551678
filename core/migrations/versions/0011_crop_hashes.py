"""Near-duplicates: each photo's signature also keeps the perceptual hashes of a few windows inside it
(`core.duplicates.signatures.CROP_WINDOWS`), so that a crop of a photo is confirmed as its duplicate.
Signatures are a cache of what the pixels say: the ones stored before are dropped, and the next search
reads those photos again with their windows.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM photo_signatures")
    op.add_column("photo_signatures", sa.Column("crop_hashes", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("photo_signatures", "crop_hashes")
