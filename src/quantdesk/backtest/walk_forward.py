"""Walk-forward validation: optimise in sample, score the chosen parameters out of sample.

Folds are laid over a date index (trading days) by a :class:`FoldScheme`: an in-sample window
of ``in_sample`` dates (rolling), or from the first date (``anchored``, expanding), then
``gap`` dates left out as an embargo, then an out-of-sample window of ``out_of_sample`` dates.
Each next fold moves forward by ``out_of_sample`` dates, so the out-of-sample windows are
contiguous and never overlap, and every in-sample window ends before its out-of-sample
window starts.  The out-of-sample returns of all folds are stitched into one series, the honest
track record of the whole procedure.

The evaluation sees a window as ``(params, start, end)`` with both ends included.  It may read
data before ``start`` (look-back warm-up) but never after ``end``; out-of-sample returns outside
the window are dropped before stitching.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from quantdesk.analytics import sharpe_ratio
from quantdesk.analytics.overfitting import DEFAULT_BLOCKS
from quantdesk.backtest.executors import Executor, SerialExecutor
from quantdesk.backtest.optimize import (
    DEFAULT_BATCH_SIZE,
    GridSpace,
    SearchSpace,
    SweepResult,
    Trial,
    TrialOutcome,
    bayesian_search,
    grid_search,
)

WindowEvaluation = Callable[[dict[str, Any], pd.Timestamp, pd.Timestamp], TrialOutcome]
"""Runs parameters over ``[start, end]`` (both included); picklable like an Evaluation."""


class FoldError(ValueError):
    """Folds cannot be laid out, or given folds overlap (the message names the fold)."""


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold; every bound is a date of the index and is included."""

    number: int
    in_sample_start: pd.Timestamp
    in_sample_end: pd.Timestamp
    out_of_sample_start: pd.Timestamp
    out_of_sample_end: pd.Timestamp


@dataclass(frozen=True)
class FoldScheme:
    """How folds are cut, in numbers of dates of the index (trading days for daily bars).

    ``allow_partial`` keeps a last out-of-sample window shorter than ``out_of_sample`` so the
    folds reach the end of the index; by default dates after the last full window are unused.
    """

    in_sample: int
    out_of_sample: int
    gap: int = 0
    anchored: bool = False
    allow_partial: bool = False

    def __post_init__(self) -> None:
        if self.in_sample < 2 or self.out_of_sample < 2:
            raise FoldError(
                f"in_sample ({self.in_sample}) and out_of_sample ({self.out_of_sample}) "
                "must each be at least 2 dates"
            )
        if self.gap < 0:
            raise FoldError(f"gap must be >= 0 dates, got {self.gap}")

    @classmethod
    def parse(cls, spec: str) -> FoldScheme:
        """``"IN:OUT[:GAP][:anchored|rolling]"``, e.g. ``"756:252"`` or ``"756:252:5:anchored"``."""
        pieces = [piece.strip() for piece in spec.split(":")]
        mode = pieces.pop() if pieces and pieces[-1] in ("anchored", "rolling") else "rolling"
        if len(pieces) not in (2, 3) or not all(piece.isdigit() for piece in pieces):
            raise FoldError(
                f"walk-forward spec {spec!r}: write IN:OUT[:GAP][:anchored|rolling] in dates, "
                "e.g. '756:252' or '756:252:5:anchored'"
            )
        lengths = [int(piece) for piece in pieces]
        gap = lengths[2] if len(lengths) == 3 else 0
        return cls(lengths[0], lengths[1], gap, anchored=mode == "anchored")

    def split(self, dates: pd.DatetimeIndex) -> tuple[Fold, ...]:
        """The folds over ``dates`` (sorted, unique), in time order."""
        if not dates.is_monotonic_increasing or not dates.is_unique:
            raise FoldError("dates must be sorted ascending without duplicates")
        folds: list[Fold] = []
        first_out = self.in_sample + self.gap
        while first_out < len(dates):
            last_out = first_out + self.out_of_sample - 1
            if last_out >= len(dates):
                if not self.allow_partial or len(dates) - first_out < 2:
                    break
                last_out = len(dates) - 1
            last_in = first_out - self.gap - 1
            first_in = 0 if self.anchored else last_in - self.in_sample + 1
            folds.append(
                Fold(
                    len(folds),
                    dates[first_in],
                    dates[last_in],
                    dates[first_out],
                    dates[last_out],
                )
            )
            first_out += self.out_of_sample
        if not folds:
            raise FoldError(
                f"dates has {len(dates)} rows; one fold needs in_sample {self.in_sample} + "
                f"gap {self.gap} + out_of_sample {self.out_of_sample} = "
                f"{self.in_sample + self.gap + self.out_of_sample}"
            )
        return tuple(folds)


