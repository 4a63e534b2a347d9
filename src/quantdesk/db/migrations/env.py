"""Alembic environment: quantdesk passes its engine in ``config.attributes``.

The whole upgrade (every pending migration and the version stamp) is one transaction taken
under the schema lock: a kill or a full disk leaves the previous schema, and a second process
upgrading at the same time waits, then finds the schema current.
"""

from __future__ import annotations

from alembic import context

from quantdesk.db.engine import clear_abandoned_schema, serialise, write_transaction
from quantdesk.db.tables import Base

engine = context.config.attributes["engine"]

with write_transaction(engine) as connection:
    serialise(connection, "schema")
    clear_abandoned_schema(connection, set(Base.metadata.tables))
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
