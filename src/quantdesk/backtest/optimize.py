"""Parameter search (grid and Bayesian) with overfitting statistics reported with every sweep.

The search knows nothing about strategies: it calls an :data:`Evaluation`, a picklable function
from a parameter dict to a :class:`TrialOutcome` (the run's daily returns and its score; the
default score is the annualised Sharpe ratio).  Scores are maximised.  Trials run on an
:class:`~quantdesk.backtest.executors.Executor`; each finished trial is passed to ``on_result``
as it arrives (in completion order) so it can be stored and counted on a progress bar.

Every :class:`SweepResult` carries

- the deflated Sharpe ratio of the best trial given the per-period Sharpe ratios of all
  trials, with the number of trials = the trials run (Bailey & López de Prado 2014);
- the probability of backtest overfitting by CSCV over the T × N matrix of trial returns on
  their common dates (Bailey et al. 2015).  ``pbo_blocks`` (default 16) is reduced to the largest
  even number that leaves at least two rows per block when the common history is shorter than
  ``2 × pbo_blocks`` rows; with fewer than four common rows, or fewer than two trials, PBO is not
  computed and ``notes`` says why.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.analytics import (
    BacktestOverfitting,
    DeflatedSharpeRatio,
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ratio,
)
from quantdesk.analytics.overfitting import DEFAULT_BLOCKS
from quantdesk.backtest.executors import Executor, SerialExecutor
from quantdesk.core.errors import QuantdeskError

DEFAULT_BATCH_SIZE = 8
"""Bayesian trials asked per batch: they run in parallel, then the sampler learns from all."""

ParameterValue = int | float | str | bool
GridSpace = Mapping[str, Sequence[ParameterValue]]
"""Grid: every parameter's list of values; the sweep runs their Cartesian product."""
Range = tuple[float, float] | tuple[float, float, float]
SearchSpace = Mapping[str, Range | Sequence[ParameterValue]]
"""Bayesian: ``(low, high)`` or ``(low, high, step)`` ranges (ints when both ends are ints,
bounds inclusive) or a list of choices."""


class SearchSpaceError(QuantdeskError, ValueError):
    """A search space (or its text form) is malformed; the message names the parameter."""


class OptimizationError(QuantdeskError):
    """A sweep could not produce a result (e.g. no trial has a finite score)."""


@dataclass(frozen=True)
class TrialOutcome:
    """What one evaluation returns: daily simple returns (fractions) and the score to maximise.

    ``metrics`` are extra figures to keep with the trial (e.g. max drawdown, turnover).
    """

    returns: pd.Series
    score: float
    metrics: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_returns(
        cls, returns: pd.Series, metrics: Mapping[str, float] | None = None
    ) -> TrialOutcome:
        """Outcome scored by the annualised Sharpe ratio (252 days, rf = 0; NaN if flat)."""
        return cls(returns=returns, score=sharpe_ratio(returns), metrics=dict(metrics or {}))


Evaluation = Callable[[dict[str, Any]], TrialOutcome]
"""Runs one parameter set; must be picklable (a top-level function or a ``functools.partial``
of one) to run on process or Dask executors."""

ResultCallback = Callable[["Trial"], None]


@dataclass(frozen=True)
class TrialTask:
    """One trial sent to an executor: its number and parameters (named in task errors)."""

    number: int
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Trial:
    """A finished trial: parameters, score, extra metrics and the run's daily returns."""

    number: int
    params: Mapping[str, Any]
    score: float
    metrics: Mapping[str, float]
    returns: pd.Series


@dataclass(frozen=True)
class SweepResult:
    """Every trial (by number), the best one and the sweep's overfitting statistics."""

    method: str
    trials: tuple[Trial, ...]
    best: Trial
    deflated_sharpe: DeflatedSharpeRatio | None
    overfitting: BacktestOverfitting | None
    notes: tuple[str, ...] = ()

    @property
    def best_params(self) -> Mapping[str, Any]:
        """Parameters of the highest-scoring trial."""
        return self.best.params

    @classmethod
    def from_trials(
        cls, method: str, trials: Iterable[Trial], pbo_blocks: int = DEFAULT_BLOCKS
    ) -> SweepResult:
        """Pick the best trial (ties: lowest number) and compute DSR and PBO."""
        ordered = tuple(sorted(trials, key=lambda trial: trial.number))
        scored = [trial for trial in ordered if math.isfinite(trial.score)]
        if not scored:
            raise OptimizationError(f"none of the {len(ordered)} trials has a finite score")
        best = max(scored, key=lambda trial: (trial.score, -trial.number))
        notes: list[str] = []
        deflated = _deflated_sharpe(best, ordered, notes)
        overfitting = _overfitting(ordered, pbo_blocks, notes)
        return cls(method, ordered, best, deflated, overfitting, tuple(notes))

    def to_frame(self) -> pd.DataFrame:
        """One row per trial: ``number``, the parameters, ``score`` and the metrics."""
        rows = [
            {"number": trial.number, **trial.params, "score": trial.score, **trial.metrics}
            for trial in self.trials
        ]
        return pd.DataFrame(rows).set_index("number")