@dataclass(frozen=True)
class OutOfSampleTask:
    """The out-of-sample run of one fold's chosen parameters (named in task errors)."""

    fold: int
    params: Mapping[str, Any]
    start: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class FoldResult:
    """One fold: its in-sample sweep, the parameters it chose and their out-of-sample run."""

    fold: Fold
    sweep: SweepResult
    out_of_sample: TrialOutcome

    @property
    def params(self) -> Mapping[str, Any]:
        """Parameters chosen in sample."""
        return self.sweep.best_params

    @property
    def in_sample_score(self) -> float:
        """Score of the chosen parameters in sample."""
        return self.sweep.best.score

    @property
    def out_of_sample_score(self) -> float:
        """Score of the chosen parameters out of sample."""
        return self.out_of_sample.score


@dataclass(frozen=True)
class WalkForwardResult:
    """Every fold, the stitched out-of-sample daily returns and their annualised Sharpe."""

    folds: tuple[FoldResult, ...]
    out_of_sample_returns: pd.Series
    out_of_sample_sharpe: float

    def to_frame(self) -> pd.DataFrame:
        """One row per fold: windows, chosen params, IS/OOS scores, DSR and PBO of the sweep.

        ``deflated_sharpe`` and ``pbo`` are probabilities (fractions); NaN when not computed.
        """
        rows = []
        for result in self.folds:
            fold, sweep = result.fold, result.sweep
            dsr = sweep.deflated_sharpe
            rows.append(
                {
                    "fold": fold.number,
                    "in_sample_start": fold.in_sample_start,
                    "in_sample_end": fold.in_sample_end,
                    "out_of_sample_start": fold.out_of_sample_start,
                    "out_of_sample_end": fold.out_of_sample_end,
                    "params": dict(result.params),
                    "trials": len(sweep.trials),
                    "in_sample_score": result.in_sample_score,
                    "out_of_sample_score": result.out_of_sample_score,
                    "deflated_sharpe": math.nan if dsr is None else dsr.probability,
                    "pbo": math.nan if sweep.overfitting is None else sweep.overfitting.probability,
                }
            )
        return pd.DataFrame(rows).set_index("fold")


