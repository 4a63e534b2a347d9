"""The tables declare exactly the schema recorded in ``schema_snapshot.txt``.

The snapshot is every table's ``CREATE TABLE`` and ``CREATE INDEX`` on SQLite and PostgreSQL,
plus what DDL does not show: each column's key, Python-side default and type as SQLAlchemy
holds it. It pins the schema when the way the tables are declared changes (issue 11 moved them
from ORM classes to Core tables without changing a byte of it). A deliberate schema change comes
with a migration and a new snapshot::

    PYTHONPATH=src python tests/integration/db/test_table_definitions.py \\
        > tests/integration/db/schema_snapshot.txt
"""

from __future__ import annotations

import difflib
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from quantdesk.db.tables import Base

SNAPSHOT = Path(__file__).with_name("schema_snapshot.txt")


def render() -> str:
    """The schema as the tables declare it, one canonical text for both dialects."""
    lines: list[str] = []
    metadata = Base.metadata
    lines.append(f"naming {sorted(metadata.naming_convention.items(), key=str)!r}")
    for table in metadata.sorted_tables:
        lines.append(f"== {table.name} {sorted(table.dialect_kwargs.items())!r}")
        for column in table.columns:
            default = column.default.arg if column.default is not None else None
            lines.append(
                f"column key={column.key!r} name={column.name!r} type={column.type!r} "
                f"nullable={column.nullable} pk={column.primary_key} "
                f"autoincrement={column.autoincrement!r} default={default!r} "
                f"server_default={column.server_default!r} index={column.index!r} "
                f"unique={column.unique!r}"
            )
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            lines.append(f"-- {dialect.name}")
            lines.append(str(CreateTable(table).compile(dialect=dialect)).strip())
            for index in sorted(table.indexes, key=lambda index: str(index.name)):
                lines.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return "\n".join(lines) + "\n"


def test_the_tables_declare_the_recorded_schema() -> None:
    recorded = SNAPSHOT.read_text(encoding="utf-8")
    now = render()
    diff = "".join(
        difflib.unified_diff(
            recorded.splitlines(keepends=True), now.splitlines(keepends=True), "recorded", "now"
        )
    )
    assert now == recorded, f"the tables' schema changed (see this module's docstring):\n{diff}"


if __name__ == "__main__":
    print(render(), end="")
