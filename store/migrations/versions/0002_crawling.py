"""crawling: crawl log, crawl state per source, HTTP validators per fetched URL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:18:31.765504
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("needs_attention", sa.Text(), nullable=True),
        sa.Column("attention_since", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_states")),
        sa.UniqueConstraint("source", name=op.f("uq_crawl_states_source")),
    )
    op.create_table(
        "crawls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("fetched_from", sa.String(length=2000), nullable=True),
        sa.Column("started_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finish_reason", sa.String(length=50), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("body_bytes", sa.BigInteger(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawls")),
    )
    with op.batch_alter_table("crawls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crawls_source"), ["source"], unique=False)

    op.create_table(
        "fetched_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_sha256", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("listed_modified", sa.String(length=100), nullable=True),
        sa.Column("first_fetched_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_fetched_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("raw_page_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_pages.id"], name=op.f("fk_fetched_urls_raw_page_id_raw_pages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetched_urls")),
        sa.UniqueConstraint("source", "url_sha256", name=op.f("uq_fetched_urls_source_url_sha256")),
    )
    with op.batch_alter_table("fetched_urls", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fetched_urls_source_first_fetched_at", ["source", "first_fetched_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fetched_urls", schema=None) as batch_op:
        batch_op.drop_index("ix_fetched_urls_source_first_fetched_at")

    op.drop_table("fetched_urls")
    with op.batch_alter_table("crawls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawls_source"))

    op.drop_table("crawls")
    op.drop_table("crawl_states")
