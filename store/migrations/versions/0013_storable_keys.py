"""documents and sources: keys over 500 characters, URLs over 2,000, names over 100 as ingest makes them

Revision ID: 0013
Revises: 0012

PostgreSQL refuses a value longer than its column, so a page whose document had a longer key or URL
was never archived there; SQLite kept such values. Ingest now gives a longer key its first
characters and the SHA-256 of the whole (`workers.document.storable_key`; a source name, after a host,
over 100 the same way), and drops a longer URL;
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
SOURCE_CHARS = 100


def _storable_key(key: str, limit: int = KEY_CHARS) -> str:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[: 64 if limit >= 256 else 32]
    return f"{key[: limit - len(digest) - 1]}#{digest}"


def _shorten(table: str, column: str, limit: int) -> None:
    connection = op.get_bind()
    found = connection.execute(
        sa.text(f"SELECT id, {column} FROM {table} WHERE length({column}) > :n"), {"n": limit}
    ).all()
    for row_id, value in found:
        connection.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
            {"value": _storable_key(value, limit), "id": row_id},
        )


def upgrade() -> None:
    _shorten("documents", "key", KEY_CHARS)
    _shorten("sources", "name", SOURCE_CHARS)
    op.get_bind().execute(sa.text("UPDATE documents SET url = NULL WHERE length(url) > :n"), {"n": URL_CHARS})


def downgrade() -> None:
    """Nothing to undo: the shortened keys are valid keys under the old schema too."""