def grid_search(
    space: GridSpace,
    evaluate: Evaluation,
    executor: Executor | None = None,
    *,
    on_result: ResultCallback | None = None,
    pbo_blocks: int = DEFAULT_BLOCKS,
) -> SweepResult:
    """Evaluate every combination of ``space`` (trial numbers follow the product order)."""
    names = _check_grid(space)
    tasks = [
        TrialTask(number, dict(zip(names, values, strict=True)))
        for number, values in enumerate(itertools.product(*(space[name] for name in names)))
    ]
    trials = _run_tasks(tasks, evaluate, executor or SerialExecutor(), on_result)
    return SweepResult.from_trials("grid", trials, pbo_blocks)


def bayesian_search(
    space: SearchSpace,
    evaluate: Evaluation,
    n_trials: int,
    executor: Executor | None = None,
    *,
    seed: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_result: ResultCallback | None = None,
    pbo_blocks: int = DEFAULT_BLOCKS,
) -> SweepResult:
    """Optuna TPE search: ``n_trials`` evaluations, asked in batches of ``batch_size``.

    Each batch runs in parallel on the executor; its scores are told to the sampler in trial
    order once the batch is complete, so a given ``seed`` and ``batch_size`` give the same
    trials on any executor.  A trial without a finite score is told as failed.
    """
    import optuna

    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    distributions = {name: _distribution(name, spec) for name, spec in space.items()}
    if not distributions:
        raise SearchSpaceError("the search space has no parameters")
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    runner = executor or SerialExecutor()
    trials: list[Trial] = []
    while len(trials) < n_trials:
        asked = [study.ask(distributions) for _ in range(min(batch_size, n_trials - len(trials)))]
        tasks = [TrialTask(trial.number, dict(trial.params)) for trial in asked]
        batch = sorted(_run_tasks(tasks, evaluate, runner, on_result), key=lambda t: t.number)
        for optuna_trial, trial in zip(asked, batch, strict=True):
            if math.isfinite(trial.score):
                study.tell(optuna_trial, trial.score)
            else:
                study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
        trials.extend(batch)
    return SweepResult.from_trials("bayesian", trials, pbo_blocks)


def _run_trial(evaluate: Evaluation, task: TrialTask) -> TrialOutcome:
    # top level so that functools.partial(_run_trial, evaluate) pickles
    return evaluate(dict(task.params))


def _run_tasks(
    tasks: list[TrialTask],
    evaluate: Evaluation,
    executor: Executor,
    on_result: ResultCallback | None,
) -> list[Trial]:
    trials = []
    for task, outcome in executor.map_unordered(functools.partial(_run_trial, evaluate), tasks):
        if not isinstance(outcome, TrialOutcome):
            raise TypeError(
                f"trial {task.number} with params {dict(task.params)}: the evaluation returned "
                f"{type(outcome).__name__}, expected a TrialOutcome"
            )
        trial = Trial(
            task.number, task.params, float(outcome.score), outcome.metrics, outcome.returns
        )
        trials.append(trial)
        if on_result is not None:
            on_result(trial)
    return trials


def _check_grid(space: GridSpace) -> list[str]:
    if not space:
        raise SearchSpaceError("the grid has no parameters")
    for name, values in space.items():
        if isinstance(values, tuple | str) or not isinstance(values, Sequence):
            raise SearchSpaceError(
                f"grid parameter {name!r}: give a list of values, got {values!r} "
                "((low, high) ranges are for bayesian_search; write 'low:high:step' for a grid)"
            )
        if not values:
            raise SearchSpaceError(f"grid parameter {name!r} has no values")
    return list(space)


def _distribution(name: str, spec: Range | Sequence[ParameterValue]) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(spec, list):
        if not spec:
            raise SearchSpaceError(f"parameter {name!r} has no choices")
        return CategoricalDistribution(spec)
    if not isinstance(spec, tuple):
        raise SearchSpaceError(
            f"parameter {name!r}: give (low, high), (low, high, step) or a list of choices, "
            f"got {spec!r}"
        )
    bounds = _checked_range(name, spec, repr(spec))
    low, high, step = bounds[0], bounds[1], (bounds[2] if len(bounds) == 3 else None)
    if all(isinstance(v, int) for v in bounds):
        return IntDistribution(int(low), int(high), step=int(step or 1))
    return FloatDistribution(float(low), float(high), step=None if step is None else float(step))


def _deflated_sharpe(
    best: Trial, trials: tuple[Trial, ...], notes: list[str]
) -> DeflatedSharpeRatio | None:
    sharpes = np.array([sharpe_ratio(trial.returns.dropna(), annualize=False) for trial in trials])
    finite = sharpes[np.isfinite(sharpes)]
    returns = best.returns.dropna()
    if len(finite) < 2:
        notes.append("deflated Sharpe ratio not computed: fewer than 2 trials have a Sharpe ratio")
        return None
    if len(returns) < 2 or np.ptp(returns.to_numpy()) == 0.0:
        notes.append("deflated Sharpe ratio not computed: the best trial's returns do not vary")
        return None
    return deflated_sharpe_ratio(returns, finite, number_of_trials=len(trials))


