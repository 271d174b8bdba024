"""Alembic environment: runs on the engine store.db hands over, never on a URL from a file."""

from alembic import context

from store.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
