"""The backtest service: runs with metrics and bias checks, stored results, comparison,
exports and optimisation sweeps.

A run loads its panel through the data service, runs the strategy on the chosen engine,
computes metrics (:func:`quantdesk.analytics.summary`, alpha/beta against the benchmark's daily
returns), attaches the bias checks block (:mod:`quantdesk.backtest.bias`) and stores the run,
its daily series, fills, round trips and rebalance weights in one transaction.
"""

from __future__ import annotations

import difflib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from quantdesk.core.clock import Clock
from quantdesk.core.errors import NotFoundError
from quantdesk.db.database import Database
from quantdesk.db.repositories import backtests as repo
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy
from quantdesk.strategies.registry import StrategyRegistry, default_registry

if TYPE_CHECKING:
    # the engines (numba), analytics (scipy) and the optimiser load on first use, so building
    # the services for other commands stays fast
    from quantdesk.backtest.bias import BiasReport
    from quantdesk.backtest.costs import CostModel
    from quantdesk.backtest.result import BacktestResult
    from quantdesk.services.backtest_optimize import SweepOutcome, TrialRecord
    from quantdesk.services.backtest_run import RunInputs, RunRequest

EXPORT_FORMATS = ("csv", "parquet", "json")
HEADLINE_METRICS = (
    "cagr",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown",
    "volatility",
    "alpha",
    "beta",
    "final_equity",
)
_FRAMES = ("series", "fills", "trades", "weights")


@dataclass(frozen=True)
class StoredRun:
    """A backtest run as stored: description, metrics, bias checks and its tables.

    ``series`` is indexed by date with ``equity``, ``returns`` (fractions), ``cash``,
    ``benchmark`` (benchmark price) and ``turnover`` (fraction of equity); ``weights`` is the long
    table of non-zero rebalance weights (``date``, ``symbol``, ``weight``). ``result`` is the
    engine's full result on a fresh run and ``None`` once reloaded; ``timings`` (seconds per
    phase) likewise.
    """

    run_id: str
    strategy: str
    params: dict[str, Any]
    engine: str
    universe: str | None
    benchmark: str | None
    start: date
    end: date
    price_field: str
    initial_cash: float
    final_equity: float
    metrics: dict[str, Any]
    bias: BiasReport
    costs: dict[str, Any]
    created_at: datetime
    series: pd.DataFrame
    fills: pd.DataFrame
    trades: pd.DataFrame
    weights: pd.DataFrame
    stored: bool = True
    result: BacktestResult | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def equity(self) -> pd.Series:
        return self.series["equity"]

    @property
    def returns(self) -> pd.Series:
        return self.series["returns"]

    def meta(self) -> dict[str, Any]:
        """The run's description, metrics and bias checks as JSON-ready values."""
        return {
            "run_id": self.run_id,
            "strategy": self.strategy,
            "params": self.params,
            "engine": self.engine,
            "universe": self.universe,
            "benchmark": self.benchmark,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "price_field": self.price_field,
            "initial_cash": self.initial_cash,
            "final_equity": self.final_equity,
            "costs": self.costs,
            "created_at": self.created_at.isoformat(),
            "metrics": self.metrics,
            "bias_checks": self.bias.to_dict(),
            "counts": {
                "days": len(self.series),
                "fills": len(self.fills),
                "trades": len(self.trades),
                "rebalances": int(self.weights["date"].nunique()) if len(self.weights) else 0,
            },
        }

    def frames(self) -> dict[str, pd.DataFrame]:
        return {
            "series": self.series,
            "fills": self.fills,
            "trades": self.trades,
            "weights": self.weights,
        }


