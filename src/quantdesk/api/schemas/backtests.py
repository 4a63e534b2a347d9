"""Bodies of the strategy, backtest and optimisation routes. Returns, drawdowns and weights are
fractions; cash and equity in currency; Sharpe ratios annualised."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.api.schemas.common import Metrics, finite, metrics
from quantdesk.services.backtest_records import RunSummary, StoredRun
from quantdesk.services.strategy_catalog import StrategyInfo

ParamValue = bool | int | float | str | list[str] | list[float]
Params = dict[str, ParamValue]


def plain_params(values: dict[str, Any]) -> Params:
    """Stored parameters as JSON values the schema allows (others shown as text)."""
    out: Params = {}
    for key, value in values.items():
        if isinstance(value, bool | int | float | str):
            out[str(key)] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            out[str(key)] = [str(v) for v in value]
        elif isinstance(value, list | tuple) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            out[str(key)] = [float(v) for v in value]
        else:
            out[str(key)] = str(value)
    return out


class Parameter(BaseModel):
    """One strategy parameter; ``default`` shown as text when it is not a plain value."""

    name: str
    type: str
    default: ParamValue | None
    required: bool
    description: str
    constraints: str


class Strategy(BaseModel):
    name: str
    kind: str
    summary: str
    description: str
    default_universe: str
    parameters: list[Parameter]

    @classmethod
    def of(cls, info: StrategyInfo) -> Strategy:
        return cls(
            name=info.name,
            kind=info.kind,
            summary=info.summary,
            description=info.description,
            default_universe=info.default_universe,
            parameters=[
                Parameter(
                    name=p.name,
                    type=p.type,
                    default=plain_params({"v": p.default})["v"] if p.default is not None else None,
                    required=p.required,
                    description=p.description,
                    constraints=p.constraints,
                )
                for p in info.parameters
            ],
        )


class BacktestRequest(BaseModel):
    """Run a registered strategy; ``universe`` uses the CLI's grammar (``all``, ``etf``,
    ``index:sp500``, ``AAPL,MSFT``)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(min_length=1, max_length=64)
    params: Params = Field(default_factory=dict, max_length=50)
    start: date | None = None
    end: date | None = None
    universe: str | None = Field(None, max_length=10_000)
    benchmark: str | None = Field(None, max_length=32)
    engine: str = Field("auto", pattern="^(auto|vector|event)$")
    initial_cash: float = Field(1_000_000.0, gt=0, le=1e12)


class BacktestSummary(BaseModel):
    run_id: str
    strategy: str
    engine: str
    universe: str | None
    benchmark: str | None
    start: date
    end: date
    final_equity: float | None
    metrics: Metrics
    bias_status: str
    created_at: datetime
    sweep_id: str | None

    @classmethod
    def of(cls, run: RunSummary) -> BacktestSummary:
        return cls(
            run_id=run.run_id,
            strategy=run.strategy,
            engine=run.engine,
            universe=run.universe,
            benchmark=run.benchmark,
            start=run.start,
            end=run.end,
            final_equity=finite(run.final_equity),
            metrics=metrics(run.metrics),
            bias_status=run.bias_status,
            created_at=run.created_at,
            sweep_id=run.sweep_id,
        )


class EquityPoint(BaseModel):
    date: date
    equity: float | None
    returns: float | None
    benchmark: float | None


class BiasCheckOut(BaseModel):
    name: str
    status: str
    detail: str


class BacktestDetail(BaseModel):
    run_id: str
    strategy: str
    params: Params
    engine: str
    universe: str | None
    benchmark: str | None
    start: date
    end: date
    initial_cash: float | None
    final_equity: float | None
    metrics: Metrics
    bias_status: str
    bias_checks: list[BiasCheckOut]
    created_at: datetime
    trades: int
    warnings: list[str]
    equity: list[EquityPoint]

    @classmethod
    def of(cls, run: StoredRun) -> BacktestDetail:
        series = run.series
        points = [
            EquityPoint(
                date=index.date() if hasattr(index, "date") else index,
                equity=finite(row.get("equity")),
                returns=finite(row.get("returns")),
                benchmark=finite(row.get("benchmark")),
            )
            for index, row in zip(series.index, series.to_dict("records"), strict=True)
        ]
        return cls(
            run_id=run.run_id,
            strategy=run.strategy,
            params=plain_params(run.params),
            engine=run.engine,
            universe=run.universe,
            benchmark=run.benchmark,
            start=run.start,
            end=run.end,
            initial_cash=finite(run.initial_cash),
            final_equity=finite(run.final_equity),
            metrics=metrics(run.metrics),
            bias_status=str(run.bias.status),
            bias_checks=[
                BiasCheckOut(name=c.name, status=str(c.status), detail=c.detail)
                for c in run.bias.checks
            ],
            created_at=run.created_at,
            trades=len(run.trades),
            warnings=list(run.warnings),
            equity=points,
        )


class Comparison(BaseModel):
    """Metrics side by side: ``runs`` in the order asked, ``metrics[name][i]`` for run i."""

    runs: list[str]
    labels: dict[str, list[str]]
    metrics: dict[str, list[float | None]]


class SweepRequest(BaseModel):
    """A grid (``"k=a,b;k2=lo:hi:step"``) or, with ``trials``, a Bayesian search over the
    ranges in ``grid``; optionally walk-forward (``"756:252"``)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(min_length=1, max_length=64)
    grid: str = Field(min_length=1, max_length=2000)
    trials: int | None = Field(None, ge=1, le=2000)
    walk_forward: str | None = Field(None, max_length=200)
    params: Params = Field(default_factory=dict, max_length=50)
    start: date | None = None
    end: date | None = None
    universe: str | None = Field(None, max_length=10_000)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class Trial(BaseModel):
    number: int
    fold: int | None
    params: Params
    score: float | None
    metrics: Metrics


class Sweep(BaseModel):
    id: str
    strategy: str
    method: str
    status: str
    best_params: Params | None
    summary: Metrics
    created_at: str | None
    finished_at: str | None
    trials: list[Trial]
    total_trials: int

    @classmethod
    def of(cls, row: dict[str, Any], offset: int, limit: int) -> Sweep:
        trials = list(row.get("trials") or [])
        return cls(
            id=str(row["id"]),
            strategy=str(row.get("strategy", "")),
            method=str(row.get("method", "")),
            status=str(row.get("status", "")),
            best_params=plain_params(row["best_params"]) if row.get("best_params") else None,
            summary=metrics(row.get("summary") or {}),
            created_at=None if row.get("created_at") is None else str(row["created_at"]),
            finished_at=None if row.get("finished_at") is None else str(row["finished_at"]),
            trials=[
                Trial(
                    number=int(t["number"]),
                    fold=None if t.get("fold") is None else int(t["fold"]),
                    params=plain_params(t.get("params") or {}),
                    score=finite(t.get("score")),
                    metrics=metrics(t.get("metrics") or {}),
                )
                for t in trials[offset : offset + limit]
            ],
            total_trials=len(trials),
        )
