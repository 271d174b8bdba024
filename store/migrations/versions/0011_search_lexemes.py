"""search: PostgreSQL's gram postings as tsvector lexemes (a third cheaper to write than text[])

Revision ID: 0011
Revises: 0010

The GIN indexes are made again from `search_texts.folded` (CREATE INDEX reads every row: this is the
reindex of an existing archive). SQLite's FTS5 postings do not change.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# 0008's form, for the way down.
OLD_FUNCTION = r"""
CREATE FUNCTION search_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100000 AS $$
  SELECT array_cat(array_cat(string_to_array(t, NULL),
                             string_to_array(regexp_replace(t, '(..)', '\1,', 'g'), ',')),
                   string_to_array(regexp_replace(substr(t, 2), '(..)', '\1,', 'g'), ','))
$$
"""
OLD_INDEXES = (
    "CREATE INDEX ix_search_texts_grams ON search_texts USING gin (search_grams(folded))",
    "CREATE INDEX ix_search_texts_comment_grams ON search_texts USING gin (search_grams(comments))",
)
INDEXES = ("ix_search_texts_grams", "ix_search_texts_comment_grams")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from store import search_index

    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS search_grams")
    op.execute("DROP FUNCTION IF EXISTS search_lexemes")  # a fresh archive: 0008 made today's form
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")  # GIN builds in memory this large
    for statement in search_index.postings_ddl("postgresql"):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS search_lexemes")
    op.execute(OLD_FUNCTION)
    for statement in OLD_INDEXES:
        op.execute(statement)
