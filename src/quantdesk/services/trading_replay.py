"""Driving a strategy on a paper portfolio over replayed history.

A registered strategy (allocation or signal) runs as the event backtest runs it: the same
inputs (:func:`strategy_inputs`: panel, warm-up rows before ``start``, the strategy object and
its precomputed decisions), bar by bar through :class:`~.trading_runner.PaperRunner`, so with
the backtest's cost model and share rounding the replay's equity equals the backtest's.
``sector-momentum`` replays the stored-signal path: the 12-1 sector signal on the first
session of each month (over the sector ETFs, or the comma-separated ``universe``), executed as
a rebalance at that day's close.

Either way the strategy trades its own book of the portfolio (the book named after it, funded
with ``portfolio deposit P AMOUNT --strategy NAME``): its cash and positions only, never the
unallocated book's or another strategy's. A book with nothing in it is refused, named.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from quantdesk.core.clock import SimulatedClock
from quantdesk.data.panel import Panel
from quantdesk.execution import CostModel
from quantdesk.services import trading_book, trading_orders
from quantdesk.services.trading_reconcile import reconcile
from quantdesk.services.trading_runner import PanelPrices, PaperRunner
from quantdesk.services.trading_session import PortfolioSession, PriceBook
from quantdesk.services.trading_types import ReplayResult, TradingError, book_label
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy, StrategyParams

if TYPE_CHECKING:
    from quantdesk.services.trading import TradingService

CLOSE = time(21, 0)  # after the New York close in UTC, so the day's bar is the latest
SECTOR_SIGNAL = "sector-momentum"  # trade run replays the sector 12-1 signal under this name
Progress = Callable[[int, int], None]


def replay(
    service: TradingService,
    name: str,
    strategy: str,
    start: date,
    end: date,
    params: dict[str, Any],
    universe: str | None,
    *,
    costs: CostModel | None = None,
    fractional: bool = True,
    price_field: str | None = None,
    progress: Progress | None = None,
    first_sent: bool = False,
) -> ReplayResult:
    """Run ``strategy`` on portfolio ``name`` from ``start`` to ``end`` (see module doc).

    ``costs`` default to the service's (the paper broker's: 5 bp, $1 per order); give the
    backtest's to reproduce a backtest. ``fractional``: fractional shares (the event backtest's
    default) or whole shares. ``price_field``: ``None`` trades and values at the backtest's
    (the adjusted close), ``"close"`` at the raw close. ``progress(done, total)`` is called
    after each bar. ``first_sent``: ``start``'s batch already reached the paper venue (an
    interrupted replay, see :mod:`.trading_resume`): that session is valued, not traded again."""
    if start > end:
        raise TradingError(f"replay start {start} is after its end {end}")
    clock = service._clock
    if not isinstance(clock, SimulatedClock):
        raise TradingError(
            "a replay needs a simulated clock (the service was built with a live one)"
        )
    if strategy == SECTOR_SIGNAL:
        symbols = (
            None if universe is None else [x.strip() for x in universe.split(",") if x.strip()]
        )
        if first_sent:
            raise TradingError("sector-momentum replays continue after their last snapshot")
        return _replay_signal(service, name, start, end, symbols, progress)
    costs = costs if costs is not None else service.costs
    panel, runnable = strategy_inputs(service, strategy, start, end, params, universe, costs)
    runner = portfolio_runner(
        service, name, strategy, panel, runnable, costs, fractional, price_field
    )
    first = runner.bar_time(0)
    if clock.now() > first:
        raise TradingError(
            f"the clock ({clock.now():%Y-%m-%d %H:%M} UTC) is past the replay's first bar "
            f"({first:%Y-%m-%d}): replay into a portfolio created before {start}"
        )
    runner.run(range(len(panel.dates)), replay=True, progress=progress, first_sent=first_sent)
    final = trading_book.value(runner.session, runner.prices).equity
    return ReplayResult(
        name, strategy, start, end, len(runner.decision_rows), runner.orders_sent, final
    )


def portfolio_runner(
    service: TradingService,
    name: str,
    book: str,
    panel: Panel,
    runnable: AllocationStrategy | SignalStrategy,
    costs: CostModel,
    fractional: bool,
    price_field: str | None = None,
) -> PaperRunner:
    """A runner of ``runnable`` on strategy ``book`` of portfolio ``name``: a session priced
    from ``panel``, reconciled with its paper venue first; an empty book is refused."""
    record = service._record(name)
    prices = PanelPrices(service._data, service._clock, panel.symbols)
    session = PortfolioSession(service._db, service._clock, record, prices, costs)
    reconcile(session)
    ensure_funded(session, book)
    return PaperRunner(
        session,
        panel,
        runnable,
        prices,
        costs,
        fractional=fractional,
        book=book,
        price_field=price_field,
    )


def ensure_funded(session: PortfolioSession, book: str) -> None:
    """Refuse to drive a strategy on a book with nothing in it (no cash, no position, no open
    order): its orders could only be trimmed to nothing, and the cash of the portfolio's other
    books is not the strategy's to spend."""
    ledger, account = session.ledger, session.account
    if ledger.cash(account, book) > 0 or ledger.positions(account, book):
        return
    if session.manager.open_orders(book):
        return
    name = session.portfolio.name
    deposit = f"quantdesk portfolio deposit {name} AMOUNT" + (f" --strategy {book}" if book else "")
    raise TradingError(
        f"{book_label(book)} of portfolio {name!r} has no cash or positions to trade: fund it "
        f"with '{deposit}'"
    )


