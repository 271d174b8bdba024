"""the offset a site gave a comment's time, as documents keep their publication's

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
    # Rows written before this are shown in UTC until `reparse` reads their pages again.
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("posted_offset_min", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("posted_offset_min")
