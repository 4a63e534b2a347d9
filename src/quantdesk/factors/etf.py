"""Price-only scores for ETFs: the four-factor ETF composite and the 12-1 sector-rotation signal.

ETFs have no fundamentals of their own, so quality and value use price proxies:

* momentum: 12-1 return (:func:`momentum_12_1`);
* quality: return stability, the Sharpe-like ratio of daily returns over 252 days
  (annualised mean / standard deviation, no risk-free rate);
* value: distance below the 52-week (252-day) high, ``1 - close / high`` (cheaper vs its own
  recent past = higher value; a mean-reversion proxy that needs only one year of history,
  unlike a 5-year reversal);
* volatility: minus the 63-day annualised volatility (calmer = higher).

Every component is oriented so that higher is better before the composite is taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from quantdesk.factors import terms
from quantdesk.factors._arrays import (
    BoolArray,
    FloatArray,
    Rows,
    as_mask,
    as_panel,
    as_rows,
    positive_int,
)
from quantdesk.factors.composite import MissingPolicy, Normalisation, composite_score
from quantdesk.factors.momentum import distance_from_high, momentum_12_1, sharpe_like, volatility

DEFAULT_ETF_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"momentum": 0.25, "quality": 0.25, "value": 0.25, "volatility": 0.25}
)


@dataclass(frozen=True)
class EtfFactorScores:
    """Composite ``score``, ``rank`` (1 = best), normalised ``components`` and oriented ``raw``."""

    score: FloatArray
    rank: FloatArray
    components: Mapping[str, FloatArray]
    raw: Mapping[str, FloatArray]


def etf_factor_scores(
    close: npt.ArrayLike,
    weights: Mapping[str, float] = DEFAULT_ETF_WEIGHTS,
    *,
    normalise: Normalisation | str = Normalisation.ZSCORE,
    missing: MissingPolicy | str = MissingPolicy.RENORMALISE,
    universe: npt.ArrayLike | None = None,
    at: Rows = None,
) -> EtfFactorScores:
    """The ETF factor composite (momentum, quality, value, volatility; equal weights by default).

    ``close`` should be total-return (dividend-adjusted) prices. No winsorising: ETF universes
    are small enough that a 1 % tail is a single fund. See the module docstring for definitions.
    """
    prices = as_panel(close, "close")
    rows = as_rows(at, prices.shape[0])
    mask = as_mask(universe, "universe", prices.shape)
    raw = {
        "momentum": momentum_12_1(prices, at=rows),
        "quality": sharpe_like(prices, 252, at=rows),
        "value": -distance_from_high(prices, 252, at=rows),
        "volatility": -volatility(prices, 63, at=rows),
    }
    member = None if mask is None else mask[rows]
    result = composite_score(
        raw, weights, normalise=normalise, winsorize=None, missing=missing, universe=member
    )
    return EtfFactorScores(
        score=result.score,
        rank=terms.rank(result.score, ascending=False),
        components=result.components,
        raw=MappingProxyType(raw),
    )


@dataclass(frozen=True)
class SectorRotationSignal:
    """Per evaluated date: 12-1 ``momentum`` (fraction), ``rank`` (1 = strongest), ``selected``
    (the top N) and ``target_weights`` (1/N for each selected symbol, 0 otherwise)."""

    momentum: FloatArray
    rank: FloatArray
    selected: BoolArray
    target_weights: FloatArray


def sector_rotation_signal(
    close: npt.ArrayLike,
    top_n: int = 3,
    universe: npt.ArrayLike | None = None,
    *,
    at: Rows = None,
) -> SectorRotationSignal:
    """The 12-1 sector-rotation signal: hold the ``top_n`` strongest 12-1 momentum symbols equally.

    Each selected symbol gets weight ``1 / top_n`` (a fraction of the portfolio). When fewer than
    ``top_n`` symbols have a 12-1 value on a date, the unfilled slots stay in cash (weights sum
    to less than 1) rather than concentrating into the few that are scored. Ties go to the
    earlier column.
    """
    top_n = positive_int(top_n, "top_n")
    prices = as_panel(close, "close")
    rows = as_rows(at, prices.shape[0])
    mask = as_mask(universe, "universe", prices.shape)
    momentum = momentum_12_1(prices, at=rows)
    if mask is not None:
        momentum = np.where(mask[rows], momentum, np.nan)
    rank = terms.rank(momentum, ascending=False)
    selected = np.asarray(rank <= top_n)
    return SectorRotationSignal(
        momentum=momentum,
        rank=rank,
        selected=selected,
        target_weights=np.where(selected, 1.0 / top_n, 0.0),
    )
