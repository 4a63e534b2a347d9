"""Backtest run records: :class:`StoredRun` and :class:`RunSummary`, how a fresh engine result
becomes a run record, and how records are written to and read from the ``backtest_*`` tables."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import NotFoundError
from quantdesk.db.repositories import backtests as repo

if TYPE_CHECKING:
    # the engines (numba) load on first use, so building the services for other commands
    # stays fast
    from quantdesk.backtest.bias import BiasReport
    from quantdesk.backtest.costs import CostModel
    from quantdesk.backtest.result import BacktestResult
    from quantdesk.services.backtest_run import RunInputs, RunRequest

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
RUN_FRAMES = ("series", "fills", "trades", "weights")


@dataclass(frozen=True)
class StoredRun:
    """A backtest run as stored: description, metrics, bias checks and its tables.

    ``series`` is indexed by date (one row per session, also for intraday runs, whose full
    bar-by-bar equity is in ``result``) with ``equity``, ``returns`` (fractions), ``cash``,
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
    # the complete configuration (services.backtest_config); empty for runs stored before it
    config: dict[str, Any] = field(default_factory=dict)
    # what a user should know about the data the run read (e.g. symbols whose data ends)
    warnings: tuple[str, ...] = ()

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
            "warnings": list(self.warnings),
            "bias_checks": self.bias.to_dict(),
            "counts": {
                "days": len(self.series),
                "fills": len(self.fills),
                "trades": len(self.trades),
                "rebalances": self.metrics.get("rebalances"),
            },
            "config": self.config,
        }

    def held_weights(self) -> pd.DataFrame:
        """Weights on every date of the ``weights`` table (dates × symbols), rebuilt from the
        stored changes: for an allocation run, each decision's complete targets."""
        if not len(self.weights):
            return pd.DataFrame(dtype=np.float64)
        wide = self.weights.pivot_table(
            index="date", columns="symbol", values="weight", aggfunc="last"
        )
        return wide.ffill().fillna(0.0)

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


# -- from an engine result ---------------------------------------------------------------------
def stored_run(
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
    config: dict[str, Any],
    warnings: tuple[str, ...] = (),
) -> StoredRun:
    """The record of a fresh run (``stored``: whether it is about to be written)."""
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
    series = _one_row_per_session(series, result.initial_cash)
    fills = result.fills.reindex(columns=list(repo.FILL_COLUMNS)).reset_index(drop=True)
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
        config=config,
        warnings=warnings,
    )


def _rebalance_weights(result: BacktestResult, targets: np.ndarray | None) -> pd.DataFrame:
    """Weight *changes* in long form (``date``, ``symbol``, ``weight``; 0 when a position
    ends), so a run on hundreds of symbols stores thousands of rows, not millions.

    Allocation runs: a decision's target weight wherever it differs from the symbol's previous
    target (:meth:`StoredRun.held_weights` rebuilds every decision's full targets). Signal
    runs: the post-trade weight of each symbol on the days it traded (between trades a weight
    only drifts with prices, which the series and fills already tell). Intraday runs keep each
    session's last decision (the table is keyed by date, like the series).
    """
    rows = result.dates.get_indexer(result.rebalance_dates)
    sessions = pd.DatetimeIndex(result.dates[rows]).normalize()
    rows = rows[~sessions.duplicated(keep="last")]
    if targets is not None:
        values = np.nan_to_num(targets[rows], nan=0.0)
        previous = np.vstack([np.zeros((1, values.shape[1])), values[:-1]])
        changed = values != previous
    else:
        values = result.weights.to_numpy(dtype=np.float64)[rows]
        changed = _traded(result, rows)
    row, column = np.nonzero(changed)
    return pd.DataFrame(
        {
            "date": np.asarray(
                pd.DatetimeIndex(result.dates[rows[row]]).normalize(), dtype="datetime64[ns]"
            ),
            "symbol": np.asarray(result.symbols, dtype=object)[column],
            "weight": values[row, column],
        }
    )


