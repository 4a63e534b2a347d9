"""Transaction-cost analysis: what each order cost against the prices we could have had.

Three prices per order: the **decision price** (when the strategy decided), the **arrival price**
(when the order was sent) and the average **fill price**. Every figure is in basis points
(1 bp = 0.01 %), signed *against the side*: positive is a cost (a buy filled above, a sell
below, its reference), negative an improvement.

- ``slippage_bp``: fill vs arrival (what the venue cost us; the backtest cost model's
  ``slippage_bps`` measures the same thing),
- ``shortfall_bp``: fill vs decision (implementation shortfall),
- ``delay_bp``: arrival vs decision (what waiting to send cost).

Statistics use the sample standard deviation; an order is an outlier when its slippage is more
than ``outlier_std`` (default 2) standard deviations from the mean of all orders analysed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

BASIS_POINTS = 10_000.0


class TcaGrouping(StrEnum):
    SYMBOL = "symbol"
    STRATEGY = "strategy"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class OrderPrices:
    """One order's reference and fill prices (currency per share); ``side`` is ``buy``/``sell``.

    ``decision_price`` / ``arrival_price`` may be unknown (``None``), e.g. for a manual trade.
    """

    client_order_id: str
    symbol: str
    strategy: str
    side: str
    quantity: float
    decided_at: datetime
    decision_price: float | None
    arrival_price: float | None
    fill_price: float


@dataclass(frozen=True, slots=True)
class OrderCost:
    """The costs of one order in bp against its side (NaN where a reference is unknown)."""

    client_order_id: str
    symbol: str
    strategy: str
    side: str
    month: str
    quantity: float
    notional: float
    decision_price: float | None
    arrival_price: float | None
    fill_price: float
    slippage_bp: float
    shortfall_bp: float
    delay_bp: float
    is_outlier: bool


@dataclass(frozen=True, slots=True)
class SlippageStatistics:
    """Slippage (fill vs arrival, bp) of a group of orders; ``group`` is "all" for every order.

    ``weighted_mean_bp`` weights each order by its notional; ``mean_shortfall_bp`` is the mean
    fill-vs-decision cost. Orders without an arrival price are counted but not in the figures.
    """

    group: str
    orders: int
    measured: int
    mean_bp: float
    median_bp: float
    std_bp: float
    min_bp: float
    max_bp: float
    weighted_mean_bp: float
    mean_shortfall_bp: float
    outliers: int
    notional: float


@dataclass(frozen=True, slots=True)
class TcaReport:
    orders: tuple[OrderCost, ...]
    overall: SlippageStatistics
    by: TcaGrouping | None
    groups: tuple[SlippageStatistics, ...]


def cost_bp(side: str, reference: float | None, price: float) -> float:
    """``price`` against ``reference`` in bp, positive when it hurts a ``side`` order."""
    if reference is None or not math.isfinite(reference) or reference <= 0:
        return math.nan
    sign = _sign(side)
    return sign * (price - reference) / reference * BASIS_POINTS


def analyse(
    prices: Iterable[OrderPrices],
    by: TcaGrouping | None = None,
    outlier_std: float = 2.0,
) -> TcaReport:
    """Per-order costs, their statistics over all orders and, with ``by``, per group."""
    rows = [_order_cost(p) for p in prices]
    slippages = [r.slippage_bp for r in rows if not math.isnan(r.slippage_bp)]
    mean = statistics.fmean(slippages) if slippages else math.nan
    std = statistics.stdev(slippages) if len(slippages) > 1 else math.nan
    if math.isfinite(std) and std > 0:
        rows = [
            _with_outlier(r, abs(r.slippage_bp - mean) > outlier_std * std)
            if not math.isnan(r.slippage_bp)
            else r
            for r in rows
        ]
    overall = _statistics("all", rows)
    groups: tuple[SlippageStatistics, ...] = ()
    if by is not None:
        key = _GROUP_KEYS[by]
        names = sorted({key(r) for r in rows})
        groups = tuple(_statistics(name, [r for r in rows if key(r) == name]) for name in names)
    return TcaReport(orders=tuple(rows), overall=overall, by=by, groups=groups)


def _sign(side: str) -> float:
    value = str(side).lower()
    if value == "buy":
        return 1.0
    if value == "sell":
        return -1.0
    raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")


def _order_cost(p: OrderPrices) -> OrderCost:
    _sign(p.side)
    return OrderCost(
        client_order_id=p.client_order_id,
        symbol=p.symbol,
        strategy=p.strategy,
        side=str(p.side).lower(),
        month=p.decided_at.strftime("%Y-%m"),
        quantity=p.quantity,
        notional=abs(p.quantity) * p.fill_price,
        decision_price=p.decision_price,
        arrival_price=p.arrival_price,
        fill_price=p.fill_price,
        slippage_bp=cost_bp(p.side, p.arrival_price, p.fill_price),
        shortfall_bp=cost_bp(p.side, p.decision_price, p.fill_price),
        delay_bp=(
            math.nan
            if p.arrival_price is None
            else cost_bp(p.side, p.decision_price, p.arrival_price)
        ),
        is_outlier=False,
    )


def _with_outlier(row: OrderCost, outlier: bool) -> OrderCost:
    return replace(row, is_outlier=outlier)


def _statistics(group: str, rows: Sequence[OrderCost]) -> SlippageStatistics:
    measured = [r for r in rows if not math.isnan(r.slippage_bp)]
    values = [r.slippage_bp for r in measured]
    shortfalls = [r.shortfall_bp for r in rows if not math.isnan(r.shortfall_bp)]
    notional = sum(r.notional for r in measured)
    return SlippageStatistics(
        group=group,
        orders=len(rows),
        measured=len(values),
        mean_bp=statistics.fmean(values) if values else math.nan,
        median_bp=statistics.median(values) if values else math.nan,
        std_bp=statistics.stdev(values) if len(values) > 1 else math.nan,
        min_bp=min(values) if values else math.nan,
        max_bp=max(values) if values else math.nan,
        weighted_mean_bp=(
            sum(r.slippage_bp * r.notional for r in measured) / notional if notional else math.nan
        ),
        mean_shortfall_bp=statistics.fmean(shortfalls) if shortfalls else math.nan,
        outliers=sum(r.is_outlier for r in rows),
        notional=sum(r.notional for r in rows),
    )


_GROUP_KEYS: dict[TcaGrouping, Callable[[OrderCost], str]] = {
    TcaGrouping.SYMBOL: lambda r: r.symbol,
    TcaGrouping.STRATEGY: lambda r: r.strategy or "(none)",
    TcaGrouping.MONTH: lambda r: r.month,
}

__all__ = [
    "OrderCost",
    "OrderPrices",
    "SlippageStatistics",
    "TcaGrouping",
    "TcaReport",
    "analyse",
    "cost_bp",
]
