"""``quantdesk db …``: schema migrations."""

from __future__ import annotations

import typer

from quantdesk.cli.common import console, handle_errors

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command()
@handle_errors
def upgrade() -> None:
    """Create or upgrade the schema to the latest migration."""
    from quantdesk.config import Settings, redact_url
    from quantdesk.db.database import Database

    settings = Settings()
    database = Database(settings.resolved_database_url, auto_upgrade=False)
    revision = database.upgrade()
    console.print(f"{redact_url(database.url)} is at revision {revision}")
    database.dispose()
