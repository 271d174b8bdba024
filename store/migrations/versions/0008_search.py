"""search: folded texts and their character-gram postings

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_texts",
        sa.Column("document_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sort_key", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("speakers", sa.Text(), nullable=False),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_search_texts_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_search_texts")),
    )
    op.create_index("ix_search_texts_sort_key_document_id", "search_texts", ["sort_key", "document_id"])
    # Imported here: the postings' DDL is the index module's, and it knows each store's form.
    from store import search_index

    bind = op.get_bind()
    for statement in search_index.postings_ddl(bind.dialect.name):
        op.execute(statement)
    search_index.rebuild(bind)


def downgrade() -> None:
    from store import search_index

    for statement in search_index.drop_postings_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_search_texts_sort_key_document_id", table_name="search_texts")
    op.drop_table("search_texts")
