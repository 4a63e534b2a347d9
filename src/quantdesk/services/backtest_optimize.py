"""Parameter sweeps for the backtest service: trials on an executor, streamed to the database.

Workers evaluate :func:`evaluate_trial` / :func:`evaluate_window`: top-level functions of a
small frozen :class:`TrialSpec` (the database URL and the run request). A worker process loads
the run's inputs from the database once and keeps them for the next trials of the same spec
(a per-process cache of the last few specs), so a sweep reads the panel once per worker.
"""

from __future__ import annotations

import functools
import itertools
import math
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.backtest.optimize import SweepResult, Trial, TrialOutcome
from quantdesk.backtest.walk_forward import Fold, FoldError, FoldScheme, WalkForwardResult
from quantdesk.core.clock import Clock, LiveClock
from quantdesk.core.errors import ConfigurationError
from quantdesk.data.panel import Panel
from quantdesk.db.database import Database
from quantdesk.db.repositories import backtests as repo
from quantdesk.services.backtest_records import json_safe
from quantdesk.services.backtest_run import (
    RunInputs,
    RunRequest,
    build_strategy,
    prepare_inputs,
    resolve_engine,
    run_from_start,
    strategy_class,
)
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService

_CACHE_SIZE = 2
# combinations of a grid looked at for the longest warm-up (beyond, the rest are skipped)
_WARMUP_COMBINATIONS = 100_000
_INPUTS: dict[tuple[str, RunRequest, int], RunInputs] = {}


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs besides the trial's parameters (small and picklable)."""

    database_url: str = field(repr=False)  # may hold a password; never in reprs or logs
    request: RunRequest
    fixed_params: tuple[tuple[str, Any], ...] = ()
    # rows loaded before the start: the longest warm-up of any trial, so every trial's first
    # decision is on the start
    warmup: int = 0