def strategy_inputs(
    service: TradingService,
    strategy: str,
    start: date | None,
    end: date | None,
    params: dict[str, Any],
    universe: str | None,
    costs: CostModel,
    *,
    next_session: date | None = None,
) -> tuple[Panel, AllocationStrategy | SignalStrategy]:
    """The panel and strategy object the event backtest of the same run trades (the backtest
    service's rules: an allocation strategy's look-back is loaded before ``start`` and its
    decisions computed once; delisted symbols' targets dropped). ``next_session``: the
    calendar's session after the panel's last (live trading), so the last date can end a
    rebalance period."""
    from quantdesk.research.universe import parse_universe
    from quantdesk.services.backtest_run import (
        Precomputed,
        RunRequest,
        allocation_targets,
        build_strategy,
        delist,
        prepare_inputs,
        strategy_class,
        warmup_rows,
    )
    from quantdesk.strategies.base import validate_params
    from quantdesk.strategies.warmup import warmed_up

    if service._reference is None:
        raise TradingError("running a strategy needs the reference-data service")
    cls = strategy_class(strategy)
    validated = validate_params(cls.name, cls.Params, params)
    # the declared look-back is loaded before the start, which is the first decision date for
    # allocation and signal strategies alike (the backtest service's rule)
    warmup = warmup_rows(cls, validated) if start is not None else 0
    request = RunRequest(
        strategy=strategy,
        start=start,
        end=end,
        universe=parse_universe(universe if universe is not None else cls.default_universe),
        engine="event",
        costs=costs,
    )
    inputs = prepare_inputs(
        service._data, service._reference, request, warmup=warmup, params=validated
    )
    traded = inputs.traded()
    built = build_strategy(strategy, params, inputs)
    if next_session is not None and isinstance(built, AllocationStrategy):
        built = KnownNextSession(built, next_session)
    runnable: AllocationStrategy | SignalStrategy = built
    if isinstance(built, AllocationStrategy):
        all_targets = allocation_targets(built, inputs.panel)
        targets, delisted = delist(traded.panel, all_targets[inputs.warmup :])
        if inputs.warmup or delisted:
            mask = np.asarray(built.rebalance_mask(inputs.panel.dates), dtype=bool)
            runnable = Precomputed(built, mask[inputs.warmup :], targets)
    else:
        runnable = warmed_up(built, inputs.panel, inputs.warmup)
    return traded.panel, runnable


class KnownNextSession(AllocationStrategy):
    """An allocation strategy whose last date's period end is decided by the calendar's next
    session (live trading has no next bar to look at)."""

    name: ClassVar[str] = "known-next-session"

    def __init__(self, inner: AllocationStrategy, next_session: date) -> None:
        self.inner = inner
        self.next_session = np.datetime64(next_session, "ns")
        self.params: StrategyParams = inner.params
        self.name = inner.name  # type: ignore[misc]  # reports under the wrapped name

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        extended = np.append(np.asarray(dates, dtype="datetime64[ns]"), self.next_session)
        return np.asarray(self.inner.rebalance_mask(extended), dtype=bool)[:-1]

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        return self.inner.target_weights(panel, rebalance_mask)


def _replay_signal(
    service: TradingService,
    name: str,
    start: date,
    end: date,
    symbols: list[str] | None,
    progress: Progress | None,
) -> ReplayResult:
    clock = service._clock
    assert isinstance(clock, SimulatedClock)
    schedule = _sector_schedule(service, start, end, symbols)
    rebalances = orders = 0
    # one session for the whole replay: state stays in memory, each batch is saved as it goes
    session = service._session(name)
    ensure_funded(session, SECTOR_SIGNAL)
    prices = session.prices
    assert isinstance(prices, PriceBook)
    for done, (day, targets) in enumerate(schedule, start=1):
        clock.advance_to(datetime.combine(day, CLOSE, tzinfo=UTC))
        session.broker.on_prices()
        if targets is not None:
            result = trading_orders.rebalance(
                session, targets, SECTOR_SIGNAL, 0.0, True, service.costs, SECTOR_SIGNAL
            )
            rebalances += 1
            orders += len(result.orders)
        trading_book.snapshot(session, prices)
        if progress is not None:
            progress(done, len(schedule))
    final = trading_book.value(session, prices).equity if schedule else Decimal(0)
    return ReplayResult(name, "sector-momentum", start, end, rebalances, orders, final)


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