def _overfitting(
    trials: tuple[Trial, ...], requested_blocks: int, notes: list[str]
) -> BacktestOverfitting | None:
    if len(trials) < 2:
        notes.append("PBO not computed: it needs at least 2 trials")
        return None
    matrix = trial_returns_matrix(trials)
    blocks = min(requested_blocks, len(matrix) // 2) // 2 * 2
    if blocks < 2:
        notes.append(f"PBO not computed: trials share only {len(matrix)} dates (need >= 4)")
        return None
    if blocks < requested_blocks:
        notes.append(f"PBO uses {blocks} blocks (not {requested_blocks}): {len(matrix)} dates")
    return probability_of_backtest_overfitting(matrix.to_numpy(), blocks=blocks)


def trial_returns_matrix(trials: Iterable[Trial]) -> pd.DataFrame:
    """T × N daily returns, one column per trial number, on the dates every trial has."""
    columns = {trial.number: trial.returns for trial in trials}
    return pd.concat(columns, axis=1, join="inner").dropna()


#: The most combinations a grid may have (a sweep beyond this would run for days).
MAX_GRID_SIZE = 10_000


def parse_grid(spec: str) -> dict[str, list[ParameterValue]]:
    """Parse ``"lookback=126,252;top_fraction=0.1,0.2"`` or ranges ``"lookback=63:252:63"``.

    Ranges are ``start:stop:step`` with ``stop`` included when the steps land on it.
    """
    space: dict[str, list[ParameterValue]] = {}
    for name, text in _entries(spec):
        if ":" not in text:
            space[name] = _choices(name, text)
            continue
        bounds = _range(name, text)
        if len(bounds) != 3:
            raise SearchSpaceError(f"grid parameter {name!r}: a range needs a step, got {text!r}")
        space[name] = _expand(*bounds)
    size = math.prod(len(values) for values in space.values())
    if size > MAX_GRID_SIZE:
        raise SearchSpaceError(
            f"the grid has {size:,} combinations, more than the {MAX_GRID_SIZE:,} allowed; "
            "use fewer values or larger steps (or --trials for a Bayesian search)"
        )
    return space


def parse_search_space(spec: str) -> dict[str, Range | list[ParameterValue]]:
    """Parse a Bayesian space: ``"lookback=63:252;top_fraction=0.05:0.3;weighting=equal,rank"``.

    ``low:high`` and ``low:high:step`` are ranges (ints when both ends are), lists are choices.
    """
    space: dict[str, Range | list[ParameterValue]] = {}
    for name, text in _entries(spec):
        space[name] = _range(name, text) if ":" in text else _choices(name, text)
    return space


def _entries(spec: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for part in filter(None, (piece.strip() for piece in spec.split(";"))):
        name, sign, text = (piece.strip() for piece in part.partition("="))
        if not sign or not name.isidentifier() or not text:
            raise SearchSpaceError(f"{part!r}: write name=value,value or name=start:stop:step")
        if name in dict(entries):
            raise SearchSpaceError(f"parameter {name!r} is given twice")
        entries.append((name, text))
    if not entries:
        raise SearchSpaceError(f"{spec!r} names no parameters, e.g. 'lookback=126,252'")
    return entries


def _choices(name: str, text: str) -> list[ParameterValue]:
    values = [piece.strip() for piece in text.split(",")]
    if not all(values):
        raise SearchSpaceError(f"parameter {name!r}: empty value in {text!r}")
    return [_value(piece) for piece in values]


def _range(name: str, text: str) -> Range:
    return _checked_range(name, [_value(piece.strip()) for piece in text.split(":")], text)


def _checked_range(name: str, values: Sequence[object], shown: str) -> Range:
    """``(low, high)`` or ``(low, high, step)`` of numbers with low < high and step > 0."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(values) not in (2, 3) or len(numbers) != len(values):
        raise SearchSpaceError(f"parameter {name!r}: a range is low:high[:step], got {shown}")
    low, high = numbers[0], numbers[1]
    step = numbers[2] if len(numbers) == 3 else None
    if not low < high or (step is not None and not step > 0):
        raise SearchSpaceError(f"parameter {name!r}: need low < high and step > 0, got {shown}")
    return (low, high) if step is None else (low, high, step)


def _expand(start: float, stop: float, step: float) -> list[ParameterValue]:
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise SearchSpaceError(f"a grid range needs finite numbers, got {start}:{stop}:{step}")
    steps = (stop - start) / step
    if steps >= MAX_GRID_SIZE:  # checked before building the list: 1e-9 steps would exhaust memory
        raise SearchSpaceError(
            f"the range {start}:{stop}:{step} has {steps:,.0f} values, more than the "
            f"{MAX_GRID_SIZE:,} a grid allows; use a larger step"
        )
    count = math.floor(steps + 1e-9) + 1
    if all(isinstance(v, int) for v in (start, stop, step)):
        return [int(start + index * step) for index in range(count)]
    # rounding keeps 0.1 + 2 × 0.1 from printing as 0.30000000000000004
    return [round(start + index * step, 12) for index in range(count)]


def _value(text: str) -> ParameterValue:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text
