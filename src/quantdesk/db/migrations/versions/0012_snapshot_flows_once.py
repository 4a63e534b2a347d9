"""Stored snapshots' net flows re-counted so each cash flow is counted by exactly one snapshot.

Before this revision a snapshot dated ``d`` counted the flows dated from ``d`` to its clock's
date, so a flow made after a snapshot and dated before the next one's session (the deposit
before a replay's first session, a Saturday deposit with Friday's snapshot taken on Friday) was
counted by none. Snapshots now count the flows no earlier snapshot counted
(:func:`quantdesk.services.trading_book.flows_due`), which reads the stored net flows: left as
they were, the next snapshot would count every flow ever missed at once, a day's return of
−90 % on a replayed portfolio.

Each stored series (a portfolio's, and each book's with its own flows) is re-counted in date
order. The clock's date of snapshot ``i`` is estimated as the latest flow date ``x`` before the
next snapshot's date with ``flows[d_i .. x] = net_flows_i`` (what the old rule counted; the day
before ``d_i`` when it counted nothing), else ``d_i``; snapshot ``i`` then counts the flows dated
after snapshot ``i − 1``'s clock date up to its own. So a flow a snapshot held in its cash stays
with it, and a missed one goes to the first snapshot after it.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ZERO = Decimal(0)
# exact decimals: NUMERIC on PostgreSQL, text on SQLite (see quantdesk.db.tables.Money)
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")
_flows = sa.table(
    "cash_flows",
    sa.column("portfolio_id", sa.Integer),
    sa.column("strategy", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("amount", MONEY),
)


def upgrade() -> None:
    connection = op.get_bind()
    flows: dict[tuple[int, str], list[tuple[date, Decimal]]] = {}
    for portfolio_id, strategy, at, amount in connection.execute(
        sa.select(_flows.c.portfolio_id, _flows.c.strategy, _flows.c.at, _flows.c.amount)
    ):
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        flows.setdefault((int(portfolio_id), str(strategy)), []).append(
            (moment.date(), Decimal(str(amount)))
        )
    whole: dict[tuple[int, str], list[tuple[date, Decimal]]] = {}
    for (portfolio_id, _), items in flows.items():
        whole.setdefault((portfolio_id, ""), []).extend(items)
    _recount(connection, "portfolio_snapshots", None, whole)
    _recount(connection, "book_snapshots", "strategy", flows)


def _recount(
    connection: sa.Connection,
    name: str,
    book: str | None,
    flows: dict[tuple[int, str], list[tuple[date, Decimal]]],
) -> None:
    """Re-count every series of ``name`` (one per portfolio, or per portfolio and ``book``)."""
    columns: list[sa.ColumnClause[Any]] = [
        sa.column("portfolio_id", sa.Integer),
        sa.column("date", sa.Date),
        sa.column("net_flows", MONEY),
    ]
    if book:
        columns.append(sa.column(book, sa.String))
    table = sa.table(name, *columns)
    key: sa.ColumnElement[Any] = table.c[book] if book else sa.literal("")
    series: dict[tuple[int, str], list[tuple[date, Decimal]]] = {}
    rows = connection.execute(sa.select(table.c.portfolio_id, key, table.c.date, table.c.net_flows))
    for portfolio_id, strategy, stored, net in rows:
        day = stored if isinstance(stored, date) else date.fromisoformat(str(stored))
        series.setdefault((int(portfolio_id), str(strategy)), []).append((day, Decimal(str(net))))
    sqlite = connection.dialect.name == "sqlite"
    for (portfolio_id, strategy), shots in series.items():
        counted = recount(shots, flows.get((portfolio_id, strategy), []))
        for (day, old), new in zip(sorted(shots), counted, strict=True):
            if new == old:
                continue
            where = [table.c.portfolio_id == portfolio_id, table.c.date == day]
            if book:
                where.append(key == strategy)
            connection.execute(
                sa.update(table).where(*where).values(net_flows=str(new) if sqlite else new)
            )


def recount(
    shots: Sequence[tuple[date, Decimal]], flows: Sequence[tuple[date, Decimal]]
) -> list[Decimal]:
    """The net flows of ``shots`` (date, stored net flows), in date order, under the
    count-once rule (see module doc)."""
    shots = sorted(shots)
    by_day: dict[date, Decimal] = {}
    for day, amount in flows:
        by_day[day] = by_day.get(day, ZERO) + amount
    days = sorted(by_day)
    out: list[Decimal] = []
    seen = date.min  # the clock's date of the previous snapshot: flows up to it are counted
    for i, (day, stored) in enumerate(shots):
        following = shots[i + 1][0] if i + 1 < len(shots) else date.max
        clock, total = day, ZERO
        if stored == ZERO:
            clock = day - timedelta(days=1)
        for flow_day in days:
            if day <= flow_day < following:
                total += by_day[flow_day]
                if total == stored:
                    clock = flow_day
        clock = max(clock, seen)
        out.append(sum((a for d, a in by_day.items() if seen < d <= clock), ZERO))
        seen = clock
    return out


def downgrade() -> None:
    pass  # the old counts missed flows: nothing worth restoring
