"""Event-driven backtest engine: bar by bar, through the order model of :mod:`quantdesk.execution`.

The run is assembled from small parts: a :class:`~.event_broker.SimulatedBroker` (matching),
:class:`~.event_context.BacktestOrders` (the order intake), an :class:`~.event_ledger.ArrayLedger`
(cash and positions), a :class:`~.event_recorder.Recorder` (orders, fills, the result) and the
thin :class:`~.event_context.EventStrategyContext` the strategy trades through.

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

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from quantdesk.backtest.event_allocation import AllocationAdapter
from quantdesk.backtest.event_broker import SimulatedBroker
from quantdesk.backtest.event_context import EventStrategyContext
from quantdesk.backtest.event_ledger import ArrayLedger
from quantdesk.backtest.event_orders import BacktestOrders
from quantdesk.backtest.event_recorder import Recorder
from quantdesk.backtest.result import BacktestResult
from quantdesk.backtest.stops import StopLossRule
from quantdesk.core.clock import SimulatedClock
from quantdesk.data.panel import Panel
from quantdesk.execution.costs import CostModel, FillTiming
from quantdesk.execution.events import Fill
from quantdesk.execution.orders import Order
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
            self.strategy: SignalStrategy = AllocationAdapter(
                strategy, drift_threshold, stop_loss, vix
            )
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
        self.price_field, prices = panel.prices()
        marks = pd.DataFrame(prices).ffill().to_numpy()
        self.ledger = ArrayLedger(self.initial_cash, len(panel.symbols), marks)
        self.recorder = Recorder()
        self.broker = SimulatedBroker(
            panel,
            self.price_field,
            marks,
            self.ledger,
            self.recorder,
            costs=self.costs,
            clock=self.clock,
            fill_timing=self.fill_timing,
            participation=participation,
            allow_short=allow_short,
            fractional=fractional,
        )
        self.order_intake = BacktestOrders(
            self.broker, self.ledger, self.recorder, self.clock, strategy.name, self.costs
        )
        self.context = EventStrategyContext(
            panel, self.price_field, self.ledger, self.order_intake, fractional=fractional
        )
        if isinstance(self.strategy, AllocationAdapter):
            self.strategy.attach(self.order_intake, fractional=fractional)

    @property
    def orders(self) -> list[Order]:
        return list(self.recorder.orders.values())

    @property
    def fills(self) -> list[Fill]:
        return list(self.recorder.fills)

    def run(self) -> BacktestResult:
        broker, strategy, context = self.broker, self.strategy, self.context
        strategy.init(self.panel)
        advance, on_bar = self.clock.advance_to, strategy.on_bar
        check_exits = self.order_intake.check_exits
        # the queues are mutated in place, so these names stay valid for the whole run
        new, working, exits = broker.new, broker.working, broker.exits
        for i, moment in enumerate(_bar_times(self.panel.dates)):
            advance(moment)
            broker.i = context.i = i
            if working:
                broker.match_working()
            if exits:
                check_exits()
            on_bar(context)
            if new:
                broker.after_bar()
        broker.expire_all()
        return self.recorder.result(
            self.panel,
            self.ledger,
            strategy=self.source.name,
            params=self.source.params.model_dump(mode="json"),
            engine=ENGINE_NAME,
            price_field=self.price_field,
            rebalance_rows=getattr(self.strategy, "rebalance_rows", None),
        )


__all__ = ["ENGINE_NAME", "AllocationAdapter", "EventEngine", "EventStrategyContext", "run_events"]
