"""One backtest run's inputs and engine call, shared by the service and optimisation workers.

:func:`prepare_inputs` turns a :class:`RunRequest` into a panel of the tradable universe, the
benchmark series and the data keywords strategies accept; :func:`build_strategy` creates the
strategy through the registry; :func:`run_engine` runs the chosen engine.

Universe rules (the one grammar of :mod:`quantdesk.research.universe`): index instruments and the
benchmark are never tradable. ``all`` is every equity instrument, ``etf`` the ETF instruments,
``index:NAME`` the members of index ``NAME`` on each date (point in time; needs
``quantdesk data membership``), anything else a comma-separated list (``symbol:ALL`` for a ticker
that spells a keyword).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.result import BacktestResult
from quantdesk.backtest.stops import StopLossRule
from quantdesk.core.enums import AssetClass, Timeframe
from quantdesk.core.errors import ConfigurationError, NotFoundError
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.data.panel import Panel
from quantdesk.research.universe import UniverseKind, UniverseSpec
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService
from quantdesk.services.research_universe import equity_symbols, etf_symbols
from quantdesk.services.strategy_data import StrategyData, resolve_benchmark
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy, StrategyParams
from quantdesk.strategies.registry import StrategyRegistry, default_registry
from quantdesk.strategies.requirements import BAR_FIELDS, DataRequirements
from quantdesk.strategies.signals import PrecomputedSignalStrategy
from quantdesk.strategies.warmup import warmed_up

ENGINES = ("auto", "vector", "event")


@dataclass(frozen=True)
class RunRequest:
    """What to backtest (picklable: optimisation workers rebuild the inputs from it)."""

    strategy: str
    start: date | None = None
    end: date | None = None
    universe: UniverseSpec = field(default_factory=lambda: UniverseSpec(UniverseKind.ALL))
    benchmark: str | None = None
    engine: str = "auto"
    costs: CostModel = field(default_factory=CostModel)
    initial_cash: float = 1_000_000.0
    stop_loss: StopLossRule | None = None
    vix_symbol: str = "^VIX"
    timeframe: Timeframe = Timeframe.D1

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigurationError(
                f"unknown engine {self.engine!r}; use {', '.join(ENGINES[1:])} (or auto)"
            )
        if not (math.isfinite(self.initial_cash) and self.initial_cash > 0):
            raise ConfigurationError(f"initial cash must be > 0, got {self.initial_cash!r}")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigurationError(f"start {self.start} is after end {self.end}")


@dataclass(frozen=True)
class RunInputs:
    """The data of one run: tradable panel, benchmark prices on its dates, strategy data."""

    panel: Panel
    benchmark_symbol: str | None
    benchmark: pd.Series | None
    universe_label: str
    point_in_time_index: str | None
    membership: np.ndarray | None
    strategy_data: dict[str, Any]
    vix: np.ndarray | None = None
    # what a user should know about the data (symbols whose data ends early), see ended_warnings
    warnings: tuple[str, ...] = ()
    # rows of ``panel`` before the requested start: history the strategy looks back on, never
    # traded or reported (``start`` is the first decision date)
    warmup: int = 0

    def traded(self) -> RunInputs:
        """These inputs from the first row on or after the requested start."""
        if self.warmup == 0:
            return self
        rows = slice(self.warmup, None)
        panel = Panel(
            self.panel.dates[rows],
            self.panel.symbols,
            {k: v[rows] for k, v in self.panel.fields.items()},
        )
        return replace(
            self,
            panel=panel,
            benchmark=None if self.benchmark is None else self.benchmark.iloc[rows],
            membership=None if self.membership is None else self.membership[rows],
            vix=None if self.vix is None else self.vix[rows],
            warmup=0,
        )


def warmup_rows(cls: type[Any], params: StrategyParams) -> int:
    """Sessions of history the strategy reads before its first decision (declared by the
    strategy's :meth:`data_requirements`)."""
    return requirements_of(cls, params).warmup


def requirements_of(cls: type[Any], params: StrategyParams) -> DataRequirements:
    """What ``cls`` with ``params`` reads; a class outside the strategy bases (a test double)
    is treated as reading every field."""
    declared = getattr(cls, "data_requirements", None)
    if callable(declared):
        needs = declared(params)
        if isinstance(needs, DataRequirements):
            return needs
    return DataRequirements(fields=BAR_FIELDS)


def default_params(cls: type[Any]) -> StrategyParams | None:
    """The strategy's default parameters, or None when some are required."""
    try:
        params: StrategyParams = cls.Params()
    except ValueError:  # pydantic's ValidationError: a parameter has no default
        return None
    return params


def strategy_class(name: str, registry: StrategyRegistry | None = None) -> type[Any]:
    """The registered class (unknown names raise with a "did you mean" hint)."""
    return (registry or default_registry()).get(name)


def engine_fields(engine: str, costs: CostModel) -> tuple[str, ...]:
    """Bar fields the engine reads besides the valuation price: open/high/low for the event
    engine's order matching, the open (and the raw close to put it on the valuation basis)
    for next-open fills."""
    if engine == "event":
        return ("open", "high", "low", "close")
    if costs.fill_timing is FillTiming.NEXT_OPEN:
        return ("open", "close")
    return ()


def prepare_inputs(
    data: DataService,
    reference: ReferenceDataService,
    request: RunRequest,
    *,
    registry: StrategyRegistry | None = None,
    warmup: int = 0,
    params: StrategyParams | None = None,
) -> RunInputs:
    """Load the tradable panel, the benchmark and the data the strategy declares
    (:meth:`data_requirements` of ``params``, the defaults when None).

    ``warmup``: trading rows of history to load before ``request.start`` (the first decision
    date), so a 12-month lookback does not keep the run in cash for its first year; the rows
    are in ``panel`` and counted in ``RunInputs.warmup``."""
    cls = strategy_class(request.strategy, registry)
    if params is None:
        params = default_params(cls)
    declared = (
        requirements_of(cls, params) if params is not None else DataRequirements(fields=BAR_FIELDS)
    )
    needs = replace(declared, warmup=warmup if request.start else 0)
    instruments = data.get_symbols()
    benchmark_symbol = resolve_benchmark(instruments, request.benchmark)
    symbols, label, index = resolve_universe(instruments, request.universe, benchmark_symbol)
    engine = resolve_engine(cls, request.engine)
    loaded = StrategyData(data, reference).load_inputs(
        needs,
        symbols,
        request.start,
        request.end,
        benchmark=benchmark_symbol,
        index=index,
        extra_fields=engine_fields(engine, request.costs),
        timeframe=request.timeframe,
        instruments=instruments,
        label=label,
    )
    panel = loaded.panel
    vix = None
    if request.stop_loss is not None:
        if not issubclass(cls, AllocationStrategy):
            raise ConfigurationError(
                f"stop-loss rules apply to allocation strategies; signal strategy "
                f"{request.strategy!r} attaches its exits to its own orders"
            )
        if request.stop_loss.uses_vix:
            vix = _vix_levels(data, instruments, panel, request)
    return RunInputs(
        panel,
        benchmark_symbol,
        loaded.benchmark,
        label,
        index,
        loaded.membership,
        loaded.keywords,
        vix,
        ended_warnings(_from_row(panel, loaded.warmup)),
        loaded.warmup,
    )


# sessions without a price after which a price counts as stale
STALE_SESSIONS = 5


def ended_warnings(panel: Panel) -> tuple[str, ...]:
    """A warning naming the symbols whose data ends more than :data:`STALE_SESSIONS` sessions
    before the run's last date (with their last dates): the engines value them at their last
    price from then on, which is stale."""
    _, prices = panel.prices()
    rows = len(panel.dates)
    last = last_price_rows(prices)
    ended = np.flatnonzero((last >= 0) & (last < rows - 1 - STALE_SESSIONS))
    if not len(ended):
        return ()
    end = pd.Timestamp(panel.dates[-1]).date()
    listed = ", ".join(
        f"{panel.symbols[k]} ({pd.Timestamp(panel.dates[last[k]]).date()})" for k in ended[:10]
    )
    more = f" and {len(ended) - 10} more" if len(ended) > 10 else ""
    return (
        f"data of {len(ended)} of {len(panel.symbols)} symbol(s) ends before the run's end "
        f"({end}): {listed}{more}; a position in them is valued at its last price until sold",
    )


def last_price_rows(prices: np.ndarray) -> np.ndarray:
    """Per column of ``prices`` (rows × symbols), the last row with a finite price, -1 when
    there is none. Columns priced on the last row are settled without a scan (most are)."""
    rows = prices.shape[0]
    last = np.full(prices.shape[1], -1, dtype=np.intp)
    if rows == 0:
        return last
    at_end = np.isfinite(prices[-1])
    last[at_end] = rows - 1
    rest = np.flatnonzero(~at_end)
    if len(rest):
        finite = np.isfinite(prices[:, rest])
        last[rest] = np.where(finite.any(axis=0), rows - 1 - np.argmax(finite[::-1], axis=0), -1)
    return last


def delist(panel: Panel, targets: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Targets with every symbol whose data has ended treated as delisted: from its last
    price on, a decision gives it weight 0, so a position is sold at its last price at the
    next decision instead of being held at that stale price for ever. Both engines receive
    these targets, so they stay equal. Returns the targets and a warning counting the exits
    this forced (none when the strategy already dropped the symbol).

    A symbol's data *ends* when it has no price after row ``L`` and ``L`` is more than
    :data:`STALE_SESSIONS` sessions before the panel's last date (a short gap at the end of the
    data is not a delisting).
    """
    _, prices = panel.prices()
    rows = len(panel.dates)
    if rows == 0:
        return targets, ()
    last = last_price_rows(prices)
    ended = (last >= 0) & (last < rows - 1 - STALE_SESSIONS)
    if not ended.any():
        return targets, ()
    # only decision rows can change: the work is on them, not on every row of the panel
    decisions = np.flatnonzero(np.isfinite(targets).any(axis=1))
    chosen = targets[decisions]
    gone = (decisions[:, None] > last[None, :]) & ended[None, :]
    forced = gone & (np.nan_to_num(chosen, nan=0.0) != 0.0)
    if not forced.any():
        return targets, ()
    out = targets.copy()
    out[decisions] = np.where(gone, 0.0, chosen)
    exits = np.flatnonzero(forced.any(axis=0))
    listed = ", ".join(
        f"{panel.symbols[k]} ({pd.Timestamp(panel.dates[last[k]]).date()})" for k in exits[:10]
    )
    return out, (
        f"{len(exits)} symbol(s) treated as delisted after their data ended, positions sold "
        f"at their last price at the next decision: {listed}",
    )


def stale_decision_warnings(panel: Panel, targets: np.ndarray) -> tuple[str, ...]:
    """A warning when a decision gives weight to a symbol whose latest price is more than
    :data:`STALE_SESSIONS` sessions old at that date (it trades at a stale price)."""
    _, prices = panel.prices()
    # a price is stale at row d when the symbol had one before and none in the last
    # STALE_SESSIONS + 1 rows: only the decision rows are looked at
    decisions = np.flatnonzero(np.isfinite(targets).any(axis=1))
    chosen = targets[decisions]
    hits = (chosen != 0.0) & ~np.isnan(chosen)
    for k, row in enumerate(decisions.tolist()):
        hits[k] &= ~np.isfinite(prices[max(row - STALE_SESSIONS, 0) : row + 1]).any(axis=0)
    columns = np.flatnonzero(hits.any(axis=0))
    if len(columns):
        finite = np.isfinite(prices[:, columns])
        first = np.where(finite.any(axis=0), np.argmax(finite, axis=0), len(panel.dates))
        hits[:, columns] &= first[None, :] < decisions[:, None] - STALE_SESSIONS
    if not hits.any():
        return ()
    dates = decisions[np.flatnonzero(hits.any(axis=1))]
    symbols = [panel.symbols[k] for k in np.flatnonzero(hits.any(axis=0))]
    first_date = pd.Timestamp(panel.dates[dates[0]]).date()
    return (
        f"{len(dates)} decision date(s) from {first_date} give weight to symbol(s) whose price "
        f"is more than {STALE_SESSIONS} sessions old: {', '.join(symbols[:10])}",
    )


def _vix_levels(
    data: DataService, instruments: list[InstrumentInfo], panel: Panel, request: RunRequest
) -> np.ndarray:
    """The VIX close on each panel date (carried forward; NaN before its first value)."""
    if request.vix_symbol not in {i.symbol for i in instruments}:
        raise NotFoundError(
            f"VIX-regime stops need the {request.vix_symbol} series in the database; import it, "
            "e.g. 'quantdesk data import indices_daily.csv.gz' (symbol ^VIX)"
        )
    loaded = data.load_panel([request.vix_symbol], ("close",), request.start, request.end)
    series = pd.Series(loaded["close"][:, 0], index=pd.DatetimeIndex(loaded.dates))
    dates = pd.DatetimeIndex(panel.dates)
    aligned = series.dropna().reindex(series.index.union(dates)).ffill().reindex(dates)
    return aligned.to_numpy(dtype=np.float64)


def resolve_engine(cls: type[Any], engine: str) -> str:
    """``auto`` is the vector engine for allocation strategies and for signal strategies with
    precomputed signals (both engines agree on them), else the event engine."""
    if engine != "auto":
        return engine
    vectorised = issubclass(cls, AllocationStrategy | PrecomputedSignalStrategy)
    return "vector" if vectorised else "event"


def resolve_universe(
    instruments: list[InstrumentInfo], universe: UniverseSpec, benchmark: str | None
) -> tuple[list[str], str, str | None]:
    """(symbols to load, label, index name for a point-in-time universe).

    The grammar is research's (:mod:`quantdesk.research.universe`): ``all`` is every equity
    instrument (ETFs, indexes and other classes excluded, so a stock strategy never drifts into
    sector ETFs when the stocks' data ends), ``etf`` the ETFs. Indexes and the benchmark are
    never tradable.
    """
    tradable = [
        i for i in instruments if i.asset_class is not AssetClass.INDEX and i.symbol != benchmark
    ]
    label = universe.label
    index = universe.index if universe.kind is UniverseKind.INDEX else None
    if universe.kind is UniverseKind.ALL:
        symbols = equity_symbols(tradable)
        if not symbols:
            raise NotFoundError(
                "universe 'all' has no equity instrument (it never mixes in ETFs or indexes); "
                "load data first ('quantdesk data sample') or name the symbols"
            )
    elif universe.kind is UniverseKind.ETF:
        # the same rule as research: labelled ETFs, else the stored SPDR sector ETFs
        symbols = etf_symbols(tradable)
    elif universe.kind is UniverseKind.INDEX:
        symbols = [i.symbol for i in tradable]
    else:
        symbols = list(universe.symbols)
        known = {i.symbol for i in instruments}
        for symbol in symbols:
            if symbol not in known:
                raise NotFoundError(
                    f"universe: unknown symbol {symbol!r}{_hint(symbol, sorted(known))}"
                )
        untradable = [s for s in symbols if s not in {i.symbol for i in tradable}]
        if untradable:
            raise ConfigurationError(
                f"universe: {', '.join(untradable)} is an index or the benchmark, not tradable"
            )
    if not symbols:
        raise NotFoundError("the universe is empty: load data first ('quantdesk data sample')")
    return sorted(set(symbols)), label, index


def build_strategy(
    name: str,
    params: dict[str, Any],
    inputs: RunInputs,
    registry: StrategyRegistry | None = None,
) -> AllocationStrategy | SignalStrategy:
    """Create the strategy with its parameters and the data keywords it accepts.

    Under a point-in-time universe the membership mask goes to strategies that take a
    ``universe`` keyword (every built-in allocation strategy: members are eligible on each
    decision date, history stays visible). A custom strategy without one sees non-member cells
    blanked instead, which also hides a new member's history until it has been a member for
    the strategy's lookback; the engine still values and trades with the full panel.
    """
    cls = strategy_class(name, registry)
    strategy: AllocationStrategy | SignalStrategy = cls(**params, **inputs.strategy_data)
    if inputs.membership is not None and "universe" not in inputs.strategy_data:
        if not isinstance(strategy, AllocationStrategy):
            raise ConfigurationError(
                f"strategy {name!r} is a signal strategy: point-in-time universes apply to "
                "allocation strategies"
            )
        strategy = MemberView(strategy, inputs.membership)
    return strategy


class MemberView(AllocationStrategy):
    """An allocation strategy that decides on members only (non-member cells are NaN)."""

    name: ClassVar[str] = "member-view"

    def __init__(self, inner: AllocationStrategy, membership: np.ndarray) -> None:
        self.inner = inner
        self.membership = membership
        self.params: StrategyParams = inner.params
        self.name = inner.name  # type: ignore[misc]  # reports under the wrapped name

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        return self.inner.rebalance_mask(dates)

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        view = Panel(
            panel.dates,
            panel.symbols,
            {k: np.where(self.membership, v, np.nan) for k, v in panel.fields.items()},
        )
        return self.inner.target_weights(view, rebalance_mask)


class Precomputed(AllocationStrategy):
    """An allocation strategy's decisions computed beforehand (on a panel with warm-up rows),
    replayed on the traded rows: both engines then trade exactly the same targets."""

    name: ClassVar[str] = "precomputed"

    def __init__(self, inner: AllocationStrategy, mask: np.ndarray, targets: np.ndarray) -> None:
        self.inner = inner
        self.mask = mask
        self.targets = targets
        self.params: StrategyParams = inner.params
        self.name = inner.name  # type: ignore[misc]  # reports under the wrapped name

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        if len(dates) != len(self.mask):
            raise ConfigurationError(
                f"precomputed decisions cover {len(self.mask)} dates, the panel {len(dates)}"
            )
        return self.mask

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        return self.targets


def run_engine(
    panel: Panel,
    strategy: AllocationStrategy | SignalStrategy,
    engine: str,
    request: RunRequest,
    *,
    targets: np.ndarray | None = None,
    benchmark: pd.Series | None = None,
    vix: np.ndarray | None = None,
) -> BacktestResult:
    """Run ``strategy`` on ``engine`` ("vector" or "event"); ``targets`` are an allocation
    strategy's weights when already computed (the vector engine then skips recomputing)."""
    costs, cash = request.costs, request.initial_cash
    stop_loss = request.stop_loss
    if engine == "event":
        from quantdesk.backtest.event import run_events

        stops: dict[str, Any] = {"stop_loss": stop_loss, "vix": vix} if stop_loss else {}
        result = run_events(panel, strategy, costs, cash, **stops)
    elif isinstance(strategy, AllocationStrategy):
        from quantdesk.backtest.vectorized import run_allocation

        weights = targets if targets is not None else allocation_targets(strategy, panel)
        result = run_allocation(
            panel, weights, costs, initial_cash=cash, stop_loss=stop_loss, vix=vix
        )
        params = strategy.params.model_dump(mode="json")
        result = replace(result, strategy=strategy.name, params=params)
    else:
        from quantdesk.backtest.signals import run_signal_strategy

        if not isinstance(strategy, PrecomputedSignalStrategy):
            raise ConfigurationError(
                f"signal strategy {strategy.name!r} has no vectorised path (it decides bar by "
                "bar); use engine 'event'"
            )
        result = run_signal_strategy(panel, strategy, costs, cash)
    if benchmark is not None:
        result = replace(result, benchmark=benchmark.reindex(result.dates))
    return result


@dataclass(frozen=True)
class EngineRun:
    """A strategy run on the traded rows of its inputs: the result, and for allocation
    strategies the targets traded (after delisting), the targets on every row of the inputs
    (warm-up included) and the delisting warnings."""

    result: BacktestResult
    targets: np.ndarray | None = None
    all_targets: np.ndarray | None = None
    delisted: tuple[str, ...] = ()


def run_from_start(
    strategy: AllocationStrategy | SignalStrategy,
    inputs: RunInputs,
    engine: str,
    request: RunRequest,
) -> EngineRun:
    """Run ``strategy`` (built on ``inputs``) on the rows from the requested start: the
    ``inputs.warmup`` rows before it are history the strategy decides on, never traded, so the
    start is the first decision date for allocation and signal strategies alike."""
    traded = inputs.traded()
    if isinstance(strategy, AllocationStrategy):
        all_targets = allocation_targets(strategy, inputs.panel)
        targets, delisted = delist(traded.panel, all_targets[inputs.warmup :])
        engine_strategy: AllocationStrategy | SignalStrategy = strategy
        if inputs.warmup or delisted:
            # the event engine replays exactly these decisions
            mask = np.asarray(strategy.rebalance_mask(inputs.panel.dates), dtype=bool)
            engine_strategy = Precomputed(strategy, mask[inputs.warmup :], targets)
        result = run_engine(
            traded.panel,
            engine_strategy,
            engine,
            request,
            targets=targets,
            benchmark=traded.benchmark,
            vix=traded.vix,
        )
        return EngineRun(result, targets, all_targets, delisted)
    warm = warmed_up(strategy, inputs.panel, inputs.warmup)
    result = run_engine(traded.panel, warm, engine, request, benchmark=traded.benchmark)
    if warm is not strategy:
        result = replace(result, strategy=strategy.name)
    return EngineRun(result)


def allocation_targets(strategy: AllocationStrategy, panel: Panel) -> np.ndarray:
    mask = np.asarray(strategy.rebalance_mask(panel.dates), dtype=bool)
    return np.asarray(strategy.target_weights(panel, mask), dtype=np.float64)


def _from_row(panel: Panel, first: int) -> Panel:
    if first == 0:
        return panel
    return Panel(
        panel.dates[first:], panel.symbols, {k: v[first:] for k, v in panel.fields.items()}
    )


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
