"""Typed requests and results of the trading service (what the CLI and the REST API see).

Money and quantities are :class:`~decimal.Decimal` (currency, shares); weights and returns are
fractions; slippage is in basis points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from quantdesk.core.enums import Side
from quantdesk.core.errors import QuantdeskError


class TradingError(QuantdeskError, ValueError):
    """A trading request is invalid (unknown portfolio, bad trade, oversell, …); nothing written."""


class PortfolioChangedError(TradingError):
    """Another writer changed the portfolio's books between loading them and writing (a cash
    flow, fill, cross or order came in); nothing was written, the request may be tried again
    on the books as they are now."""


@dataclass(frozen=True, slots=True)
class PortfolioView:
    name: str
    account: str
    mode: str
    benchmark: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PositionView:
    """One holding; ``weight`` is a fraction of the portfolio's equity."""

    strategy: str
    symbol: str
    quantity: Decimal
    average_cost: Decimal | None
    price: Decimal
    market_value: Decimal
    unrealised_pnl: Decimal
    realised_pnl: Decimal
    weight: float


@dataclass(frozen=True, slots=True)
class BookValue:
    """One strategy's sub-ledger in a portfolio (``""``: the unallocated book); money in the
    account currency. The books of a portfolio sum to its figures."""

    strategy: str
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    net_deposits: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    commissions: Decimal
    positions: int


@dataclass(frozen=True, slots=True)
class BookPerformance:
    """One strategy book's record from its daily book snapshots (fractions): the time-weighted
    return since its first snapshot (its own deposits and withdrawals taken out), its deepest
    drawdown and the current one below its running peak (negative, quantstats convention: the
    peak starts at the first snapshot's value). ``None`` with fewer than two snapshots."""

    strategy: str
    first_date: date | None
    last_date: date | None
    snapshots: int
    time_weighted_return: float | None
    max_drawdown: float | None
    drawdown: float | None


@dataclass(frozen=True, slots=True)
class PortfolioValue:
    """``net_deposits`` are deposits − withdrawals; P&L before commissions, which are apart.
    ``books`` breaks the figures down per strategy sub-ledger."""

    name: str
    at: datetime
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    net_deposits: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    commissions: Decimal
    positions: tuple[PositionView, ...] = ()
    books: tuple[BookValue, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """A trade to place: shares > 0; ``limit_price`` makes it a limit order."""

    symbol: str
    side: Side
    quantity: Decimal | float | int | str
    limit_price: Decimal | float | int | str | None = None
    strategy: str = ""
    tag: str = ""
    decision_price: Decimal | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderView:
    client_order_id: str
    portfolio: str
    strategy: str
    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    status: str
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    created_at: datetime | None
    decision_price: Decimal | None
    arrival_price: Decimal | None


@dataclass(frozen=True, slots=True)
class DriftRow:
    """Current vs target weight of one symbol (fractions); ``drift`` = current − target."""

    symbol: str
    current_weight: float
    target_weight: float
    drift: float


@dataclass(frozen=True, slots=True)
class PlannedTrade:
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    notional: Decimal
    current_weight: float
    target_weight: float


@dataclass(frozen=True, slots=True)
class RebalanceResult:
    """The trade list (sells first) and, when executed, the orders placed; ``strategy`` is the
    book traded (``""``: the unallocated one)."""

    portfolio: str
    source: str
    as_of: date
    threshold: float
    drift: tuple[DriftRow, ...]
    trades: tuple[PlannedTrade, ...]
    skipped: tuple[PlannedTrade, ...]
    executed: bool
    orders: tuple[OrderView, ...] = ()
    strategy: str = ""


@dataclass(frozen=True, slots=True)
class CrossView:
    """One strategy's side of an internal cross (never sent to the broker, no commission)."""

    cross_id: str
    strategy: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class BooksRebalanceResult:
    """Several strategy books rebalanced as one netted batch: each book's own trade list,
    the internal crosses between books, and the net broker orders (one per symbol at most).
    ``skipped``: the named strategy books left out because they are disabled (they keep their
    positions and cash)."""

    portfolio: str
    source: str
    as_of: date
    books: tuple[RebalanceResult, ...]
    executed: bool
    crosses: tuple[CrossView, ...] = ()
    orders: tuple[OrderView, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TransferResult:
    """Cash or shares moved from book ``source`` to book ``target`` of one portfolio (``""``:
    the unallocated book), inside the account: nothing reaches the broker and the portfolio's
    cash, positions and equity are unchanged. ``value`` (currency) left one book and reached
    the other, a flow out of the first's returns and into the second's (never a deposit or
    withdrawal of the portfolio): the cash, or ``quantity`` shares × ``price``, the close of
    ``priced_on`` (the latest known at the transfer), crossed between the books as internal
    cross ``cross_id``. ``books``: the two books' figures after the transfer."""

    portfolio: str
    source: str
    target: str
    at: datetime
    value: Decimal
    symbol: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    priced_on: date | None = None
    cross_id: str | None = None
    books: tuple[BookValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """Something stored and the broker disagree on; ``kind`` names what."""

    kind: str  # position | cash | order_missing_at_broker | order_unknown_to_us
    subject: str
    ours: str
    broker: str


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    account: str
    adopted_orders: tuple[str, ...]
    adopted_fills: tuple[str, ...]
    closed_orders: tuple[str, ...]
    discrepancies: tuple[Discrepancy, ...]

    @property
    def clean(self) -> bool:
        return not self.discrepancies


@dataclass(frozen=True, slots=True)
class SnapshotView:
    date: date
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    net_flows: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal


@dataclass(frozen=True, slots=True)
class PortfolioHistory:
    """Daily snapshots and their time-weighted returns (flows excluded), fractions.

    ``metrics`` are the quantstats-style headline figures of those returns (empty with < 2
    snapshots).
    """

    portfolio: str
    snapshots: tuple[SnapshotView, ...]
    returns: tuple[float, ...]
    return_dates: tuple[date, ...]  # the day of each return (a day without one is left out)
    time_weighted_return: float
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JournalView:
    id: int
    portfolio: str
    client_order_id: str | None
    thesis: str | None
    intended_entry: str | None
    sizing_rationale: str | None
    exit_plan: str | None
    outcome: str | None
    lesson: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReplayResult:
    portfolio: str
    strategy: str
    start: date
    end: date
    rebalances: int
    orders: int
    final_equity: Decimal


UNALLOCATED = "unallocated"
"""What users call the unallocated book (strategy ``""``) where a book is named."""


def book_name(text: str) -> str:
    """The strategy of a book named by a user: ``unallocated`` (or nothing) is ``""``."""
    name = text.strip()
    return "" if name in ("", UNALLOCATED) else name


def book_label(strategy: str) -> str:
    """How messages name a strategy book: ``book momentum-12-1``, or the unallocated book."""
    return f"book {strategy}" if strategy else "the unallocated book"
