"""One ``executemany`` with the column types' bind processing done per value, not per statement.

On SQLite, ``connection.execute(insert(table), rows)`` rebuilds SQLAlchemy's parameter
structures for every row. Here the statement is compiled once, each value goes through its column
type's own bind processor (so what is stored is exactly what SQLAlchemy would store: exact money
text, JSON text, SQLite's datetime text) and the rows go to the driver's ``executemany`` in one
call. On PostgreSQL SQLAlchemy's own path is kept: it folds an INSERT's rows into multi-row
``VALUES`` statements, far fewer round trips than the driver's ``executemany``. Same transaction
as the caller's either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.dml import Insert, ValuesBase


def executemany(
    connection: Connection, statement: ValuesBase, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run ``statement`` (an INSERT, or an UPDATE whose values are bind parameters) once per row
    of ``rows`` (dicts with the same keys: column keys of an INSERT, bind names of an UPDATE)."""
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(statement, list(rows))
        return
    # an INSERT lists the columns of the rows; an UPDATE names its binds itself
    keys = list(rows[0]) if isinstance(statement, Insert) else None
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    processors: list[Callable[[Any], Any] | None] = [
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    # the row key of each bind (an UPDATE's binds may be renamed in the compiled form)
    keyed = [compiled.binds[name].key for name in names]
    plain = [k for k, process in zip(keyed, processors, strict=True) if process is None]
    if len(plain) == len(keyed):
        values = [tuple(row[k] for k in keyed) for row in rows]
    else:
        values = [
            tuple(
                raw if process is None or raw is None else process(raw)
                for process, raw in zip(processors, (row[k] for k in keyed), strict=True)
            )
            for row in rows
        ]
    parameters: list[Any] = (
        values if compiled.positional else [dict(zip(names, v, strict=True)) for v in values]
    )
    connection.exec_driver_sql(str(compiled), parameters)


__all__ = ["executemany"]
