"""Persistence: tables, migrations, repositories and the bulk fast paths."""

from quantdesk.db.database import Database

__all__ = ["Database"]
