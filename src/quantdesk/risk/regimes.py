"""The VIX regimes of the ETF-trader design: a VIX level band → its name and the stop-loss
distance that applies in it (the bands ``quantdesk backtest --vix-bands
0:20:0.08,20:30:0.12,30:inf:0.18`` would use)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VixRegime:
    """VIX level in ``[low, high)`` (index points) → ``name`` and ``stop`` (a fraction)."""

    low: float
    high: float
    name: str
    stop: float


VIX_REGIMES: tuple[VixRegime, ...] = (
    VixRegime(0.0, 20.0, "calm", 0.08),
    VixRegime(20.0, 30.0, "elevated", 0.12),
    VixRegime(30.0, math.inf, "stressed", 0.18),
)


def regime_of(level: float, regimes: tuple[VixRegime, ...] = VIX_REGIMES) -> VixRegime:
    """The regime a VIX level (index points) falls in; below the first band counts as the
    first, anything else not covered (NaN) as the last, the most cautious."""
    if level < regimes[0].low:
        return regimes[0]
    for regime in regimes:
        if regime.low <= level < regime.high:
            return regime
    return regimes[-1]
