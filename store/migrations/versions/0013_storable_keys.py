"""documents: keys longer than 500 characters and URLs longer than 2,000 as ingest now makes them

Revision ID: 0013
Revises: 0012

PostgreSQL refuses a value longer than its column, so a page whose document had a longer key or URL
was never archived there; SQLite kept such values. Ingest now gives a longer key its first
characters and the SHA-256 of the whole (`workers.document.storable_key`), and drops a longer URL;
this gives the rows SQLite already holds the same form, so the next fetch of such a page finds its
document. The function is copied here as it was at this revision.
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY_CHARS = 500
URL_CHARS = 2000


def _storable_key(key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[: KEY_CHARS - len(digest) - 1]}#{digest}"


def upgrade() -> None:
    connection = op.get_bind()
    long_keys = connection.execute(
        sa.text("SELECT id, key FROM documents WHERE length(key) > :n"), {"n": KEY_CHARS}
    ).all()
    for document_id, key in long_keys:
        connection.execute(
            sa.text("UPDATE documents SET key = :key WHERE id = :id"),
            {"key": _storable_key(key), "id": document_id},
        )
    connection.execute(sa.text("UPDATE documents SET url = NULL WHERE length(url) > :n"), {"n": URL_CHARS})


def downgrade() -> None:
    """Nothing to undo: the shortened keys are valid keys under the old schema too."""