def _traded(result: BacktestResult, rows: np.ndarray) -> np.ndarray:
    """Bool (len(rows), N): the symbol has a fill in the session of each decision row."""
    traded = np.zeros((len(rows), len(result.symbols)), dtype=bool)
    fills = result.fills
    if not len(fills) or not len(rows):
        return traded
    sessions = pd.DatetimeIndex(result.dates[rows]).normalize()
    fill_sessions = pd.DatetimeIndex(fills["date"])
    if fill_sessions.tz is not None:
        fill_sessions = fill_sessions.tz_convert(None)
    at = sessions.get_indexer(fill_sessions.normalize())
    column = pd.Index(result.symbols).get_indexer(pd.Index(fills["symbol"].astype(str)))
    ok = (at >= 0) & (column >= 0)
    traded[at[ok], column[ok]] = True
    return traded


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


# -- storage -----------------------------------------------------------------------------------
def write_run(connection: Any, run: StoredRun, sweep_id: str | None) -> None:
    """Insert the run row and its tables (inside the caller's transaction)."""
    repo.insert_run(
        connection,
        {
            "id": run.run_id,
            "strategy": run.strategy,
            "engine": run.engine,
            "params": run.params,
            "universe": run.universe or None,
            "benchmark": run.benchmark,
            "start_date": run.start,
            "end_date": run.end,
            "price_field": run.price_field,
            "initial_cash": run.initial_cash,
            "final_equity": run.final_equity,
            "metrics": json_safe(run.metrics),
            "bias_checks": json_safe(run.bias.to_dict()),
            "costs": run.costs,
            "sweep_id": sweep_id,
            "created_at": run.created_at,
            "config": json_safe({**run.config, "warnings": list(run.warnings)}),
        },
    )
    repo.write_series(connection, run.run_id, run.series)
    repo.write_fills(connection, run.run_id, run.fills)
    repo.write_trades(connection, run.run_id, run.trades)
    repo.write_weights(connection, run.run_id, run.weights)


def read_run(connection: Any, run_id: str) -> StoredRun:
    """The stored run ``run_id`` (a full id, see :func:`resolve_run_id`) with its tables."""
    # bias checks live beside the engines, which load on first use
    from quantdesk.backtest.bias import BiasReport

    row = repo.load_run(connection, run_id)
    assert row is not None
    config = dict(row.get("config") or {})
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
        series=repo.load_series(connection, run_id),
        fills=repo.load_fills(connection, run_id),
        trades=repo.load_trades(connection, run_id),
        weights=repo.load_weights(connection, run_id),
        config={k: v for k, v in config.items() if k != "warnings"},
        warnings=tuple(str(w) for w in config.get("warnings", [])),
    )


def run_summary(row: Mapping[str, Any]) -> RunSummary:
    """A :class:`RunSummary` from a row of ``repo.list_runs``."""
    return RunSummary(
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


def resolve_run_id(known: list[str], wanted: str, kind: str = "run") -> str:
    """The stored id ``wanted`` names: itself, or the one id it is a prefix of (4+ characters).
    Unknown or ambiguous ids raise :class:`NotFoundError` naming close ids."""
    if wanted in known:
        return wanted
    matches = [k for k in known if len(wanted) >= 4 and k.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundError(
            f"{kind} id {wanted!r} is ambiguous: it starts {len(matches)} {kind} ids"
        )
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listing = "; 'quantdesk backtests list'" if kind == "run" else ""
    raise NotFoundError(
        f"unknown {kind} id {wanted!r}{hint} ({len(known)} stored {kind}s{listing})"
    )


# -- JSON --------------------------------------------------------------------------------------
def _one_row_per_session(series: pd.DataFrame, initial_cash: float) -> pd.DataFrame:
    """Intraday runs are stored one row per session (its last bar, turnover summed, returns
    recomputed day over day): the series table is keyed by date, and metrics are daily."""
    sessions = pd.DatetimeIndex(series.index).normalize()
    if not sessions.has_duplicates:
        return series
    grouped = series.groupby(sessions)
    daily = grouped.last()
    daily["turnover"] = grouped["turnover"].sum()
    previous = daily["equity"].shift(1).fillna(initial_cash)
    daily["returns"] = daily["equity"] / previous - 1.0
    daily.index.name = "date"
    return daily


def json_safe(value: Any) -> Any:
    """NaN/inf → None (PostgreSQL JSON rejects them), numpy scalars → Python."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def jsonable_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row with its dates and datetimes as ISO strings."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        out[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return out
