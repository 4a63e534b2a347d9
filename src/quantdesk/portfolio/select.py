"""Selection: which symbols enter the portfolio on one date (bt's ``Select*`` block).

Scores are a ``pd.Series`` indexed by symbol, higher is better; ``NaN`` marks a symbol that is not
eligible on that date (no data, not in the universe). Selections return a boolean ``pd.Series``
on the same index.

Ties are broken deterministically by symbol: among equal scores the symbol that sorts first
(Python string order, so ``"AAA"`` before ``"BBB"``) is preferred. The order of the input Series
never changes the result.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from quantdesk.portfolio._validation import check_fraction
from quantdesk.portfolio.errors import PortfolioInputError

# floor(fraction × count) must not lose a name to float noise (0.29 × 100 = 28.999999999999996).
_FLOOR_EPSILON = 1e-9


def rank_order(scores: pd.Series) -> list[str]:
    """Eligible symbols from best to worst score, ties by symbol order (see module docstring)."""
    values = _check_scores(scores)
    symbols = [str(s) for s in scores.index]
    eligible = [i for i in range(len(values)) if not math.isnan(values[i])]
    eligible.sort(key=lambda i: (-values[i], symbols[i]))
    return [symbols[i] for i in eligible]


def top_n(scores: pd.Series, n: int) -> pd.Series:
    """Mask of the ``n`` best-scoring eligible symbols.

    Fewer than ``n`` eligible symbols selects all of them; ``n = 0`` selects none.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise PortfolioInputError(f"n must be a whole number ≥ 0, got {n!r}")
    chosen = set(rank_order(scores)[: int(n)])
    return pd.Series([str(s) in chosen for s in scores.index], index=scores.index, dtype=bool)


def top_fraction(scores: pd.Series, fraction: float, minimum: int = 1) -> pd.Series:
    """Mask of the best ``k = max(minimum, floor(fraction × eligible))`` symbols.

    ``fraction`` is a fraction in (0, 1] of the eligible (non-NaN) symbols, not a percent.
    ``k`` never exceeds the number of eligible symbols.
    """
    check_fraction(fraction, "fraction")
    if isinstance(minimum, bool) or not isinstance(minimum, int | np.integer) or minimum < 0:
        raise PortfolioInputError(f"minimum must be a whole number ≥ 0, got {minimum!r}")
    eligible = int(np.count_nonzero(~np.isnan(_check_scores(scores))))
    count = max(int(minimum), math.floor(fraction * eligible + _FLOOR_EPSILON))
    return top_n(scores, min(count, eligible))


def _check_scores(scores: pd.Series) -> np.ndarray:
    if not isinstance(scores, pd.Series):
        raise PortfolioInputError(
            f"scores must be a pandas Series indexed by symbol, got {type(scores).__name__}"
        )
    if not scores.index.is_unique:
        duplicated = sorted({str(s) for s in scores.index[scores.index.duplicated()]})
        raise PortfolioInputError(f"scores have duplicate symbols: {duplicated}")
    try:
        values = scores.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise PortfolioInputError(f"scores must be numeric: {error}") from None
    infinite = np.isinf(values)
    if infinite.any():
        raise PortfolioInputError(
            f"scores must be finite or NaN (not eligible); infinite for "
            f"{[str(s) for s in scores.index[infinite]]}"
        )
    return values
