"""Event-driven backtest engine: bar by bar, through the order model of :mod:`.orders`.

Each bar ``t`` (the panel's dates are the bar timestamps; daily or intraday):

1. the clock is advanced to the bar's timestamp;
2. working orders are matched against bar ``t``: market orders waiting for the next open fill at
   ``open[t]``; limit and stop orders by ``open/high/low[t]`` (gaps fill at the open); a DAY
   order expires before the first bar of a later date than the first bar it could fill on;
3. attached stop-loss / take-profit exits are checked on bar ``t`` (both hit → the stop-loss);
4. ``strategy.on_bar(context)`` decides;
5. with ``FillTiming.CLOSE`` the market orders it sent fill at bar ``t``'s price, in the order
   they were sent; limit and stop orders always rest until a later bar;
6. equity is cash plus positions marked at bar ``t``'s price.

An allocation strategy runs through :class:`AllocationAdapter` in step 4; with a
``StopLossRule`` it checks each long holding at bar ``t``'s price before deciding (the rule, the
same in the vectorised engine: :mod:`quantdesk.backtest.stops`).  Orders and fills carry a
``reason`` column: the order's tag (``rebalance``, ``stop_loss`` or ``take_profit`` for
allocation strategies and attached exits; whatever tag a signal strategy gave, else empty).

Orders sent on the final bar never fill (no later bar exists under ``NEXT_OPEN``, and both
timings keep one rule); they and every order still working end ``expired``.

Prices: holdings are valued with the panel's ``adj_close`` where it has one, else ``close``
(a symbol without a price on a bar keeps its last one); open/high/low are scaled by the same
adjustment factor so fills and marks share one price basis. Market and stop fills pay the cost
model's slippage; limit fills happen at the limit (slippage would break the limit). A buy the
cash cannot pay (commission included) is trimmed to what the cash affords and the rest of the
order is cancelled; with ``allow_short=False`` a sell is capped at the shares held.

The per-bar context is cheap on purpose (integer index, numpy arrays, no pandas), so a Python
``on_bar`` loop over a million 1-minute bars takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.event_allocation import AllocationAdapter
from quantdesk.backtest.event_context import EventContext
from quantdesk.backtest.orders import Fill, Order, OrderSide
from quantdesk.backtest.result import BacktestResult, empty_orders, round_trip_trades
from quantdesk.backtest.stops import StopLossRule
from quantdesk.core.clock import SimulatedClock
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy

ENGINE_NAME = "event"
_TIME_CHUNK = 65_536


def _bar_times(dates: np.ndarray) -> Iterator[datetime]:
    """Timezone-aware bar times, converted in chunks to keep memory flat on long runs."""
    index = pd.DatetimeIndex(dates).tz_localize(UTC)
    for start in range(0, len(index), _TIME_CHUNK):
        yield from index[start : start + _TIME_CHUNK].to_pydatetime()


def run_events(
    panel: Panel,
    strategy: SignalStrategy | AllocationStrategy,
    costs: CostModel | None = None,
    initial_cash: float = 1_000_000.0,
    *,
    clock: SimulatedClock | None = None,
    fill_timing: FillTiming | str | None = None,
    participation: float | None = None,
    allow_short: bool = False,
    fractional: bool = True,
    drift_threshold: float | None = None,
    stop_loss: StopLossRule | None = None,
    vix: np.ndarray | None = None,
) -> BacktestResult:
    """Run ``strategy`` bar by bar over ``panel`` and return the shared result type.

    ``costs`` defaults to ``CostModel()``; ``fill_timing`` defaults to ``costs.fill_timing``.
    An :class:`AllocationStrategy` runs through :class:`AllocationAdapter` (same orders as the
    vectorised engine). ``participation`` caps each fill at that fraction of the bar's volume
    (partial fills; off by default). ``fractional=False`` floors trimmed buys and allocation
    targets to whole shares. ``drift_threshold`` (allocation strategies only) also re-targets
    whenever a weight drifts more than that fraction from its target. ``stop_loss``
    (allocation strategies only; a signal strategy attaches exits to its orders) adds stop-loss
    / take-profit exits, with ``vix`` the VIX levels aligned to the panel's dates for a
    VIX-regime rule. ``clock`` defaults to a clock at the first bar.
    """
    return EventEngine(
        panel,
        strategy,
        costs,
        initial_cash,
        clock=clock,
        fill_timing=fill_timing,
        participation=participation,
        allow_short=allow_short,
        fractional=fractional,
        drift_threshold=drift_threshold,
        stop_loss=stop_loss,
        vix=vix,
    ).run()


class EventEngine:
    """One event-driven run; after :meth:`run`, ``orders`` and ``fills`` hold the domain values."""

    def __init__(
        self,
        panel: Panel,
        strategy: SignalStrategy | AllocationStrategy,
        costs: CostModel | None = None,
        initial_cash: float = 1_000_000.0,
        *,
        clock: SimulatedClock | None = None,
        fill_timing: FillTiming | str | None = None,
        participation: float | None = None,
        allow_short: bool = False,
        fractional: bool = True,
        drift_threshold: float | None = None,
        stop_loss: StopLossRule | None = None,
        vix: np.ndarray | None = None,
    ) -> None:
        if len(panel.dates) == 0:
            raise ValueError("panel has no bars to backtest")
        if not initial_cash > 0:
            raise ValueError(f"initial_cash must be > 0, got {initial_cash}")
        self.costs = costs if costs is not None else CostModel()
        self.fill_timing = FillTiming(fill_timing or self.costs.fill_timing)
        if isinstance(strategy, AllocationStrategy):
            adapter = AllocationAdapter(strategy, drift_threshold, stop_loss, vix)
            self.strategy: SignalStrategy = adapter
        elif stop_loss is not None:
            raise ValueError(
                f"stop_loss applies to allocation strategies; signal strategy {strategy.name!r}"
                " attaches stop_loss/take_profit levels to its orders instead"
            )
        else:
            self.strategy = strategy
        self.source = strategy
        self.panel = panel
        self.initial_cash = float(initial_cash)
        first = pd.Timestamp(panel.dates[0]).tz_localize(UTC).to_pydatetime()
        self.clock = clock if clock is not None else SimulatedClock(first)
        self.context = EventContext(
            panel,
            costs=self.costs,
            initial_cash=self.initial_cash,
            clock=self.clock,
            fill_timing=self.fill_timing,
            strategy_name=strategy.name,
            participation=participation,
            allow_short=allow_short,
            fractional=fractional,
        )

    @property
    def orders(self) -> list[Order]:
        return list(self.context.orders.values())

    @property
    def fills(self) -> list[Fill]:
        return list(self.context.fills)

    def run(self) -> BacktestResult:
        context, strategy = self.context, self.strategy
        strategy.init(self.panel)
        advance, on_bar = self.clock.advance_to, strategy.on_bar
        # the queues are mutated in place, so these names stay valid for the whole run
        new, working, exits = context._new, context._working, context._exits
        for i, moment in enumerate(_bar_times(self.panel.dates)):
            advance(moment)
            context._i = i
            if working:
                context._match_working()
            if exits:
                context._check_exits()
            on_bar(context)
            if new:
                context._after_bar()
        context._expire_all()
        return self._result()

    def _result(self) -> BacktestResult:
        ctx, panel = self.context, self.panel
        T, N = panel.shape
        dates = pd.DatetimeIndex(panel.dates, name="date")
        cash_log = pd.Series(ctx._cash_log, dtype=np.float64).reindex(range(T)).ffill()
        cash = cash_log.fillna(self.initial_cash).to_numpy()
        positions = np.full((T, N), np.nan)
        positions[0] = 0.0
        for i, j, shares in ctx._position_log:
            positions[i, j] = shares
        positions = pd.DataFrame(positions).ffill().to_numpy()
        value = np.where(positions != 0.0, positions * ctx._px, 0.0)
        equity = cash + value.sum(axis=1)
        returns = np.empty(T)
        returns[0] = equity[0] / self.initial_cash - 1.0
        returns[1:] = equity[1:] / equity[:-1] - 1.0
        notional = np.zeros(T)
        for i, _, _, quantity, price, _, _ in ctx._fill_rows:
            notional[i] += quantity * price
        pre = np.full(T, np.nan)
        pre[list(ctx._pre_trade_equity)] = list(ctx._pre_trade_equity.values())
        turnover = np.where(notional > 0, notional / pre, 0.0)
        costs = np.zeros(T)
        for i, paid in ctx._costs_paid.items():
            costs[i] = paid
        fills = _frame(ctx._fill_rows, panel, with_commission=True, orders=ctx.orders)
        orders = _orders_frame(ctx, panel)
        last_prices = {s: float(ctx._px[-1, j]) for j, s in enumerate(panel.symbols)}
        rebalance_rows = getattr(self.strategy, "rebalance_rows", None)
        if rebalance_rows is None:
            rebalance_rows = sorted({row[0] for row in ctx._fill_rows})
        columns = list(panel.symbols)
        return BacktestResult(
            strategy=self.source.name,
            params=self.source.params.model_dump(mode="json"),
            engine=ENGINE_NAME,
            price_field=ctx.price_field,
            initial_cash=self.initial_cash,
            dates=dates,
            symbols=panel.symbols,
            equity=pd.Series(equity, index=dates, name="equity"),
            returns=pd.Series(returns, index=dates, name="returns"),
            cash=pd.Series(cash, index=dates, name="cash"),
            weights=pd.DataFrame(value / equity[:, None], index=dates, columns=columns),
            positions=pd.DataFrame(positions, index=dates, columns=columns),
            orders=orders,
            fills=fills,
            trades=round_trip_trades(fills, last_prices),
            turnover=pd.Series(turnover, index=dates, name="turnover"),
            costs=pd.Series(costs, index=dates, name="costs"),
            rebalance_dates=dates[np.asarray(rebalance_rows, dtype=np.int64)],
        )


def _frame(
    rows: list[tuple[int, int, bool, float, float, float, str]],
    panel: Panel,
    with_commission: bool,
    orders: Mapping[str, Order],
) -> pd.DataFrame:
    if not rows:
        empty = empty_orders()
        empty["reason"] = pd.Series(dtype=object)
        return empty
    bar, column, buy, quantity, price, commission, order_id = zip(*rows, strict=True)
    symbols = np.asarray(panel.symbols, dtype=object)
    return pd.DataFrame(
        {
            "date": panel.dates[np.asarray(bar)].astype("datetime64[ns]"),
            "symbol": symbols[np.asarray(column)],
            "side": np.where(np.asarray(buy), OrderSide.BUY.value, OrderSide.SELL.value).astype(
                object
            ),
            "quantity": np.asarray(quantity, dtype=np.float64),
            "price": np.asarray(price, dtype=np.float64),
            "commission": np.asarray(commission, dtype=np.float64)
            if with_commission
            else np.zeros(len(rows)),
            "order_id": np.asarray(order_id, dtype=object),
            "reason": np.asarray([orders[oid].tag for oid in order_id], dtype=object),
        }
    )


def _orders_frame(ctx: EventContext, panel: Panel) -> pd.DataFrame:
    """One row per order sent: decision bar, ordered quantity, decision (or limit/stop) price and
    the commission its fills paid."""
    paid: dict[str, float] = {}
    for *_, commission, order_id in ctx._fill_rows:
        paid[order_id] = paid.get(order_id, 0.0) + commission
    rows = [
        (i, j, buy, quantity, price, paid.get(order_id, 0.0), order_id)
        for i, j, buy, quantity, price, order_id in ctx._order_rows
    ]
    return _frame(rows, panel, with_commission=True, orders=ctx.orders)


__all__ = ["ENGINE_NAME", "AllocationAdapter", "EventContext", "EventEngine", "run_events"]
