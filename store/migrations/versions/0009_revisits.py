"""revisit schedule of article pages

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fetched_urls") as batch:
        batch.add_column(sa.Column("last_checked_at", store.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_check_at", store.types.UTCDateTime(timezone=True), nullable=True))
        batch.create_index("ix_fetched_urls_source_next_check_at", ["source", "next_check_at"], unique=False)
    # Pages fetched before revisits existed are due now: the next rounds check them, a budget at a time,
    # and give each its place in its source's schedule.
    op.execute(
        "UPDATE fetched_urls SET last_checked_at = last_fetched_at, next_check_at = first_fetched_at "
        "WHERE role = 'page' AND first_fetched_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("fetched_urls") as batch:
        batch.drop_index("ix_fetched_urls_source_next_check_at")
        batch.drop_column("next_check_at")
        batch.drop_column("last_checked_at")
