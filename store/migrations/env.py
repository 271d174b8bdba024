"""Alembic environment: runs on the engine store.db hands over, never on a URL from a file."""

from alembic import context

from store.db import include_name
from store.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_name=include_name
    )
    context.run_migrations()
