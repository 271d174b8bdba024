"""sketch anchors keyed by (value, document id): a near-duplicate lookup reads the key alone

Revision ID: 0012
Revises: 0011

The rows stay as they are; only their keys change. PostgreSQL rebuilds the two indexes in place;
SQLite copies the table into one without a rowid, so the key is the table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _rebuild_sqlite(key: list[str], with_rowid: bool) -> None:
    """Copy sketch_anchors into a table keyed by `key` (SQLite cannot change a primary key)."""
    op.create_table(
        "_sketch_anchors_new",
        sa.Column(key[0], sa.BigInteger() if key[0] == "value" else sa.Integer(), nullable=False),
        sa.Column(key[1], sa.BigInteger() if key[1] == "value" else sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_sketch_anchors_document_id_documents"
        ),
        sa.PrimaryKeyConstraint(*key, name="pk_sketch_anchors"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        f"INSERT INTO _sketch_anchors_new ({key[0]}, {key[1]}) SELECT {key[0]}, {key[1]} FROM sketch_anchors"
    )
    op.drop_table("sketch_anchors")
    op.rename_table("_sketch_anchors_new", "sketch_anchors")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(["value", "document_id"], with_rowid=False)
    else:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")  # 64 rows a document: big sorts
        op.drop_index("ix_sketch_anchors_value", table_name="sketch_anchors")
        op.drop_constraint("pk_sketch_anchors", "sketch_anchors", type_="primary")
        op.create_primary_key("pk_sketch_anchors", "sketch_anchors", ["value", "document_id"])
    op.create_index("ix_sketch_anchors_document_id", "sketch_anchors", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_sketch_anchors_document_id", table_name="sketch_anchors")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(["document_id", "value"], with_rowid=True)
    else:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.drop_constraint("pk_sketch_anchors", "sketch_anchors", type_="primary")
        op.create_primary_key("pk_sketch_anchors", "sketch_anchors", ["document_id", "value"])
    op.create_index("ix_sketch_anchors_value", "sketch_anchors", ["value"])
