"""indexes for the reading side: a source's timeline, and the newest versions (feeds)

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The timeline filtered by source walks this index backwards instead of sorting the source's rows.
    op.create_index("ix_documents_source_id_published_at", "documents", ["source_id", "published_at"])
    # Feeds list the newest versions (new documents and edits) first.
    op.create_index("ix_versions_created_at", "versions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_versions_created_at", table_name="versions")
    op.drop_index("ix_documents_source_id_published_at", table_name="documents")
