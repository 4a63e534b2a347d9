"""Driving a strategy on a paper portfolio over replayed history.

The strategy's target weights are computed the way the backtest computes them (one panel, no
look-ahead: a row uses data up to its date only). The clock then walks the sessions from
``start`` to ``end``: at each session's close the paper broker prices at that day's close; on
the strategy's rebalance dates its targets become one order batch; every session ends with a
snapshot. ``sector-momentum`` replays the stored-signal path: the 12-1 sector signal on the
first session of each month (over the sector ETFs, or the comma-separated ``universe``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from quantdesk.core.clock import SimulatedClock
from quantdesk.services import trading_book, trading_orders
from quantdesk.services.trading_session import PriceBook
from quantdesk.services.trading_types import ReplayResult, TradingError

if TYPE_CHECKING:
    from quantdesk.services.trading import TradingService

CLOSE = time(21, 0)  # after the New York close in UTC, so the day's bar is the latest


def replay(
    service: TradingService,
    name: str,
    strategy: str,
    start: date,
    end: date,
    params: dict[str, Any],
    universe: str | None,
) -> ReplayResult:
    if start > end:
        raise TradingError(f"replay start {start} is after its end {end}")
    clock = service._clock
    if not isinstance(clock, SimulatedClock):
        raise TradingError(
            "a replay needs a simulated clock (the service was built with a live one)"
        )
    if strategy == "sector-momentum":
        symbols = (
            None if universe is None else [x.strip() for x in universe.split(",") if x.strip()]
        )
        schedule = _sector_schedule(service, start, end, symbols)
    else:
        schedule = _strategy_schedule(service, strategy, start, end, params, universe)
    rebalances = orders = 0
    # one session for the whole replay: state stays in memory, each batch is saved as it goes
    session = service._session(name)
    prices = session.prices
    assert isinstance(prices, PriceBook)
    for day, targets in schedule:
        clock.advance_to(datetime.combine(day, CLOSE, tzinfo=UTC))
        session.broker.on_prices()
        if targets is not None:
            result = trading_orders.rebalance(session, targets, strategy, 0.0, True, service.costs)
            rebalances += 1
            orders += len(result.orders)
        trading_book.snapshot(session, prices)
    final = trading_book.value(session, prices).equity if schedule else Decimal(0)
    return ReplayResult(name, strategy, start, end, rebalances, orders, final)


def _sector_schedule(
    service: TradingService, start: date, end: date, symbols: list[str] | None
) -> list[tuple[date, dict[str, float] | None]]:
    research = service._research
    if research is None:
        raise TradingError("the sector signal needs the research service")
    sessions = _sessions(service, start, end)
    out: list[tuple[date, dict[str, float] | None]] = []
    month = None
    for day in sessions:
        targets = None
        if (day.year, day.month) != month:
            month = (day.year, day.month)
            signal = research.sector_momentum_signal(day, symbols=symbols)
            targets = dict(signal.target_weights)
        out.append((day, targets))
    return out


def _strategy_schedule(
    service: TradingService,
    strategy: str,
    start: date,
    end: date,
    params: dict[str, Any],
    universe: str | None,
) -> list[tuple[date, dict[str, float] | None]]:
    weights, dates, symbols = _targets_panel(service, strategy, end, params, universe)
    out: list[tuple[date, dict[str, float] | None]] = []
    for row, stamp in enumerate(dates):
        day = stamp.astype("datetime64[D]").astype(date)
        if day < start or day > end:
            continue
        values = weights[row]
        targets = None
        if np.isfinite(values).any():
            targets = {
                symbols[i]: float(w) for i, w in enumerate(values) if np.isfinite(w) and w > 0
            }
        out.append((day, targets))
    return out


def _targets_panel(
    service: TradingService,
    strategy: str,
    end: date,
    params: dict[str, Any],
    universe: str | None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    from quantdesk.research.universe import parse_universe
    from quantdesk.services.backtest_run import (
        RunRequest,
        allocation_targets,
        build_strategy,
        prepare_inputs,
    )
    from quantdesk.strategies.base import AllocationStrategy

    if service._reference is None:
        raise TradingError("running a strategy needs the reference-data service")
    request = RunRequest(strategy=strategy, end=end, universe=parse_universe(universe or "all"))
    inputs = prepare_inputs(service._data, service._reference, request)
    built = build_strategy(strategy, params, inputs)
    if not isinstance(built, AllocationStrategy):
        raise TradingError(
            f"strategy {strategy!r} is a signal strategy; trade run replays allocation strategies"
        )
    weights = allocation_targets(built, inputs.panel)
    return weights, inputs.panel.dates, inputs.panel.symbols


def latest_targets(service: TradingService, strategy: str, today: date) -> dict[str, float]:
    """The strategy's most recent targets on or before ``today``."""
    weights, dates, symbols = _targets_panel(service, strategy, today, {}, None)
    for row in range(len(dates) - 1, -1, -1):
        values = weights[row]
        if np.isfinite(values).any():
            return {symbols[i]: float(w) for i, w in enumerate(values) if np.isfinite(w) and w > 0}
    raise TradingError(f"strategy {strategy!r} has no targets on or before {today}")


def _sessions(service: TradingService, start: date, end: date) -> list[date]:
    from quantdesk.data.calendar import TradingCalendar

    calendar = TradingCalendar("XNYS", start=start, end=end)
    return [stamp.date() for stamp in calendar.sessions(start, end)]
