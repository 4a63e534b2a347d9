"""Constraints on long-only weights: per-name cap, sector caps, cash buffer.

All weights are fractions of portfolio value (not percent). Inputs must be finite, ≥ 0 and sum to
at most 1; outputs keep those properties. What is not invested is cash.

Caps are met by *pro-rata redistribution*: the excess above a cap goes to the names that are not
at a limit, in proportion to their weights, repeated until no limit is broken (equivalently
every unconstrained name is scaled by one common factor). Names with zero weight never receive
any. When no name is left that can absorb the excess (e.g. ``n × max_weight < 1``), the capped
weights are kept and the remainder stays in cash — a documented outcome, not an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from quantdesk.portfolio._validation import WEIGHT_TOLERANCE, check_fraction, check_weights
from quantdesk.portfolio.errors import PortfolioInputError


def cap_weights(weights: pd.Series | Mapping[str, float], max_weight: float) -> pd.Series:
    """Limit every weight to ``max_weight`` (a fraction in (0, 1]), redistributing the excess."""
    return apply_caps(weights, max_weight=max_weight)


def sector_caps(
    weights: pd.Series | Mapping[str, float],
    sectors: pd.Series | Mapping[str, str],
    caps: Mapping[str, float],
    *,
    default_cap: float | None = None,
) -> pd.Series:
    """Limit each sector's total weight to its cap, redistributing the excess to other sectors.

    ``sectors`` maps symbol → sector name and must cover every symbol with a positive weight.
    ``caps`` maps sector name → maximum total weight (fraction in [0, 1]); sectors without an
    entry use ``default_cap`` (``None``: uncapped).
    """
    return apply_caps(weights, sectors=sectors, caps=caps, default_cap=default_cap)


def apply_caps(
    weights: pd.Series | Mapping[str, float],
    *,
    max_weight: float | None = None,
    sectors: pd.Series | Mapping[str, str] | None = None,
    caps: Mapping[str, float] | None = None,
    default_cap: float | None = None,
) -> pd.Series:
    """Apply a per-name cap and sector caps together, so neither undoes the other.

    Applying :func:`cap_weights` then :func:`sector_caps` separately could push a name back
    over its cap; this solves both at once with the same pro-rata rule.
    """
    series = check_weights(weights)
    name_cap = math.inf if max_weight is None else check_fraction(max_weight, "max_weight")
    sector_ids, sector_limits = _sector_limits(series, sectors, caps or {}, default_cap)
    final = _water_fill(series.to_numpy(), name_cap, sector_ids, sector_limits)
    return pd.Series(final, index=series.index)


def cash_buffer(weights: pd.Series | Mapping[str, float], buffer: float) -> pd.Series:
    """Keep at least ``buffer`` (fraction of portfolio value, in [0, 1)) in cash.

    Weights summing to more than ``1 - buffer`` are scaled down proportionally; weights that
    already leave enough cash are returned unchanged. Scaling down never breaks a cap.
    """
    series = check_weights(weights)
    check_fraction(buffer, "buffer", allow_zero=True)
    if buffer >= 1:
        raise PortfolioInputError(f"buffer must be below 1 (all cash), got {buffer!r}")
    invested = float(series.sum())
    limit = 1.0 - buffer
    return series * (limit / invested) if invested > limit else series.copy()


def _sector_limits(
    weights: pd.Series,
    sectors: pd.Series | Mapping[str, str] | None,
    caps: Mapping[str, float],
    default_cap: float | None,
) -> tuple[np.ndarray | None, list[float]]:
    """Per-name sector index and per-sector limit (``inf`` when uncapped)."""
    if sectors is None:
        if caps or default_cap is not None:
            raise PortfolioInputError("sector caps were given without a symbol → sector mapping")
        return None, []
    sector_of = dict(sectors.items()) if isinstance(sectors, pd.Series) else dict(sectors)
    held = weights.index[weights.to_numpy() > 0]
    unmapped = [str(symbol) for symbol in held if symbol not in sector_of]
    if unmapped:
        raise PortfolioInputError(f"symbols with a weight but no sector: {unmapped}")
    for sector, cap in caps.items():
        check_fraction(cap, f"sector cap for {sector!r}", allow_zero=True)
    if default_cap is not None:
        check_fraction(default_cap, "default_cap", allow_zero=True)
    names = sorted({str(sector_of[symbol]) for symbol in held})
    position = {name: index for index, name in enumerate(names)}
    # Names without weight need no sector; -1 keeps them out of every sector's total.
    ids = np.array(
        [position.get(str(sector_of.get(symbol)), -1) for symbol in weights.index], dtype=int
    )
    fallback = math.inf if default_cap is None else float(default_cap)
    limits = [float(caps.get(name, fallback)) for name in names]
    return ids, limits


def _water_fill(
    base: np.ndarray, name_cap: float, sector_ids: np.ndarray | None, sector_limits: list[float]
) -> np.ndarray:
    """Scale unconstrained names by a common factor; fix names and sectors that hit a limit.

    Each pass fixes at least one more name or sector, so the loop ends after at most
    ``names + sectors`` passes. The common factor only grows, as fixing a name frees budget.
    """
    total = float(base.sum())
    final = np.zeros_like(base)
    fixed = base <= 0
    saturated: set[int] = set()
    while True:
        free = ~fixed
        trial = final.copy()
        if free.any():
            room = total - float(final[fixed].sum())
            # shares first, then scale: room / tiny sum could overflow to inf
            trial[free] = room * (base[free] / float(base[free].sum()))
            over = free & (trial > name_cap + WEIGHT_TOLERANCE)
            if over.any():
                final[over] = name_cap
                fixed |= over
                continue
        broken = False
        for sector, limit in enumerate(sector_limits):
            if sector in saturated or sector_ids is None:
                continue
            members = sector_ids == sector
            sector_total = float(trial[members].sum())
            if sector_total <= limit + WEIGHT_TOLERANCE:
                continue
            capped_sum = float(final[members & fixed].sum())
            if capped_sum >= limit:
                final[members] = trial[members] * (limit / sector_total)
            else:
                open_members = members & free
                final[open_members] = trial[open_members] * (
                    (limit - capped_sum) / float(trial[open_members].sum())
                )
            fixed |= members
            saturated.add(sector)
            broken = True
        if not broken:
            return trial