@dataclass(frozen=True)
class OptimizationRequest:
    request: RunRequest
    fixed_params: dict[str, Any]
    grid: str | None
    trials: int | None
    walk_forward: str | None
    executor: str = "local"
    seed: int | None = 0


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial as stored (``number`` is unique in the sweep; ``fold`` for
    walk-forward), with the progress so far."""

    sweep_id: str
    number: int
    fold: int | None
    params: dict[str, Any]
    score: float
    metrics: dict[str, Any]
    done: int
    total: int


@dataclass(frozen=True)
class SweepOutcome:
    """A finished sweep: its id, method, best parameters, DSR/PBO and the full result."""

    sweep_id: str
    strategy: str
    method: str
    best_params: dict[str, Any]
    summary: dict[str, Any]
    result: SweepResult | WalkForwardResult
    trials: list[TrialRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep_id,
            "strategy": self.strategy,
            "method": self.method,
            "best_params": self.best_params,
            "summary": self.summary,
            "trials": [
                {k: v for k, v in asdict(t).items() if k not in ("sweep_id", "done", "total")}
                for t in self.trials
            ],
        }


# -- worker side -------------------------------------------------------------------------------
def evaluate_trial(spec: TrialSpec, params: dict[str, Any]) -> TrialOutcome:
    """Run ``params`` (over the fixed ones) on the whole window; score = annualised Sharpe."""
    inputs = _cached_inputs(spec)
    return _outcome(spec, inputs, params, None)


def evaluate_window(
    spec: TrialSpec, params: dict[str, Any], start: pd.Timestamp, end: pd.Timestamp
) -> TrialOutcome:
    """Run ``params`` on data up to ``end`` (earlier rows warm the strategy up) and score the
    daily returns from ``start`` to ``end``."""
    inputs = _cached_inputs(spec)
    dates = pd.DatetimeIndex(inputs.panel.dates)
    last = max(int(dates.searchsorted(pd.Timestamp(end), side="right")), inputs.warmup + 1)
    return _outcome(spec, _head(inputs, last), params, pd.Timestamp(start))


def _outcome(
    spec: TrialSpec, inputs: RunInputs, params: dict[str, Any], start: pd.Timestamp | None
) -> TrialOutcome:
    from quantdesk.analytics import cagr, max_drawdown

    request = spec.request
    values = {**dict(spec.fixed_params), **params}
    strategy = build_strategy(request.strategy, values, inputs)
    engine = resolve_engine(type(strategy), request.engine)
    # the same path as a stored run: decisions from the start, earlier rows as history
    result = run_from_start(strategy, inputs, engine, request).result
    returns = result.returns if start is None else result.returns.loc[start:]
    metrics = {
        "final_equity": result.final_equity,
        "total_costs": result.total_costs,
        "cagr": float(cagr(returns)) if len(returns) > 1 else math.nan,
        "max_drawdown": float(max_drawdown(returns)) if len(returns) > 1 else math.nan,
    }
    return TrialOutcome.from_returns(returns, metrics)


def _cached_inputs(spec: TrialSpec) -> RunInputs:
    key = (spec.database_url, spec.request, spec.warmup)
    cached = _INPUTS.get(key)
    if cached is not None:
        return cached
    database = Database(spec.database_url, auto_upgrade=False)
    try:
        from quantdesk.config import Settings

        clock = LiveClock()
        data = DataService(database, clock)
        reference = ReferenceDataService(
            database, clock, Settings(database_url=spec.database_url), data
        )
        inputs = prepare_inputs(
            data,
            reference,
            spec.request,
            warmup=spec.warmup,
            params=_load_params(spec.request.strategy, dict(spec.fixed_params)),
        )
    finally:
        database.dispose()
    remember_inputs(spec, inputs)
    return inputs


def remember_inputs(spec: TrialSpec, inputs: RunInputs) -> None:
    """Keep ``inputs`` for ``spec`` in this process (the service primes serial sweeps)."""
    while len(_INPUTS) >= _CACHE_SIZE:
        _INPUTS.pop(next(iter(_INPUTS)))
    _INPUTS[(spec.database_url, spec.request, spec.warmup)] = inputs


def _head(inputs: RunInputs, rows: int) -> RunInputs:
    panel = inputs.panel
    head = Panel(panel.dates[:rows], panel.symbols, {k: v[:rows] for k, v in panel.fields.items()})
    data = dict(inputs.strategy_data)
    if isinstance(data.get("universe"), np.ndarray):
        data["universe"] = data["universe"][:rows]
    return replace(
        inputs,
        panel=head,
        benchmark=None if inputs.benchmark is None else inputs.benchmark.iloc[:rows],
        membership=None if inputs.membership is None else inputs.membership[:rows],
        strategy_data=data,
    )


# -- service side ------------------------------------------------------------------------------
def parse_walk_forward(spec: str) -> tuple[FoldScheme, int | None]:
    """``"folds=4,train=756,test=252[,gap=5][,anchored]"`` or ``"IN:OUT[:GAP][:anchored]"``
    (dates = trading days). ``folds=N`` keeps the last N folds (the most recent)."""
    try:
        if "=" not in spec:
            return FoldScheme.parse(spec), None
        values: dict[str, int] = {}
        anchored = False
        for piece in (p.strip() for p in spec.split(",")):
            if piece in ("anchored", "rolling"):
                anchored = piece == "anchored"
                continue
            key, _, number = piece.partition("=")
            if key not in ("folds", "train", "test", "gap") or not number.strip().isdigit():
                raise FoldError(
                    f"walk-forward: {piece!r} not understood; write "
                    "'folds=4,train=756,test=252[,gap=5][,anchored]'"
                )
            values[key] = int(number)
        if "train" not in values or "test" not in values:
            raise FoldError("walk-forward needs train=… and test=… (trading days)")
        scheme = FoldScheme(
            values["train"], values["test"], values.get("gap", 0), anchored=anchored
        )
        folds = values.get("folds")
        if folds is not None and folds < 1:
            raise FoldError("walk-forward folds must be at least 1")
        return scheme, folds
    except FoldError as error:
        raise ConfigurationError(str(error)) from None


def run_sweep(
    optimization: OptimizationRequest,
    *,
    database: Database,
    data: DataService,
    reference: ReferenceDataService,
    clock: Clock,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> SweepOutcome:
    """Run the sweep, storing each trial as it finishes (see ``BacktestService.optimize``)."""
    request = replace(optimization.request, engine="auto")
    space, bayesian = _space(optimization, request.strategy)
    scheme = parse_walk_forward(optimization.walk_forward) if optimization.walk_forward else None
    warmup = sweep_warmup(request.strategy, optimization.fixed_params, space)
    warmup = warmup if request.start is not None else 0
    spec = TrialSpec(
        database.url, request, tuple(sorted(optimization.fixed_params.items())), warmup
    )
    inputs = prepare_inputs(
        data,
        reference,
        request,
        warmup=warmup,
        params=_load_params(request.strategy, optimization.fixed_params),
    )
    remember_inputs(spec, inputs)
    # folds and scores cover the traded rows: the warm-up rows are history only
    dates = pd.DatetimeIndex(inputs.panel.dates[inputs.warmup :])
    folds = _folds(scheme, dates)
    per_sweep = optimization.trials if bayesian else int(np.prod([len(v) for v in space.values()]))
    method = "walk-forward" if folds else ("bayesian" if bayesian else "grid")
    recorder = _TrialRecorder(
        database,
        clock,
        uuid.uuid4().hex,
        int(per_sweep or 0) * max(len(folds), 1),
        on_trial,
        per_fold=int(per_sweep or 0),
    )
    recorder.start(request, optimization, method)
    try:
        result = _search(optimization, spec, space, bayesian, dates, folds, recorder)
    except BaseException as error:
        recorder.finish("failed", None, {"error": f"{type(error).__name__}: {error}"[:2000]})
        raise
    best, summary = _summarise(result, recorder.per_fold)
    summary["trials"] = len(recorder.records)
    recorder.finish("done", best, summary)
    trials = sorted(recorder.records, key=lambda record: record.number)
    return SweepOutcome(recorder.sweep_id, request.strategy, method, best, summary, result, trials)


def sweep_warmup(strategy: str, fixed: dict[str, Any], space: dict[str, Any]) -> int:
    """The longest warm-up any trial of ``space`` needs (grid values, and the ends of Bayesian
    ranges); combinations the strategy refuses are skipped (their trials fail on their own)."""
    from quantdesk.services.backtest_run import warmup_rows
    from quantdesk.strategies.base import StrategyParameterError, validate_params

    cls = strategy_class(strategy)
    names = list(space)
    candidates = [
        list(values[:2]) if isinstance(values, tuple) else list(values) for values in space.values()
    ]
    rows = 0
    for combination in itertools.islice(itertools.product(*candidates), _WARMUP_COMBINATIONS):
        values = {**fixed, **dict(zip(names, combination, strict=True))}
        try:
            params = validate_params(cls.name, cls.Params, values)
        except StrategyParameterError:
            continue
        rows = max(rows, warmup_rows(cls, params))
    return rows


def _load_params(strategy: str, fixed: dict[str, Any]) -> Any:
    """Parameters whose declared data requirements a sweep loads: the fixed ones over the
    defaults (None when they do not validate alone; the defaults' requirements are used)."""
    from quantdesk.strategies.base import StrategyParameterError, validate_params

    cls = strategy_class(strategy)
    try:
        return validate_params(cls.name, cls.Params, dict(fixed))
    except StrategyParameterError:
        return None


def _space(optimization: OptimizationRequest, strategy: str) -> tuple[dict[str, Any], bool]:
    from quantdesk.backtest.optimize import parse_grid, parse_search_space
    from quantdesk.strategies.base import validate_params

    if not optimization.grid:
        raise ConfigurationError("give a parameter space, e.g. --grid 'lookback=126,252'")
    bayesian = optimization.trials is not None
    if bayesian and (optimization.trials or 0) < 1:
        raise ConfigurationError(f"--trials must be at least 1, got {optimization.trials}")
    space: dict[str, Any] = dict(
        parse_search_space(optimization.grid) if bayesian else parse_grid(optimization.grid)
    )
    cls = strategy_class(strategy)
    # fail before any trial runs when a parameter name or value is wrong
    first = {k: (v[0] if isinstance(v, list | tuple) else v) for k, v in space.items()}
    validate_params(cls.name, cls.Params, {**optimization.fixed_params, **first})
    return space, bayesian


def _folds(
    scheme: tuple[FoldScheme, int | None] | None, dates: pd.DatetimeIndex
) -> tuple[Fold, ...]:
    if scheme is None:
        return ()
    try:
        folds = scheme[0].split(dates)
    except FoldError as error:
        raise ConfigurationError(f"walk-forward: {error}") from None
    return folds if scheme[1] is None else folds[-scheme[1] :]


def _search(
    optimization: OptimizationRequest,
    spec: TrialSpec,
    space: dict[str, Any],
    bayesian: bool,
    dates: pd.DatetimeIndex,
    folds: tuple[Fold, ...],
    recorder: _TrialRecorder,
) -> SweepResult | WalkForwardResult:
    from quantdesk.backtest.executors import create_executor
    from quantdesk.backtest.optimize import bayesian_search, grid_search
    from quantdesk.backtest.walk_forward import walk_forward

    if bayesian:
        import optuna

        # one INFO line per study on stderr would interleave with the progress bar
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    with create_executor(optimization.executor) as executor:
        if folds:
            return walk_forward(
                dates,
                space,
                functools.partial(evaluate_window, spec),
                folds,
                search="bayesian" if bayesian else "grid",
                executor=executor,
                n_trials=optimization.trials,
                seed=optimization.seed,
                on_result=recorder.store_fold_trial,
            )
        if bayesian:
            return bayesian_search(
                space,
                functools.partial(evaluate_trial, spec),
                optimization.trials or 0,
                executor,
                seed=optimization.seed,
                on_result=recorder.store,
            )
        return grid_search(
            space, functools.partial(evaluate_trial, spec), executor, on_result=recorder.store
        )


class _TrialRecorder:
    """Writes the sweep row and each trial (one small transaction each) as results arrive."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        sweep_id: str,
        total: int,
        on_trial: Callable[[TrialRecord], None] | None,
        *,
        per_fold: int = 0,
    ) -> None:
        self.database = database
        # trial numbers are the search's own (what best_trial names); a walk-forward fold's
        # trials are offset by fold number × trials per fold, so numbers stay unique
        self.per_fold = per_fold
        self.clock = clock
        self.sweep_id = sweep_id
        self.total = total
        self.on_trial = on_trial
        self.records: list[TrialRecord] = []

    def start(self, request: RunRequest, optimization: OptimizationRequest, method: str) -> None:
        with self.database.transaction() as connection:
            repo.insert_sweep(
                connection,
                {
                    "id": self.sweep_id,
                    "strategy": request.strategy,
                    "method": method,
                    "space": json_safe(
                        {
                            "grid": optimization.grid,
                            "trials": optimization.trials,
                            "walk_forward": optimization.walk_forward,
                            "fixed_params": optimization.fixed_params,
                            "executor": optimization.executor,
                            "universe": request.universe.label,
                            "start": request.start.isoformat() if request.start else None,
                            "end": request.end.isoformat() if request.end else None,
                        }
                    ),
                    "status": "running",
                    "best_params": None,
                    "summary": None,
                    "created_at": self.clock.now(),
                    "finished_at": None,
                },
            )

    def store_fold_trial(self, fold: Fold, trial: Trial) -> None:
        self.store(trial, fold)

    def store(self, trial: Trial, fold: Fold | None = None) -> None:
        record = TrialRecord(
            sweep_id=self.sweep_id,
            number=trial_number(trial.number, fold, self.per_fold),
            fold=None if fold is None else fold.number,
            params=dict(trial.params),
            score=float(trial.score),
            metrics={**{k: float(v) for k, v in trial.metrics.items()}, "trial": trial.number},
            done=len(self.records) + 1,
            total=self.total,
        )
        with self.database.transaction() as connection:
            repo.insert_trial(
                connection,
                {
                    "sweep_id": self.sweep_id,
                    "number": record.number,
                    "fold": record.fold,
                    "params": json_safe(record.params),
                    "score": _finite(record.score),
                    "metrics": json_safe(record.metrics),
                },
            )
        self.records.append(record)
        if self.on_trial is not None:
            self.on_trial(record)

    def finish(self, status: str, best: dict[str, Any] | None, summary: dict[str, Any]) -> None:
        with self.database.transaction() as connection:
            repo.finish_sweep(
                connection,
                self.sweep_id,
                status=status,
                best_params=None if best is None else json_safe(best),
                summary=json_safe(summary),
                finished_at=self.clock.now(),
            )


def trial_number(number: int, fold: Fold | None, per_fold: int) -> int:
    """The stored number of the search's trial ``number`` (in ``fold`` for walk-forward)."""
    return number if fold is None else fold.number * per_fold + number


def _summarise(
    result: SweepResult | WalkForwardResult, per_fold: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    if isinstance(result, SweepResult):
        return dict(result.best_params), _sweep_summary(result)
    folds = []
    for fold in result.folds:
        folds.append(
            {
                "fold": fold.fold.number,
                "in_sample": [
                    str(fold.fold.in_sample_start.date()),
                    str(fold.fold.in_sample_end.date()),
                ],
                "out_of_sample": [
                    str(fold.fold.out_of_sample_start.date()),
                    str(fold.fold.out_of_sample_end.date()),
                ],
                "params": dict(fold.params),
                "in_sample_score": fold.in_sample_score,
                "out_of_sample_score": fold.out_of_sample_score,
                **_sweep_summary(fold.sweep),
                "best_trial": trial_number(fold.sweep.best.number, fold.fold, per_fold),
            }
        )
    dsr = [f["deflated_sharpe"] for f in folds if f["deflated_sharpe"] is not None]
    pbo = [f["pbo"] for f in folds if f["pbo"] is not None]
    summary = {
        "best_score": result.folds[-1].in_sample_score,
        "out_of_sample_sharpe": result.out_of_sample_sharpe,
        "deflated_sharpe": float(np.mean(dsr)) if dsr else None,
        "pbo": float(np.mean(pbo)) if pbo else None,
        "folds": folds,
        "notes": ["best_params are the last fold's; deflated_sharpe and pbo are fold means"],
    }
    return dict(result.folds[-1].params), summary


def _sweep_summary(result: SweepResult) -> dict[str, Any]:
    dsr, pbo = result.deflated_sharpe, result.overfitting
    return {
        "best_score": result.best.score,
        "best_trial": result.best.number,
        "deflated_sharpe": None if dsr is None else dsr.probability,
        "pbo": None if pbo is None else pbo.probability,
        "notes": list(result.notes),
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
