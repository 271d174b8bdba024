"""digest windows keyed by start and end; when an ingest message was last sent for a raw page

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A subscription that goes from hourly to daily digests has an hourly window and a daily one
    # starting at the same midnight: a window is its start and its end.
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_subscription_id_window_start", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_subscription_id_window_start_window_end"),
            ["subscription_id", "window_start", "window_end"],
        )
    with op.batch_alter_table("raw_pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", store.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_pages", schema=None) as batch_op:
        batch_op.drop_column("queued_at")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_subscription_id_window_start_window_end", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_subscription_id_window_start"), ["subscription_id", "window_start"]
        )