def walk_forward(
    dates: pd.DatetimeIndex,
    space: GridSpace | SearchSpace,
    evaluate_window: WindowEvaluation,
    folds: FoldScheme | Sequence[Fold],
    search: Literal["grid", "bayesian"] = "grid",
    executor: Executor | None = None,
    *,
    n_trials: int | None = None,
    seed: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_result: Callable[[Fold, Trial], None] | None = None,
    pbo_blocks: int = DEFAULT_BLOCKS,
) -> WalkForwardResult:
    """Optimise each fold in sample (grid, or ``n_trials`` of Bayesian search), then run the
    chosen parameters out of sample.

    Folds run one after another, each sweep in parallel on ``executor``; the out-of-sample
    runs of all folds then go to the executor together.  A Bayesian fold uses
    ``seed + fold number`` (so folds explore differently yet reproducibly).  ``on_result``
    receives ``(fold, trial)`` as each in-sample trial finishes.
    """
    layout = folds.split(dates) if isinstance(folds, FoldScheme) else tuple(folds)
    check_folds(layout)
    if search == "bayesian" and n_trials is None:
        raise ValueError("search='bayesian' needs n_trials")
    if search not in ("grid", "bayesian"):
        raise ValueError(f"search must be 'grid' or 'bayesian', got {search!r}")
    runner = executor or SerialExecutor()
    sweeps = []
    for fold in layout:
        evaluate = functools.partial(
            _evaluate_in_window, evaluate_window, fold.in_sample_start, fold.in_sample_end
        )
        callback = None if on_result is None else functools.partial(on_result, fold)
        if search == "grid":
            sweep = grid_search(space, evaluate, runner, on_result=callback, pbo_blocks=pbo_blocks)
        else:
            sweep = bayesian_search(
                space,
                evaluate,
                n_trials or 0,
                runner,
                seed=None if seed is None else seed + fold.number,
                batch_size=batch_size,
                on_result=callback,
                pbo_blocks=pbo_blocks,
            )
        sweeps.append(sweep)
    outcomes = _run_out_of_sample(layout, sweeps, evaluate_window, runner)
    results = tuple(
        FoldResult(fold, sweep, outcome)
        for fold, sweep, outcome in zip(layout, sweeps, outcomes, strict=True)
    )
    stitched = pd.concat(
        [
            result.out_of_sample.returns.loc[
                result.fold.out_of_sample_start : result.fold.out_of_sample_end
            ]
            for result in results
        ]
    )
    return WalkForwardResult(results, stitched, sharpe_ratio(stitched))


def check_folds(folds: Sequence[Fold]) -> None:
    """Raise :class:`FoldError` unless every in-sample window ends before its out-of-sample
    window starts and the out-of-sample windows are in time order without overlap."""
    if not folds:
        raise FoldError("no folds given")
    numbers = [fold.number for fold in folds]
    if len(set(numbers)) != len(numbers):
        raise FoldError(f"fold numbers must be unique, got {numbers}")
    for fold in folds:
        if not fold.in_sample_start <= fold.in_sample_end < fold.out_of_sample_start:
            raise FoldError(
                f"fold {fold.number}: the in-sample window must end before out of sample"
            )
        if not fold.out_of_sample_start <= fold.out_of_sample_end:
            raise FoldError(f"fold {fold.number}: out-of-sample window ends before it starts")
    for previous, fold in itertools.pairwise(folds):
        if not previous.out_of_sample_end < fold.out_of_sample_start:
            raise FoldError(
                f"fold {fold.number}: its out-of-sample window overlaps or precedes "
                f"fold {previous.number}'s"
            )


def _evaluate_in_window(
    evaluate_window: WindowEvaluation,
    start: pd.Timestamp,
    end: pd.Timestamp,
    params: dict[str, Any],
) -> TrialOutcome:
    # top level so that functools.partial of it pickles for process and Dask workers
    return evaluate_window(params, start, end)


def _evaluate_out_of_sample(
    evaluate_window: WindowEvaluation, task: OutOfSampleTask
) -> TrialOutcome:
    return evaluate_window(dict(task.params), task.start, task.end)


def _run_out_of_sample(
    folds: Sequence[Fold],
    sweeps: Sequence[SweepResult],
    evaluate_window: WindowEvaluation,
    executor: Executor,
) -> list[TrialOutcome]:
    tasks = [
        OutOfSampleTask(
            fold.number, sweep.best_params, fold.out_of_sample_start, fold.out_of_sample_end
        )
        for fold, sweep in zip(folds, sweeps, strict=True)
    ]
    outcomes: dict[int, TrialOutcome] = {}
    function = functools.partial(_evaluate_out_of_sample, evaluate_window)
    for task, outcome in executor.map_unordered(function, tasks):
        if not isinstance(outcome, TrialOutcome):
            raise TypeError(
                f"fold {task.fold} out of sample: the evaluation returned "
                f"{type(outcome).__name__}, expected a TrialOutcome"
            )
        outcomes[task.fold] = outcome
    return [outcomes[fold.number] for fold in folds]
