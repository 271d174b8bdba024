"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 01:53:22.838669
"""

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=True),
        sa.Column("published_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_offset_min", sa.Integer(), nullable=True),
        sa.Column("published_precision", sa.String(length=10), nullable=False),
        sa.Column("speakers", sa.JSON(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("is_excerpt", sa.Boolean(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_documents_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("key", name=op.f("uq_documents_key")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_content_sha256"), ["content_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_source_id"), ["source_id"], unique=False)

    op.create_table(
        "raw_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=1000), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("fetched_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ingested_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("format", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_raw_pages_blob_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_pages")),
        sa.UniqueConstraint("blob_sha256", "origin", name=op.f("uq_raw_pages_blob_sha256_origin")),
    )
    with op.batch_alter_table("raw_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_pages_ingested_at"), ["ingested_at"], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("posted_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raw_page_id", sa.Integer(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_comments_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_pages.id"], name=op.f("fk_comments_raw_page_id_raw_pages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint("document_id", "fingerprint", name=op.f("uq_comments_document_id_fingerprint")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_document_id"), ["document_id"], unique=False)

    op.create_table(
        "document_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_links_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["documents.id"], name=op.f("fk_document_links_target_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_links")),
        sa.UniqueConstraint("document_id", "kind", name=op.f("uq_document_links_document_id_kind")),
    )
    with op.batch_alter_table("document_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_links_target_id"), ["target_id"], unique=False)

    op.create_table(
        "parse_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("raw_page_id", sa.Integer(), nullable=False),
        sa.Column("parser", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_pages.id"], name=op.f("fk_parse_failures_raw_page_id_raw_pages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parse_failures")),
        sa.UniqueConstraint("raw_page_id", name=op.f("uq_parse_failures_raw_page_id")),
    )
    op.create_table(
        "sketch_anchors",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_sketch_anchors_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("document_id", "value", name=op.f("pk_sketch_anchors")),
    )
    with op.batch_alter_table("sketch_anchors", schema=None) as batch_op:
        batch_op.create_index("ix_sketch_anchors_value", ["value"], unique=False)

    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("raw_page_id", sa.Integer(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_versions_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_pages.id"], name=op.f("fk_versions_raw_page_id_raw_pages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_versions_document_id_number")),
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_versions_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_versions_raw_page_id"), ["raw_page_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_versions_raw_page_id"))
        batch_op.drop_index(batch_op.f("ix_versions_document_id"))

    op.drop_table("versions")
    with op.batch_alter_table("sketch_anchors", schema=None) as batch_op:
        batch_op.drop_index("ix_sketch_anchors_value")

    op.drop_table("sketch_anchors")
    op.drop_table("parse_failures")
    with op.batch_alter_table("document_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_links_target_id"))

    op.drop_table("document_links")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_document_id"))

    op.drop_table("comments")
    with op.batch_alter_table("raw_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_pages_ingested_at"))

    op.drop_table("raw_pages")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_source_id"))
        batch_op.drop_index(batch_op.f("ix_documents_published_at"))
        batch_op.drop_index(batch_op.f("ix_documents_content_sha256"))

    op.drop_table("documents")
    op.drop_table("sources")
    op.drop_table("blobs")
