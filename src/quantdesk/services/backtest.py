"""The backtest service: runs with metrics and bias checks, stored results, comparison,
exports and optimisation sweeps.

A run loads its panel through the data service, runs the strategy on the chosen engine,
computes metrics (:func:`quantdesk.analytics.summary`, alpha/beta against the benchmark's daily
returns), attaches the bias checks block (:mod:`quantdesk.backtest.bias`) and stores the run,
its daily series, fills, round trips and rebalance weights in one transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import NotFoundError
from quantdesk.db.database import Database
from quantdesk.db.repositories import backtests as repo
from quantdesk.research.universe import UniverseSpec, parse_universe
from quantdesk.services.backtest_records import (
    HEADLINE_METRICS,
    RunSummary,
    StoredRun,
    jsonable_row,
    read_run,
    resolve_run_id,
    run_summary,
    stored_run,
    write_run,
)
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy, StrategyParams
from quantdesk.strategies.registry import StrategyRegistry, default_registry

if TYPE_CHECKING:
    # the engines (numba), analytics (scipy) and the optimiser load on first use, so building
    # the services for other commands stays fast
    from quantdesk.backtest.bias import BiasReport
    from quantdesk.backtest.costs import CostModel
    from quantdesk.backtest.result import BacktestResult
    from quantdesk.backtest.stops import StopLossRule
    from quantdesk.services.backtest_config import SnapshotMemo
    from quantdesk.services.backtest_optimize import SweepOutcome, TrialRecord
    from quantdesk.services.backtest_run import RunInputs, RunRequest
    from quantdesk.services.strategy_catalog import StrategyInfo

__all__ = ["HEADLINE_METRICS", "BacktestService", "RunSummary", "StoredRun"]


class BacktestService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        data: DataService,
        reference: ReferenceDataService,
        *,
        registry: StrategyRegistry | None = None,
    ) -> None:
        self._db = database
        self._clock = clock
        self._data = data
        self._reference = reference
        # strategies by name; optimisation workers always use the built-in registry
        self._registry = registry if registry is not None else default_registry()
        # content hashes of the (cached) panels runs read, made on first use
        self._snapshots: SnapshotMemo | None = None

    # -- runs ------------------------------------------------------------------------------
    def run(
        self,
        strategy: str,
        params: Mapping[str, Any] | None = None,
        *,
        start: date | None = None,
        end: date | None = None,
        universe: UniverseSpec | str | None = None,
        benchmark: str | None = None,
        engine: str = "auto",
        costs: CostModel | None = None,
        initial_cash: float = 1_000_000.0,
        store: bool = True,
        lookahead_seed: int = 0,
        stop_loss: StopLossRule | None = None,
        timeframe: Timeframe = Timeframe.D1,
    ) -> StoredRun:
        """Backtest ``strategy`` with ``params`` and (by default) store the run.

        ``universe``: a parsed :class:`UniverseSpec` (a string is parsed with the same
        grammar): ``all`` (every equity), ``etf``, ``index:NAME`` (point-in-time members) or a
        symbol list. ``benchmark``: a symbol,
        ``"none"``, or by default SP500, else ^GSPC, else none. ``engine``: ``vector``,
        ``event`` or ``auto`` (vector for allocation strategies). ``costs`` default to the
        strategy's own (:meth:`default_costs`). Cash in currency. ``stop_loss``: a fixed or
        VIX-regime exit rule for allocation strategies (the VIX is read from ``^VIX`` bars).
        ``timeframe``: the bars to run on (intraday runs report metrics on daily returns).
        """
        from quantdesk.services.backtest_run import RunRequest, strategy_class

        cls = strategy_class(strategy, self._registry)
        request = RunRequest(
            strategy=strategy,
            start=start,
            end=end,
            universe=_universe(universe, cls),
            benchmark=benchmark,
            engine=engine,
            costs=costs if costs is not None else self.default_costs(strategy),
            initial_cash=float(initial_cash),
            stop_loss=stop_loss,
            timeframe=timeframe,
        )
        return self._execute(request, dict(params or {}), lookahead_seed, store=store)

    def rerun(self, run_id: str, *, store: bool = True) -> StoredRun:
        """Run stored run ``run_id`` (or a unique prefix) again from its stored configuration:
        on the same data the result is identical bit for bit. A run whose data snapshot
        differs says so in its warnings."""
        from quantdesk.services.backtest_config import config_from_json

        with self._db.read() as connection:
            full_id = resolve_run_id(repo.run_ids(connection), run_id)
            row = repo.load_run(connection, full_id)
        assert row is not None
        config = config_from_json(dict(row.get("config") or {}), full_id)
        fresh = self._execute(
            config.request, config.params, config.lookahead_seed, store=store, source=full_id
        )
        if config.data_snapshot and fresh.config.get("data_snapshot") != config.data_snapshot:
            note = f"the data differs from run {full_id}'s (snapshot {config.data_snapshot})"
            fresh = replace(fresh, warnings=(*fresh.warnings, note))
        return fresh

    def _execute(
        self,
        request: RunRequest,
        values: dict[str, Any],
        lookahead_seed: int,
        *,
        store: bool,
        source: str | None = None,
    ) -> StoredRun:
        from quantdesk.services.backtest_config import (
            RunConfig,
            SnapshotMemo,
            config_to_json,
            package_version,
            snapshot_later,
        )
        from quantdesk.services.backtest_run import (
            build_strategy,
            prepare_inputs,
            resolve_engine,
            run_from_start,
            stale_decision_warnings,
            strategy_class,
            warmup_rows,
        )

        timings: dict[str, float] = {}
        clock = time.perf_counter()
        if self._snapshots is None:
            self._snapshots = SnapshotMemo()
        cls = strategy_class(request.strategy, self._registry)
        chosen_engine = resolve_engine(cls, request.engine)
        # parameters are validated before any data is read, so a typo fails fast
        validated = _validate(cls, values)
        # the strategy's declared lookback is loaded before the start, so the start is the
        # first decision date (allocation and signal strategies alike)
        warmup = warmup_rows(cls, validated) if request.start is not None else 0
        inputs = prepare_inputs(
            self._data,
            self._reference,
            request,
            registry=self._registry,
            warmup=warmup,
            params=validated,
        )
        traded = inputs.traded()
        snapshot = snapshot_later(
            inputs.panel,
            None if inputs.benchmark is None else inputs.benchmark.to_numpy(),
            self._snapshots,
        )
        timings["load"] = time.perf_counter() - clock

        clock = time.perf_counter()
        built = build_strategy(request.strategy, values, inputs, self._registry)
        ran = run_from_start(built, inputs, chosen_engine, request)
        result, targets, all_targets, delisted = (
            ran.result,
            ran.targets,
            ran.all_targets,
            ran.delisted,
        )
        timings["engine"] = time.perf_counter() - clock

        clock = time.perf_counter()
        metrics = _metrics(result, traded.benchmark)
        timings["metrics"] = time.perf_counter() - clock

        clock = time.perf_counter()
        bias = self._bias(
            built, inputs, result, all_targets, chosen_engine, request, lookahead_seed
        )
        timings["bias"] = time.perf_counter() - clock

        config = config_to_json(
            RunConfig(
                request=request,
                params=validated.model_dump(mode="json"),
                lookahead_seed=lookahead_seed,
                data_snapshot=snapshot(),
                package_version=package_version(),
            )
        )
        if source is not None:
            config["rerun_of"] = source
        warnings = (*inputs.warnings, *delisted)
        if targets is not None:
            warnings = (*warnings, *stale_decision_warnings(traded.panel, targets))
        stored = stored_run(
            run_id=uuid.uuid4().hex,
            request=request,
            params=dict(result.params),
            inputs=traded,
            result=result,
            metrics=metrics,
            bias=bias,
            targets=targets,
            created_at=self._clock.now(),
            stored=store,
            config=config,
            warnings=warnings,
        )
        if store:
            clock = time.perf_counter()
            with self._db.transaction() as connection:
                write_run(connection, stored, sweep_id=None)
            timings["store"] = time.perf_counter() - clock
        return replace(stored, timings=timings)

    def _bias(
        self,
        strategy: AllocationStrategy | SignalStrategy,
        inputs: RunInputs,
        result: BacktestResult,
        targets: np.ndarray | None,
        engine: str,
        request: RunRequest,
        seed: int,
    ) -> BiasReport:
        from quantdesk.backtest.bias import (
            BiasReport,
            corporate_actions_check,
            probe_allocation,
            probe_signal,
            survivorship_check,
        )
        from quantdesk.services.backtest_run import build_strategy, run_engine
        from quantdesk.strategies.warmup import warmed_up

        panel = inputs.panel
        # every input the strategy receives, so the probe can perturb each after the cut
        data = dict(inputs.strategy_data)
        if inputs.membership is not None:
            data["membership"] = inputs.membership
        params = strategy.params.model_dump()

        def build(changed: Mapping[str, Any]) -> AllocationStrategy | SignalStrategy:
            fresh = replace(
                inputs,
                strategy_data={k: v for k, v in changed.items() if k != "membership"},
                membership=changed.get("membership"),
            )
            return build_strategy(request.strategy, params, fresh, self._registry)

        if isinstance(strategy, AllocationStrategy):
            lookahead = probe_allocation(
                strategy, panel, targets=targets, seed=seed, data=data, rebuild=build
            )
        else:
            warmup = inputs.warmup

            def rerun(view: Any, changed: Mapping[str, Any]) -> BacktestResult:
                # like the run: decisions from the start, the rows before it as history
                built = build(changed)
                assert isinstance(built, SignalStrategy)
                return run_engine(
                    _rows_from(view, warmup), warmed_up(built, view, warmup), engine, request
                )

            lookahead = probe_signal(
                strategy, panel, result.orders, run=rerun, seed=seed, data=data
            )
        return BiasReport(
            (
                lookahead,
                survivorship_check(
                    inputs.universe_label,
                    inputs.point_in_time_index is not None,
                    inputs.point_in_time_index,
                    self._member_coverage(inputs),
                ),
                corporate_actions_check(panel, result.price_field),
            )
        )

    def _member_coverage(self, inputs: RunInputs) -> dict[int, tuple[int, int]] | None:
        """Per year (members with prices, members) of a point-in-time index universe."""
        index = inputs.point_in_time_index
        if index is None:
            return None
        from quantdesk.backtest.bias import member_coverage_by_year
        from quantdesk.data.membership import membership_mask
        from quantdesk.db.repositories import membership as membership_repo

        with self._db.read() as connection:
            frame = membership_repo.load_membership(connection, index).assign(index=index)
        panel = inputs.panel
        symbols = tuple(sorted(set(frame["symbol"].astype(str))))
        members = membership_mask(frame, index, pd.DatetimeIndex(panel.dates), symbols)
        _, prices = panel.prices()
        column = {s: k for k, s in enumerate(panel.symbols)}
        present = np.zeros(members.shape, dtype=bool)
        for k, symbol in enumerate(symbols):
            if symbol in column:
                present[:, k] = np.isfinite(prices[:, column[symbol]])
        return member_coverage_by_year(panel.dates, members, present)

    def default_costs(self, strategy: str) -> CostModel:
        """The cost model a strategy runs with unless told otherwise: its own rule
        (``momentum-12-1``: 10 bp of notional), else ``$1`` per order like the paper engine."""
        from quantdesk.backtest.costs import CostModel
        from quantdesk.services.backtest_run import strategy_class

        cls = strategy_class(strategy, self._registry)
        return cls.default_costs if cls.default_costs is not None else CostModel()

    def strategies(self) -> list[StrategyInfo]:
        """Every registered strategy with its parameters (types, defaults, descriptions)."""
        from quantdesk.services.strategy_catalog import strategy_info

        return [strategy_info(self._registry, name) for name in self._registry.names()]

    def strategy(self, name: str) -> StrategyInfo:
        """Strategy ``name`` with its parameters; unknown names raise with a hint."""
        from quantdesk.services.strategy_catalog import strategy_info

        return strategy_info(self._registry, name)

    def delete_run(self, run_id: str) -> str:
        """Delete stored run ``run_id`` (or a unique prefix) with all its tables, in one
        transaction; returns the full id."""
        with self._db.transaction() as connection:
            full_id = resolve_run_id(repo.run_ids(connection), run_id)
            repo.delete_run(connection, full_id)
        return full_id

    def list_runs(self, limit: int | None = None) -> list[RunSummary]:
        """Stored runs, newest first."""
        with self._db.read() as connection:
            rows = repo.list_runs(connection, limit)
        return [run_summary(row) for row in rows]

    def get_run(self, run_id: str) -> StoredRun:
        """A stored run with its series, fills, trades and weights; ``run_id`` may be a unique
        prefix. Unknown ids raise :class:`NotFoundError` naming close ids."""
        with self._db.read() as connection:
            return read_run(connection, resolve_run_id(repo.run_ids(connection), run_id))

    def compare(self, run_ids: Sequence[str]) -> pd.DataFrame:
        """Metrics side by side: one column per run (its id), one row per metric."""
        if not run_ids:
            raise NotFoundError("compare needs at least one run id")
        columns: dict[str, dict[str, Any]] = {}
        with self._db.read() as connection:
            known = repo.run_ids(connection)
            for wanted in run_ids:
                full_id = resolve_run_id(known, wanted)
                row = repo.load_run(connection, full_id)
                assert row is not None
                bias = row["bias_checks"] or {}
                columns[full_id] = {
                    "strategy": row["strategy"],
                    "engine": row["engine"],
                    "start": row["start_date"].isoformat(),
                    "end": row["end_date"].isoformat(),
                    "final_equity": float(row["final_equity"]),
                    **{k: v for k, v in (row["metrics"] or {}).items() if k != "final_equity"},
                    "bias_checks": bias.get("status", "n/a"),
                }
        return pd.DataFrame(columns)

    def export(
        self,
        run_id: str,
        directory: str | Path,
        formats: Iterable[str] | None = None,
    ) -> list[Path]:
        """Write the run's tables as ``<frame>.csv`` / ``<frame>.parquet`` plus ``meta.json``,
        and/or one ``run.json`` document (``None``: every format); returns the paths written."""
        # the reports package (its pydantic models, renderers) loads only for an export
        from quantdesk.services.backtest_export import EXPORT_FORMATS, check_formats, export_run

        wanted = check_formats(EXPORT_FORMATS if formats is None else formats)
        run = self.get_run(run_id)
        return export_run(run, Path(directory), wanted)

    # -- optimisation ----------------------------------------------------------------------
    def optimize(
        self,
        strategy: str,
        *,
        grid: str | None = None,
        trials: int | None = None,
        walk_forward: str | None = None,
        executor: str = "local",
        params: Mapping[str, Any] | None = None,
        start: date | None = None,
        end: date | None = None,
        universe: UniverseSpec | str | None = None,
        benchmark: str | None = None,
        costs: CostModel | None = None,
        initial_cash: float = 1_000_000.0,
        seed: int | None = 0,
        on_trial: Callable[[TrialRecord], None] | None = None,
    ) -> SweepOutcome:
        """Grid (``grid="k=a,b;k2=lo:hi:step"``) or Bayesian (``trials=N`` over the ranges in
        ``grid``) search of ``strategy``'s parameters, optionally walk-forward
        (``"folds=4,train=756,test=252[,gap=5][,anchored]"`` or ``"756:252[:5][:anchored]"``),
        on ``executor`` (``serial``, ``local``, ``local:N``, ``dask://host:port``).

        Each finished trial is stored in its own transaction as it arrives (and passed to
        ``on_trial``); the sweep row gets the best parameters, deflated Sharpe and PBO at the
        end. Scores are annualised Sharpe ratios of daily returns.
        """
        from quantdesk.services.backtest_optimize import OptimizationRequest, run_sweep
        from quantdesk.services.backtest_run import RunRequest, strategy_class

        cls = strategy_class(strategy, self._registry)
        request = RunRequest(
            strategy=strategy,
            start=start,
            end=end,
            universe=_universe(universe, cls),
            benchmark=benchmark,
            engine="vector",
            costs=costs if costs is not None else self.default_costs(strategy),
            initial_cash=float(initial_cash),
        )
        return run_sweep(
            OptimizationRequest(
                request=request,
                fixed_params=dict(params or {}),
                grid=grid,
                trials=trials,
                walk_forward=walk_forward,
                executor=executor,
                seed=seed,
            ),
            database=self._db,
            data=self._data,
            reference=self._reference,
            clock=self._clock,
            on_trial=on_trial,
        )

    def get_sweep(self, sweep_id: str) -> dict[str, Any]:
        """A stored sweep with its trials in number order (JSON-ready values); ``sweep_id``
        may be a unique prefix. ``summary.best_trial`` is the ``number`` of one of the trials."""
        with self._db.read() as connection:
            known = [str(row["id"]) for row in repo.list_sweeps(connection)]
            full_id = resolve_run_id(known, sweep_id, kind="sweep")
            row = repo.load_sweep(connection, full_id)
            assert row is not None
            trial_rows = repo.load_trials(connection, full_id)
        return {**jsonable_row(row), "trials": [jsonable_row(t) for t in trial_rows]}


# -- helpers -----------------------------------------------------------------------------------
def _universe(universe: UniverseSpec | str | None, cls: type[Any]) -> UniverseSpec:
    """The run's universe: as given (strings parsed by the one grammar), else the strategy's."""
    if isinstance(universe, UniverseSpec):
        return universe
    return parse_universe(universe if universe is not None else cls.default_universe)


def _validate(cls: type[Any], values: dict[str, Any]) -> StrategyParams:
    from quantdesk.strategies.base import validate_params

    return validate_params(cls.name, cls.Params, values)


def _metrics(result: BacktestResult, benchmark: pd.Series | None) -> dict[str, Any]:
    """Metrics on daily returns (quantstats' convention): intraday equity is taken at each
    day's last bar first, so Sharpe and volatility keep their 252-day annualisation."""
    from quantdesk.analytics import summary

    returns = result.returns
    equity = result.equity
    intraday = len(equity.index) > 1 and pd.DatetimeIndex(equity.index).normalize().has_duplicates
    if intraday:
        daily = equity.groupby(pd.DatetimeIndex(equity.index).normalize()).last()
        returns = daily.pct_change(fill_method=None).dropna()
    bench_returns = None
    if benchmark is not None and benchmark.notna().sum() > 2:
        if intraday:
            benchmark = benchmark.groupby(pd.DatetimeIndex(benchmark.index).normalize()).last()
        bench_returns = benchmark.pct_change(fill_method=None).dropna()
    metrics: dict[str, Any] = dict(summary(returns, bench_returns).to_dict())
    metrics["final_equity"] = result.final_equity
    metrics["total_costs"] = result.total_costs
    metrics["rebalances"] = result.n_rebalances
    metrics["fills"] = len(result.fills)
    metrics["trades"] = len(result.trades)
    sessions = pd.DatetimeIndex(result.dates).normalize().nunique()
    years = max(sessions, 1) / 252.0
    metrics["annual_turnover"] = float(result.turnover.sum()) / years
    if bench_returns is not None and len(bench_returns):
        growth = np.prod(1.0 + bench_returns.to_numpy(dtype=np.float64))
        metrics["benchmark_total_return"] = float(growth) - 1.0
    return {k: _plain(v) for k, v in metrics.items()}


def _rows_from(panel: Any, first: int) -> Any:
    """``panel`` from row ``first`` on (same symbols and fields)."""
    if first == 0:
        return panel
    from quantdesk.data.panel import Panel

    return Panel(
        panel.dates[first:], panel.symbols, {k: v[first:] for k, v in panel.fields.items()}
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
