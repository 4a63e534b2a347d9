"""Overfitting controls for parameter sweeps: deflated Sharpe ratio and PBO (CSCV).

- Deflated Sharpe ratio: Bailey & López de Prado (2014), "The Deflated Sharpe Ratio:
  Correcting for Selection Bias, Backtest Overfitting and Non-Normality", J. Portfolio Mgmt.
- Probability of backtest overfitting: Bailey, Borwein, López de Prado & Zhu (2015),
  "The Probability of Backtest Overfitting", J. Computational Finance (CSCV method).

All Sharpe ratios here are **per period** (not annualised): annualised figures must be
divided by √periods first, and variances by periods.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

EULER_MASCHERONI = 0.5772156649015329
DEFAULT_BLOCKS = 16

PerformanceFunction = Callable[[np.ndarray], np.ndarray]
"""Maps a rows × trials matrix of returns to one score per trial (higher is better)."""


@dataclass(frozen=True, slots=True)
class DeflatedSharpeRatio:
    """Deflated Sharpe ratio of a selected strategy (Sharpe ratios per period).

    ``probability`` is the DSR itself: the probability (fraction) that the true Sharpe ratio
    exceeds ``expected_maximum_sharpe_ratio``, the best Sharpe expected from
    ``number_of_trials`` skill-less trials. ``kurtosis`` is raw (normal = 3).
    """

    probability: float
    sharpe_ratio: float
    expected_maximum_sharpe_ratio: float
    number_of_trials: int
    trial_sharpe_variance: float
    skewness: float
    kurtosis: float
    observations: int


@dataclass(frozen=True, slots=True)
class BacktestOverfitting:
    """Result of combinatorially symmetric cross-validation (CSCV).

    ``probability`` (PBO) is the share of splits whose in-sample best trial ranks at or below
    the out-of-sample median (logit ≤ 0). Per split, in split order: ``logits``,
    ``in_sample_performance`` and ``out_of_sample_performance`` of the in-sample best trial.
    ``probability_of_loss`` is the share of splits where that trial scores below 0 out of
    sample (meaningful for Sharpe or mean return).
    """

    probability: float
    probability_of_loss: float
    logits: tuple[float, ...]
    in_sample_performance: tuple[float, ...]
    out_of_sample_performance: tuple[float, ...]
    blocks: int
    splits: int
    trials: int


_NORMAL = NormalDist()


def expected_maximum_sharpe_ratio(trial_sharpe_variance: float, number_of_trials: int) -> float:
    """Expected maximum per-period Sharpe ratio of N independent skill-less trials.

    SR₀ = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e))), γ the Euler-Mascheroni constant
    and V the variance of the trials' Sharpe ratios. One trial involves no selection: 0.
    """
    if number_of_trials < 1:
        raise ValueError(f"number_of_trials must be at least 1, got {number_of_trials}")
    if trial_sharpe_variance < 0.0 or math.isnan(trial_sharpe_variance):
        raise ValueError(f"trial_sharpe_variance must be >= 0, got {trial_sharpe_variance}")
    if number_of_trials == 1:
        return 0.0
    quantile = (1.0 - EULER_MASCHERONI) * _NORMAL.inv_cdf(1.0 - 1.0 / number_of_trials)
    quantile += EULER_MASCHERONI * _NORMAL.inv_cdf(1.0 - 1.0 / (number_of_trials * math.e))
    return float(math.sqrt(trial_sharpe_variance) * quantile)


def probabilistic_sharpe_ratio(
    sharpe_ratio: float,
    benchmark_sharpe_ratio: float,
    observations: int,
    skewness: float,
    kurtosis: float,
) -> float:
    """Probability (fraction) that the true Sharpe ratio exceeds ``benchmark_sharpe_ratio``.

    PSR = Φ((SR − SR*) √(T − 1) / √(1 − γ₃ SR + (γ₄ − 1)/4 SR²)) with per-period Sharpe
    ratios, skewness γ₃ and raw kurtosis γ₄ (normal = 3). NaN if the variance term is not
    positive (extreme skewness).
    """
    if observations < 2:
        raise ValueError(f"observations must be at least 2, got {observations}")
    variance = 1.0 - skewness * sharpe_ratio + (kurtosis - 1.0) / 4.0 * sharpe_ratio**2
    if not variance > 0.0:
        return math.nan
    statistic = (sharpe_ratio - benchmark_sharpe_ratio) * math.sqrt(observations - 1)
    return float(_NORMAL.cdf(statistic / math.sqrt(variance)))


def deflated_sharpe_ratio(
    returns: Sequence[float] | np.ndarray | pd.Series,
    trial_sharpe_ratios: Sequence[float] | np.ndarray,
    number_of_trials: int | None = None,
) -> DeflatedSharpeRatio:
    """Deflated Sharpe ratio of the selected strategy's per-period simple ``returns``.

    ``trial_sharpe_ratios`` are the per-period Sharpe ratios of every trial of the sweep
    (the selected one included); their sample variance sets the expected maximum.
    ``number_of_trials`` overrides N, e.g. with an estimate of *independent* trials.
    The Sharpe ratio uses the sample std (ddof=1); skewness and kurtosis are the
    population moment estimators (scipy defaults).
    """
    values = _finite_vector(returns, "returns")
    trials = _finite_vector(trial_sharpe_ratios, "trial_sharpe_ratios")
    if len(trials) < 2:
        raise ValueError(f"trial_sharpe_ratios needs at least 2 trials, got {len(trials)}")
    count = len(trials) if number_of_trials is None else number_of_trials
    variance = float(np.var(trials, ddof=1))
    sharpe = _sharpe_per_period(values)
    benchmark = expected_maximum_sharpe_ratio(variance, count)
    from scipy.stats import kurtosis, skew  # scipy is slow to import; only sweeps need it

    skewness = float(skew(values))
    raw_kurtosis = float(kurtosis(values, fisher=False))
    return DeflatedSharpeRatio(
        probability=probabilistic_sharpe_ratio(
            sharpe, benchmark, len(values), skewness, raw_kurtosis
        ),
        sharpe_ratio=sharpe,
        expected_maximum_sharpe_ratio=benchmark,
        number_of_trials=count,
        trial_sharpe_variance=variance,
        skewness=skewness,
        kurtosis=raw_kurtosis,
        observations=len(values),
    )


def deflated_sharpe_ratio_of_trials(
    trial_returns: np.ndarray | pd.DataFrame, selected: int | None = None
) -> DeflatedSharpeRatio:
    """Deflated Sharpe ratio from a T × N matrix of per-period returns, one column per trial.

    ``selected`` is the chosen trial's column position; by default the highest Sharpe ratio.
    """
    matrix = _trial_matrix(trial_returns)
    sharpes = _sharpe_columns(matrix)
    chosen = int(np.nanargmax(sharpes)) if selected is None else selected
    if not 0 <= chosen < matrix.shape[1]:
        raise ValueError(f"selected must be a column position below {matrix.shape[1]}")
    return deflated_sharpe_ratio(matrix[:, chosen], sharpes)


def probability_of_backtest_overfitting(
    trial_returns: np.ndarray | pd.DataFrame,
    blocks: int = DEFAULT_BLOCKS,
    performance: PerformanceFunction | None = None,
) -> BacktestOverfitting:
    """PBO of a sweep by combinatorially symmetric cross-validation.

    The T × N matrix (rows = periods in time order, columns = trials) is cut into ``blocks``
    (S, even) contiguous blocks; when S does not divide T the first T mod S blocks get one
    extra row. For every one of the C(S, S/2) ways to pick half the blocks as in-sample
    (the rest out-of-sample), the trial with the best in-sample ``performance`` (default:
    per-period Sharpe ratio) is ranked out of sample: ω = rank / (N + 1), logit
    λ = ln(ω / (1 − ω)). PBO is the share of splits with λ ≤ 0. Ties rank by their average.
    """
    matrix = _trial_matrix(trial_returns)
    rows, trials = matrix.shape
    if blocks < 2 or blocks % 2:
        raise ValueError(f"blocks must be an even number >= 2, got {blocks}")
    if rows < 2 * blocks:
        raise ValueError(f"trial_returns has {rows} rows; {blocks} blocks need >= {2 * blocks}")
    bounds = np.cumsum([0] + [len(part) for part in np.array_split(np.arange(rows), blocks)])
    in_sample_sets = np.array(
        [
            np.isin(np.arange(blocks), chosen)
            for chosen in itertools.combinations(range(blocks), blocks // 2)
        ]
    )
    if performance is None:
        in_sample, out_of_sample = _split_sharpes(matrix, bounds, in_sample_sets)
    else:
        in_sample, out_of_sample = _split_scores(matrix, bounds, in_sample_sets, performance)
    best = np.argmax(in_sample, axis=1)
    picked = np.arange(len(best))
    from scipy.stats import rankdata

    ranks = rankdata(out_of_sample, axis=1)[picked, best]
    relative = ranks / (trials + 1.0)
    logits = np.log(relative / (1.0 - relative))
    chosen_out = out_of_sample[picked, best]
    return BacktestOverfitting(
        probability=float(np.mean(logits <= 0.0)),
        probability_of_loss=float(np.mean(chosen_out < 0.0)),
        logits=tuple(logits.tolist()),
        in_sample_performance=tuple(in_sample[picked, best].tolist()),
        out_of_sample_performance=tuple(chosen_out.tolist()),
        blocks=blocks,
        splits=len(best),
        trials=trials,
    )


def _split_sharpes(
    matrix: np.ndarray, bounds: np.ndarray, in_sample_sets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-period Sharpe ratios of every trial on both halves of every split.

    Works from per-block sums so each split costs O(S × N), not O(T × N); columns are centred
    first so the sum-of-squares variance does not lose precision.
    """
    centre = matrix.mean(axis=0)
    centred = matrix - centre
    sums = np.add.reduceat(centred, bounds[:-1], axis=0)
    squares = np.add.reduceat(centred**2, bounds[:-1], axis=0)
    counts = np.diff(bounds).astype(float)
    selections = in_sample_sets.astype(float)
    # variances below rounding noise of the column's scale mean "never moves"
    floor = (1e-12 * np.abs(matrix).max(axis=0)) ** 2
    halves = []
    for mask in (selections, 1.0 - selections):
        count = (mask @ counts)[:, None]
        total = mask @ sums
        variance = (mask @ squares - total**2 / count) / (count - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sharpe = (total / count + centre) / np.sqrt(variance)
        # a trial that never moves has no Sharpe ratio: it cannot be the best, rank it last
        halves.append(np.where(np.isfinite(sharpe) & (variance > floor), sharpe, -np.inf))
    return halves[0], halves[1]


def _split_scores(
    matrix: np.ndarray,
    bounds: np.ndarray,
    in_sample_sets: np.ndarray,
    performance: PerformanceFunction,
) -> tuple[np.ndarray, np.ndarray]:
    block_of_row = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
    in_scores, out_scores = [], []
    for mask in in_sample_sets:
        rows_in = mask[block_of_row]
        in_scores.append(np.asarray(performance(matrix[rows_in]), dtype=float))
        out_scores.append(np.asarray(performance(matrix[~rows_in]), dtype=float))
    in_sample, out_of_sample = np.array(in_scores), np.array(out_scores)
    if in_sample.shape != (len(in_sample_sets), matrix.shape[1]):
        raise ValueError("performance must return one score per trial (column)")
    return in_sample, out_of_sample


def _sharpe_per_period(values: np.ndarray) -> float:
    # compare the range, not the std: a constant series has a rounding-noise std
    if np.ptp(values) == 0.0:
        raise ValueError("returns do not vary; the Sharpe ratio is undefined")
    return float(np.mean(values)) / float(np.std(values, ddof=1))


def _sharpe_columns(matrix: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpes = matrix.mean(axis=0) / matrix.std(axis=0, ddof=1)
    constant = np.ptp(matrix, axis=0) == 0.0
    return np.asarray(np.where(np.isfinite(sharpes) & ~constant, sharpes, np.nan))


def _finite_vector(values: Sequence[float] | np.ndarray | pd.Series, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if len(array) < 2:
        raise ValueError(f"{name} needs at least 2 values, got {len(array)}")
    if not np.isfinite(array).all():
        position = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} has a missing or infinite value at position {position}")
    return array


def _trial_matrix(trial_returns: np.ndarray | pd.DataFrame) -> np.ndarray:
    matrix = np.asarray(trial_returns, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"trial_returns must be T × N (2-d), got shape {matrix.shape}")
    if matrix.shape[1] < 2:
        raise ValueError(f"trial_returns needs at least 2 trials (columns), got {matrix.shape[1]}")
    if not np.isfinite(matrix).all():
        row, column = np.argwhere(~np.isfinite(matrix))[0]
        raise ValueError(
            f"trial_returns has a missing or infinite value at row {row}, column {column}"
        )
    return matrix