@dataclass(frozen=True)
class RunSummary:
    """One line of ``list_runs``."""

    run_id: str
    strategy: str
    engine: str
    universe: str | None
    benchmark: str | None
    start: date
    end: date
    final_equity: float
    metrics: dict[str, Any]
    bias_status: str
    created_at: datetime
    sweep_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "strategy": self.strategy,
            "engine": self.engine,
            "universe": self.universe,
            "benchmark": self.benchmark,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "final_equity": self.final_equity,
            "metrics": {k: self.metrics.get(k) for k in HEADLINE_METRICS if k in self.metrics},
            "bias_status": self.bias_status,
            "created_at": self.created_at.isoformat(),
            "sweep_id": self.sweep_id,
        }


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

    # -- runs ------------------------------------------------------------------------------
    def run(
        self,
        strategy: str,
        params: Mapping[str, Any] | None = None,
        *,
        start: date | None = None,
        end: date | None = None,
        universe: str = "all",
        benchmark: str | None = None,
        engine: str = "auto",
        costs: CostModel | None = None,
        initial_cash: float = 1_000_000.0,
        store: bool = True,
        lookahead_seed: int = 0,
    ) -> StoredRun:
        """Backtest ``strategy`` with ``params`` and (by default) store the run.

        ``universe``: ``all`` (every non-index instrument), ``etf``, ``index:NAME``
        (point-in-time members) or a comma-separated symbol list. ``benchmark``: a symbol,
        ``"none"``, or by default SP500, else ^GSPC, else none. ``engine``: ``vector``,
        ``event`` or ``auto`` (vector for allocation strategies). ``costs`` default to the
        strategy's own (:meth:`default_costs`). Cash in currency.
        """
        from quantdesk.services.backtest_run import (
            RunRequest,
            allocation_targets,
            build_strategy,
            prepare_inputs,
            resolve_engine,
            run_engine,
            strategy_class,
        )

        timings: dict[str, float] = {}
        clock = time.perf_counter()
        cls = strategy_class(strategy, self._registry)
        costs = costs if costs is not None else self.default_costs(strategy)
        request = RunRequest(
            strategy=strategy,
            start=start,
            end=end,
            universe=universe,
            benchmark=benchmark,
            engine=engine,
            costs=costs,
            initial_cash=float(initial_cash),
        )
        values = dict(params or {})
        chosen_engine = resolve_engine(cls, engine)
        # parameters are validated before any data is read, so a typo fails fast
        _validate(cls, values)
        inputs = prepare_inputs(self._data, self._reference, request, registry=self._registry)
        timings["load"] = time.perf_counter() - clock

        clock = time.perf_counter()
        built = build_strategy(strategy, values, inputs, self._registry)
        targets = (
            allocation_targets(built, inputs.panel)
            if isinstance(built, AllocationStrategy)
            else None
        )
        result = run_engine(
            inputs.panel,
            built,
            chosen_engine,
            request,
            targets=targets,
            benchmark=inputs.benchmark,
        )
        timings["engine"] = time.perf_counter() - clock

        clock = time.perf_counter()
        metrics = _metrics(result, inputs.benchmark)
        timings["metrics"] = time.perf_counter() - clock

        clock = time.perf_counter()
        bias = self._bias(built, inputs, result, targets, chosen_engine, request, lookahead_seed)
        timings["bias"] = time.perf_counter() - clock

        stored = _stored_run(
            run_id=uuid.uuid4().hex,
            request=request,
            params=dict(result.params),
            inputs=inputs,
            result=result,
            metrics=metrics,
            bias=bias,
            targets=targets,
            created_at=self._clock.now(),
            stored=store,
        )
        if store:
            clock = time.perf_counter()
            with self._db.transaction() as connection:
                _write_run(connection, stored, sweep_id=None)
            timings["store"] = time.perf_counter() - clock
        return _with_timings(stored, timings)

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

        panel = inputs.panel
        if isinstance(strategy, AllocationStrategy):
            lookahead = probe_allocation(strategy, panel, targets=targets, seed=seed)
        else:

            def rerun(perturbed: Any) -> BacktestResult:
                fresh = build_strategy(
                    request.strategy, strategy.params.model_dump(), inputs, self._registry
                )
                return run_engine(perturbed, fresh, engine, request)

            lookahead = probe_signal(strategy, panel, result.orders, run=rerun, seed=seed)
        return BiasReport(
            (
                lookahead,
                survivorship_check(
                    inputs.universe_label,
                    inputs.point_in_time_index is not None,
                    inputs.point_in_time_index,
                ),
                corporate_actions_check(panel, result.price_field),
            )
        )

    def default_costs(self, strategy: str) -> CostModel:
        """The cost model a strategy runs with unless told otherwise: its own rule
        (``momentum-12-1``: 10 bp of notional), else ``$1`` per order like the paper engine."""
        from quantdesk.backtest.costs import CostModel
        from quantdesk.services.backtest_run import strategy_class

        cls = strategy_class(strategy, self._registry)
        return cls.default_costs if cls.default_costs is not None else CostModel()

    def list_runs(self, limit: int | None = None) -> list[RunSummary]:
        """Stored runs, newest first."""
        with self._db.read() as connection:
            rows = repo.list_runs(connection, limit)
        return [
            RunSummary(
                run_id=row["id"],
                strategy=row["strategy"],
                engine=row["engine"],
                universe=row["universe"],
                benchmark=row["benchmark"],
                start=row["start_date"],
                end=row["end_date"],
                final_equity=float(row["final_equity"]),
                metrics=dict(row["metrics"] or {}),
                bias_status=str((row["bias_checks"] or {}).get("status", "n/a")),
                created_at=row["created_at"],
                sweep_id=row["sweep_id"],
            )
            for row in rows
        ]

    def get_run(self, run_id: str) -> StoredRun:
        """A stored run with its series, fills, trades and weights; ``run_id`` may be a unique
        prefix. Unknown ids raise :class:`NotFoundError` naming close ids."""
        from quantdesk.backtest.bias import BiasReport

        with self._db.read() as connection:
            full_id = _resolve_id(repo.run_ids(connection), run_id)
            row = repo.load_run(connection, full_id)
            assert row is not None
            series = repo.load_series(connection, full_id)
            fills = repo.load_fills(connection, full_id)
            trades = repo.load_trades(connection, full_id)
            weights = repo.load_weights(connection, full_id)
        return StoredRun(
            run_id=row["id"],
            strategy=row["strategy"],
            params=dict(row["params"]),
            engine=row["engine"],
            universe=row["universe"],
            benchmark=row["benchmark"],
            start=row["start_date"],
            end=row["end_date"],
            price_field=row["price_field"],
            initial_cash=float(row["initial_cash"]),
            final_equity=float(row["final_equity"]),
            metrics=dict(row["metrics"] or {}),
            bias=BiasReport.from_dict(row["bias_checks"] or {}),
            costs=dict(row["costs"] or {}),
            created_at=row["created_at"],
            series=series,
            fills=fills,
            trades=trades,
            weights=weights,
        )

    def compare(self, run_ids: Sequence[str]) -> pd.DataFrame:
        """Metrics side by side: one column per run (its id), one row per metric."""
        if not run_ids:
            raise NotFoundError("compare needs at least one run id")
        columns: dict[str, dict[str, Any]] = {}
        with self._db.read() as connection:
            known = repo.run_ids(connection)
            for wanted in run_ids:
                full_id = _resolve_id(known, wanted)
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
        formats: Iterable[str] = EXPORT_FORMATS,
    ) -> list[Path]:
        """Write the run's tables as ``<frame>.csv`` / ``<frame>.parquet`` plus ``meta.json``,
        and/or one ``run.json`` document; returns the paths written."""
        wanted = list(formats)
        unknown = [f for f in wanted if f not in EXPORT_FORMATS]
        if unknown:
            raise NotFoundError(
                f"unknown export format(s) {unknown}; use {', '.join(EXPORT_FORMATS)}"
            )
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
        universe: str = "all",
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
        from quantdesk.backtest.costs import CostModel
        from quantdesk.services.backtest_optimize import OptimizationRequest, run_sweep
        from quantdesk.services.backtest_run import RunRequest

        request = RunRequest(
            strategy=strategy,
            start=start,
            end=end,
            universe=universe,
            benchmark=benchmark,
            engine="vector",
            costs=costs if costs is not None else CostModel(),
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
        """A stored sweep with its trials (JSON-ready values)."""
        with self._db.read() as connection:
            row = repo.load_sweep(connection, sweep_id)
            if row is None:
                raise NotFoundError(f"unknown sweep id {sweep_id!r}")
            trial_rows = repo.load_trials(connection, sweep_id)
        return {**_jsonable(row), "trials": [_jsonable(t) for t in trial_rows]}


# -- helpers -----------------------------------------------------------------------------------
def _validate(cls: type[Any], values: dict[str, Any]) -> None:
    from quantdesk.strategies.base import validate_params

    validate_params(cls.name, cls.Params, values)


def _metrics(result: BacktestResult, benchmark: pd.Series | None) -> dict[str, Any]:
    from quantdesk.analytics import summary

    bench_returns = None
    if benchmark is not None and benchmark.notna().sum() > 2:
        bench_returns = benchmark.pct_change(fill_method=None).dropna()
    metrics: dict[str, Any] = dict(summary(result.returns, bench_returns).to_dict())
    metrics["final_equity"] = result.final_equity
    metrics["total_costs"] = result.total_costs
    metrics["rebalances"] = result.n_rebalances
    metrics["fills"] = len(result.fills)
    metrics["trades"] = len(result.trades)
    years = max(len(result.dates), 1) / 252.0
    metrics["annual_turnover"] = float(result.turnover.sum()) / years
    if bench_returns is not None and len(bench_returns):
        growth = np.prod(1.0 + bench_returns.to_numpy(dtype=np.float64))
        metrics["benchmark_total_return"] = float(growth) - 1.0
    return {k: _plain(v) for k, v in metrics.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _stored_run(
    *,
    run_id: str,
    request: RunRequest,
    params: dict[str, Any],
    inputs: RunInputs,
    result: BacktestResult,
    metrics: dict[str, Any],
    bias: BiasReport,
    targets: np.ndarray | None,
    created_at: datetime,
    stored: bool,
) -> StoredRun:
    dates = result.dates
    series = pd.DataFrame(
        {
            "equity": result.equity.to_numpy(dtype=np.float64),
            "returns": result.returns.to_numpy(dtype=np.float64),
            "cash": result.cash.to_numpy(dtype=np.float64),
            "benchmark": (
                result.benchmark.to_numpy(dtype=np.float64)
                if result.benchmark is not None
                else np.full(len(dates), np.nan)
            ),
            "turnover": result.turnover.to_numpy(dtype=np.float64),
        },
        index=pd.DatetimeIndex(dates, name="date"),
    )
    fills = result.fills.loc[:, list(repo.FILL_COLUMNS)].reset_index(drop=True)
    trades = result.trades.reset_index(drop=True)
    return StoredRun(
        run_id=run_id,
        strategy=result.strategy,
        params=json.loads(json.dumps(params, default=str)),
        engine=result.engine,
        universe=inputs.universe_label,
        benchmark=inputs.benchmark_symbol,
        start=pd.Timestamp(dates[0]).date(),
        end=pd.Timestamp(dates[-1]).date(),
        price_field=result.price_field,
        initial_cash=request.initial_cash,
        final_equity=result.final_equity,
        metrics=metrics,
        bias=bias,
        costs=_costs_dict(request.costs),
        created_at=created_at,
        series=series,
        fills=fills,
        trades=trades,
        weights=_rebalance_weights(result, targets),
        stored=stored,
        result=result,
    )


def _rebalance_weights(result: BacktestResult, targets: np.ndarray | None) -> pd.DataFrame:
    """Non-zero weights on rebalance dates, long form: the targets of an allocation strategy,
    else the held weights after that day's trading."""
    rows = result.dates.get_indexer(result.rebalance_dates)
    if targets is not None:
        values = np.nan_to_num(targets[rows], nan=0.0)
    else:
        values = result.weights.to_numpy(dtype=np.float64)[rows]
    row, column = np.nonzero(values)
    return pd.DataFrame(
        {
            "date": np.asarray(result.dates[rows[row]], dtype="datetime64[ns]"),
            "symbol": np.asarray(result.symbols, dtype=object)[column],
            "weight": values[row, column],
        }
    )


def _costs_dict(costs: CostModel) -> dict[str, Any]:
    return {
        "commission_per_order": costs.commission_per_order,
        "commission_per_share": costs.commission_per_share,
        "commission_bps": costs.commission_bps,
        "slippage_bps": costs.slippage_bps,
        "min_trade_value": costs.min_trade_value,
        "min_trade_weight": costs.min_trade_weight,
        "fill_timing": costs.fill_timing.value,
    }


def _write_run(connection: Any, run: StoredRun, sweep_id: str | None) -> None:
    repo.insert_run(
        connection,
        {
            "id": run.run_id,
            "strategy": run.strategy,
            "engine": run.engine,
            "params": run.params,
            "universe": (run.universe or "")[:64] or None,
            "benchmark": run.benchmark,
            "start_date": run.start,
            "end_date": run.end,
            "price_field": run.price_field,
            "initial_cash": run.initial_cash,
            "final_equity": run.final_equity,
            "metrics": _json_safe(run.metrics),
            "bias_checks": _json_safe(run.bias.to_dict()),
            "costs": run.costs,
            "sweep_id": sweep_id,
            "created_at": run.created_at,
        },
    )
    repo.write_series(connection, run.run_id, run.series)
    repo.write_fills(connection, run.run_id, run.fills)
    repo.write_trades(connection, run.run_id, run.trades)
    repo.write_weights(connection, run.run_id, run.weights)


def _json_safe(value: Any) -> Any:
    """NaN/inf → None (PostgreSQL JSON rejects them), numpy scalars → Python."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _with_timings(run: StoredRun, timings: dict[str, float]) -> StoredRun:
    from dataclasses import replace

    return replace(run, timings=timings)


def _resolve_id(known: list[str], wanted: str) -> str:
    if wanted in known:
        return wanted
    matches = [k for k in known if len(wanted) >= 4 and k.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundError(f"run id {wanted!r} is ambiguous: it starts {len(matches)} run ids")
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise NotFoundError(
        f"unknown run id {wanted!r}{hint} ({len(known)} stored runs; 'quantdesk backtests list')"
    )


def export_run(run: StoredRun, directory: Path, formats: list[str]) -> list[Path]:
    """Write ``run`` into ``directory`` in ``formats`` (see :meth:`BacktestService.export`)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    frames = run.frames()
    for kind in ("csv", "parquet"):
        if kind not in formats:
            continue
        for name in _FRAMES:
            path = directory / f"{name}.{kind}"
            frame = frames[name]
            if kind == "csv":
                frame.to_csv(path, index=name == "series")
            else:
                frame.to_parquet(path, index=name == "series")
            written.append(path)
    if "csv" in formats or "parquet" in formats:
        meta = directory / "meta.json"
        meta.write_text(json.dumps(_json_safe(run.meta()), indent=2))
        written.append(meta)
    if "json" in formats:
        document = _json_safe(run.meta())
        for name in _FRAMES:
            frame = frames[name].reset_index() if name == "series" else frames[name]
            document[name] = json.loads(frame.to_json(orient="records", date_format="iso"))
        path = directory / "run.json"
        path.write_text(json.dumps(document))
        written.append(path)
    return written


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        out[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return out
