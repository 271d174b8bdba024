"""every fetch is a fact: raw pages per fetch time, when a page was stored, when a document was last seen

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("raw_pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stored_at", store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_raw_pages_blob_sha256_origin", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_raw_pages_blob_sha256_origin_fetched_at"), ["blob_sha256", "origin", "fetched_at"]
        )
    op.execute("UPDATE raw_pages SET stored_at = fetched_at")
    with op.batch_alter_table("raw_pages", schema=None) as batch_op:
        batch_op.alter_column(
            "stored_at", existing_type=store.types.UTCDateTime(timezone=True), nullable=False
        )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_at", store.types.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE documents SET seen_at = (SELECT raw_pages.fetched_at FROM versions"
        " JOIN raw_pages ON raw_pages.id = versions.raw_page_id"
        " WHERE versions.document_id = documents.id AND versions.number = documents.version)"
    )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
    with op.batch_alter_table("raw_pages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_raw_pages_blob_sha256_origin_fetched_at", type_="unique")
        batch_op.create_unique_constraint("uq_raw_pages_blob_sha256_origin", ["blob_sha256", "origin"])
        batch_op.drop_column("stored_at")
