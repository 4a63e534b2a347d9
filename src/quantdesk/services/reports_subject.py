"""What a portfolio report is made of when its subject is a strategy's sub-ledger: the book's
own snapshots, its fills, and its orders (its own, its share of netted orders, its internal
crosses); or, for the whole portfolio, the portfolio's snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date
from decimal import Decimal

from quantdesk.db.database import Database
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.execution import Fill
from quantdesk.reports.period import ReportError
from quantdesk.services.trading_types import OrderView

Shot = trading_repo.SnapshotRecord | trading_repo.BookSnapshotRecord


@dataclass(frozen=True, slots=True)
class SubjectHistory:
    """``subject`` names it in errors; ``fills`` are the book's own (empty for a portfolio)."""

    subject: str
    snapshots: Sequence[Shot]
    fills: list[Fill]


def subject_history(
    database: Database, name: str, strategy: str | None, ordered: set[str]
) -> SubjectHistory:
    """The portfolio's snapshots, or the strategy book's own snapshots and fills; ``ordered``
    are the strategies of its orders (a strategy known to none of them is an error)."""
    with database.read() as connection:
        record = trading_repo.get_portfolio(connection, name)
        assert record is not None
        known = set(trading_repo.strategies(connection, record.id)) | ordered
        if strategy is None:
            shots = trading_repo.snapshots(connection, record.id)
            return SubjectHistory(f"portfolio {name!r}", _nonempty(shots, name, None), [])
        books = trading_repo.book_snapshots(connection, record.id, strategy)
        if strategy not in known and not books:
            listing = ", ".join(repr(k) for k in sorted(known) if k) or "none"
            raise ReportError(
                f"portfolio {name!r} has no strategy {strategy!r} (its strategies: {listing})"
            )
        fills = [
            f
            for f in orders_repo.executions(connection, record.account_id, record.id)
            if f.strategy == strategy
        ]
    subject = f"strategy {strategy!r} of portfolio {name!r}"
    return SubjectHistory(subject, _nonempty(books, name, strategy), fills)


def _nonempty(snapshots: Sequence[Shot], name: str, strategy: str | None) -> Sequence[Shot]:
    if snapshots:
        return snapshots
    if strategy is None:
        raise ReportError(
            f"portfolio {name!r} has no daily snapshots yet: take one first "
            f"('quantdesk portfolio snapshot {name}')"
        )
    raise ReportError(
        f"strategy {strategy!r} of portfolio {name!r} has no book snapshots yet: take one "
        f"('quantdesk portfolio snapshot {name}'); a portfolio of several books has per-book "
        "history from schema 0010 on"
    )


def book_orders(
    name: str, every_order: list[OrderView], fills: list[Fill], strategy: str
) -> list[OrderView]:
    """A book's orders: its own, its share of netted orders (the fills split to it by the
    stored allocation, at their average price) and its internal crosses (no broker order, no
    arrival price: they fill at the close without commission)."""
    parts: dict[str, list[Fill]] = {}
    for fill in fills:
        parts.setdefault(str(fill.client_order_id), []).append(fill)
    out: list[OrderView] = []
    for order in every_order:
        own = parts.pop(order.client_order_id, [])
        if order.strategy == strategy:
            out.append(order)
        elif own:
            quantity, price = _filled(own)
            out.append(
                replace(
                    order,
                    strategy=strategy,
                    quantity=quantity,
                    filled_quantity=quantity,
                    average_fill_price=price,
                )
            )
    for cross_id, own in parts.items():
        quantity, price = _filled(own)
        first = own[0]
        out.append(
            OrderView(
                cross_id,
                name,
                strategy,
                first.symbol,
                str(first.side),
                quantity,
                "internal cross",
                None,
                "filled",
                quantity,
                price,
                first.filled_at,
                None,
                None,
            )
        )
    return out


def _filled(fills: list[Fill]) -> tuple[Decimal, Decimal]:
    """Shares and average price of fills of one order."""
    quantity = sum((f.quantity for f in fills), Decimal(0))
    return quantity, sum((f.quantity * f.price for f in fills), Decimal(0)) / quantity


def fill_day(fill: Fill) -> date:
    """The UTC day of a fill."""
    return fill.filled_at.astimezone(UTC).date()
