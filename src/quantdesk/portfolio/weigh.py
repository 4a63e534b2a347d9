"""Weighting: how much of each selected symbol (bt's ``Weigh*`` block).

Every function returns long-only weights as a float ``pd.Series`` indexed by symbol: fractions of
portfolio value (not percent), ≥ 0, summing to 1 over the selected symbols and 0 elsewhere. An
empty selection gives all-zero weights (everything in cash); a single selected symbol gets
weight 1 even when its returns are missing (no estimate is needed).

``selected`` is a boolean Series indexed by symbol (the output of :mod:`.select`). Returns
windows are T×N DataFrames of simple periodic returns (fractions, e.g. daily), one column per
symbol, oldest row first; the caller passes only data known at the decision date.

Degenerate data is an error, not a silent fallback: a selected symbol whose returns are missing
on the whole window, have fewer than two observations, or have zero variance (constant prices)
raises :class:`~quantdesk.portfolio.errors.DegenerateInputError` naming the symbol.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from quantdesk.portfolio._validation import check_fraction
from quantdesk.portfolio.errors import (
    DegenerateInputError,
    OptimizationError,
    PortfolioInputError,
)

# Optimiser weights below this are solver noise; keeping them would create dust trades.
_NOISE_WEIGHT = 1e-6
_MINIMUM_OBSERVATIONS = 2


class MeanVarianceObjective(StrEnum):
    """What :func:`mean_variance` optimises over the long-only, fully invested set."""

    MIN_VARIANCE = "min-variance"
    MAX_SHARPE = "max-sharpe"
    MAX_UTILITY = "max-utility"


def equal_weight(selected: pd.Series) -> pd.Series:
    """``1 / k`` for each of the ``k`` selected symbols."""
    mask = _check_selection(selected)
    count = int(mask.sum())
    weights = mask.astype("float64")
    return weights / count if count else weights


def rank_weight(scores: pd.Series, selected: pd.Series | None = None) -> pd.Series:
    """Weights linear in rank: among ``k`` selected names the best gets ``k`` parts, the worst 1.

    Weight of a name = rank / (k (k + 1) / 2) with rank 1 for the lowest score. Equal scores
    share the average of their ranks, so tied names get equal weight. ``selected`` defaults to
    every symbol with a score; a selected symbol without a score (NaN) is an error.
    """
    if not isinstance(scores, pd.Series):
        raise PortfolioInputError(f"scores must be a pandas Series, got {type(scores).__name__}")
    mask = scores.notna() if selected is None else _check_selection(selected)
    chosen = mask[mask].index
    missing = [symbol for symbol in chosen if symbol not in scores.index]
    if missing:
        raise PortfolioInputError(f"selected symbols have no score: {missing}")
    values = scores.reindex(chosen).astype("float64")
    if values.isna().any():
        raise PortfolioInputError(
            f"selected symbols have a NaN score: {list(values.index[values.isna()])}"
        )
    weights = pd.Series(0.0, index=mask.index)
    if len(chosen):
        ranks = values.rank(method="average", ascending=True)
        weights.loc[chosen] = ranks / ranks.sum()
    return weights


def inverse_volatility(returns: pd.DataFrame, selected: pd.Series | None = None) -> pd.Series:
    """Weights proportional to 1 / σ, σ the sample standard deviation (ddof 1) of returns.

    Each symbol's σ uses its own non-missing observations in the window (a short gap in one name
    does not shorten the window of the others).
    """
    mask, window = _selected_window(returns, selected)
    chosen = mask[mask].index
    weights = pd.Series(0.0, index=mask.index)
    if len(chosen) <= 1:
        weights.loc[chosen] = 1.0
        return weights
    columns = window[list(chosen)]
    counts = columns.count()
    _reject(counts < _MINIMUM_OBSERVATIONS, "fewer than 2 return observations in the window")
    volatility = columns.std(ddof=1)
    _reject(volatility <= 0, "zero variance over the window (constant prices)")
    inverse = 1.0 / volatility
    weights.loc[chosen] = inverse / inverse.sum()
    return weights


def mean_variance(
    returns: pd.DataFrame,
    selected: pd.Series | None = None,
    *,
    objective: MeanVarianceObjective | str = MeanVarianceObjective.MAX_SHARPE,
    risk_aversion: float = 1.0,
    risk_free_rate: float = 0.0,
    max_weight: float = 1.0,
    undefined_fallback: MeanVarianceObjective | str | None = None,
) -> pd.Series:
    """Long-only, fully invested mean-variance weights via ``skfolio.optimization.MeanRisk``.

    Expected returns and covariance are the sample estimates over the complete rows of the
    window (rows where any selected symbol is missing are dropped). ``risk_free_rate`` is per
    period of the returns (a fraction, e.g. daily). ``max_weight`` (fraction) is passed to the
    optimiser when it is feasible (``k × max_weight ≥ 1``); otherwise leave capping to
    :func:`~quantdesk.portfolio.constraints.cap_weights`. Max-Sharpe needs at least one symbol
    whose mean return exceeds the risk-free rate; when none does, ``undefined_fallback`` (e.g.
    min-variance) is used if given, else :class:`DegenerateInputError` is raised.
    """
    from skfolio import RiskMeasure
    from skfolio.optimization import MeanRisk, ObjectiveFunction

    goal = MeanVarianceObjective(objective)
    mask, window = _selected_window(returns, selected)
    complete = _complete_window(mask, window)
    if complete is None:
        return _trivial(mask)
    if goal is MeanVarianceObjective.MAX_SHARPE and not (complete.mean() > risk_free_rate).any():
        if undefined_fallback is not None:
            return mean_variance(
                returns,
                selected,
                objective=undefined_fallback,
                risk_aversion=risk_aversion,
                risk_free_rate=risk_free_rate,
                max_weight=max_weight,
            )
        raise DegenerateInputError(
            "max-sharpe is undefined: no selected symbol has a mean return above the risk-free "
            f"rate {risk_free_rate}; use the min-variance objective"
        )
    function = {
        MeanVarianceObjective.MIN_VARIANCE: ObjectiveFunction.MINIMIZE_RISK,
        MeanVarianceObjective.MAX_SHARPE: ObjectiveFunction.MAXIMIZE_RATIO,
        MeanVarianceObjective.MAX_UTILITY: ObjectiveFunction.MAXIMIZE_UTILITY,
    }[goal]
    model = MeanRisk(
        objective_function=function,
        risk_measure=RiskMeasure.VARIANCE,
        risk_aversion=risk_aversion,
        risk_free_rate=risk_free_rate,
        min_weights=0.0,
        max_weights=_optimiser_cap(max_weight, complete.shape[1]),
    )
    return _fit(model, complete, mask, f"mean-variance ({goal})")


def hierarchical_risk_parity(
    returns: pd.DataFrame, selected: pd.Series | None = None, *, max_weight: float = 1.0
) -> pd.Series:
    """Hierarchical risk parity weights (variance risk) via skfolio's ``HierarchicalRiskParity``.

    Uses skfolio's defaults (Pearson-correlation distance, Ward linkage) on the complete rows of
    the window. ``max_weight`` is handled as in :func:`mean_variance`.
    """
    from skfolio.optimization import HierarchicalRiskParity

    mask, window = _selected_window(returns, selected)
    complete = _complete_window(mask, window)
    if complete is None:
        return _trivial(mask)
    model = HierarchicalRiskParity(
        min_weights=0.0, max_weights=_optimiser_cap(max_weight, complete.shape[1])
    )
    return _fit(model, complete, mask, "hierarchical risk parity")


def _check_selection(selected: pd.Series) -> pd.Series:
    if not isinstance(selected, pd.Series) or selected.dtype != bool:
        raise PortfolioInputError("selected must be a boolean pandas Series indexed by symbol")
    if not selected.index.is_unique:
        raise PortfolioInputError("selected has duplicate symbols")
    return selected


def _selected_window(
    returns: pd.DataFrame, selected: pd.Series | None
) -> tuple[pd.Series, pd.DataFrame]:
    """The selection mask and the returns of the selected symbols, checked."""
    if not isinstance(returns, pd.DataFrame):
        raise PortfolioInputError(
            f"returns must be a pandas DataFrame (dates × symbols), got {type(returns).__name__}"
        )
    if not returns.columns.is_unique:
        raise PortfolioInputError("returns have duplicate symbol columns")
    mask = (
        pd.Series(True, index=returns.columns) if selected is None else _check_selection(selected)
    )
    chosen = list(mask[mask].index)
    missing = [symbol for symbol in chosen if symbol not in returns.columns]
    if missing:
        raise PortfolioInputError(f"returns window has no column for selected symbols {missing}")
    window = returns[chosen].astype("float64")
    _reject(pd.Series(np.isinf(window.to_numpy()).any(axis=0), index=chosen), "infinite returns")
    if len(chosen) > 1:
        _reject(window.isna().all(), "no returns in the window")
    return mask, window


def _complete_window(mask: pd.Series, window: pd.DataFrame) -> pd.DataFrame | None:
    """Complete rows of a window of two or more symbols; ``None`` when at most one is selected."""
    if window.shape[1] <= 1:
        return None
    complete = window.dropna(how="any")
    if len(complete) < _MINIMUM_OBSERVATIONS:
        raise DegenerateInputError(
            f"returns window has {len(complete)} complete row(s) for the selected symbols "
            f"{list(window.columns)}; at least {_MINIMUM_OBSERVATIONS} are needed"
        )
    _reject(complete.std(ddof=1) <= 0, "zero variance over the window (constant prices)")
    return complete


def _trivial(mask: pd.Series) -> pd.Series:
    return mask.astype("float64")


def _optimiser_cap(max_weight: float, count: int) -> float:
    check_fraction(max_weight, "max_weight")
    # An infeasible cap would make the optimiser fail; cap_weights then keeps the rest as cash.
    return max_weight if max_weight * count >= 1 else 1.0


def _fit(model: object, complete: pd.DataFrame, mask: pd.Series, label: str) -> pd.Series:
    from skfolio.exceptions import SkfolioError

    try:
        model.fit(complete)  # type: ignore[attr-defined]
    except (SkfolioError, ValueError, ArithmeticError) as error:
        raise OptimizationError(
            f"{label} failed for symbols {list(complete.columns)}: {error}"
        ) from error
    raw = np.asarray(model.weights_, dtype="float64")  # type: ignore[attr-defined]
    if not np.isfinite(raw).all():
        raise OptimizationError(f"{label} returned non-finite weights for {list(complete.columns)}")
    cleaned = np.where(raw < _NOISE_WEIGHT, 0.0, raw)
    if cleaned.sum() <= 0:
        raise OptimizationError(f"{label} returned no positive weight for {list(complete.columns)}")
    weights = pd.Series(0.0, index=mask.index)
    weights.loc[list(complete.columns)] = cleaned / cleaned.sum()
    return weights


def _reject(flags: pd.Series, reason: str) -> None:
    if flags.any():
        raise DegenerateInputError(f"returns of {list(flags.index[flags])} have {reason}")
