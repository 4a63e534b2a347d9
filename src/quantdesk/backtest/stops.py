"""Stop-loss and take-profit exits for allocation backtests: the rule as a frozen config.

Both engines (``run_allocation`` and ``run_events`` through ``AllocationAdapter``) apply the
rule identically, at each bar's close:

- A long position's *entry* is the average cost of the current holding: the quantity-weighted
  fill price (after slippage, before commission) of the buys since it was last flat; sells do
  not change it.  With ``trailing=True`` the *reference* is the higher of the entry and the
  highest close seen at the checks since the holding was opened; otherwise it is the entry.
- Stop-loss: the position is sold in full when ``close <= reference × (1 − stop)``, where
  ``stop`` is the fixed fraction or the fraction of the VIX band of that day.
- Take-profit: sold in full when ``close >= entry × (1 + take_profit)``.  When both fire on
  one close (possible with a trailing reference) the exit is the stop-loss.
- The exit fills at that close (``FillTiming.CLOSE``) or at the next bar's open
  (``FillTiming.NEXT_OPEN``) with the normal cost model; it is never skipped by the minimum
  trade thresholds (a full close never is).
- The symbol then stays out (target 0, drift checks ignore it) until the next scheduled
  rebalance date, when the strategy's targets apply again.  A stop that fires on a rebalance
  close is checked before the targets apply, so the symbol sits out that rebalance too.
- The close is the engines' valuation price (adjusted close where the panel has one); a symbol
  without a price that day is checked at its last one.  Short positions are not stopped.
- Orders and fills carry a ``reason`` column: ``rebalance``, ``stop_loss`` or ``take_profit``.

VIX regime: ``bands=((0, 20, 0.08), (20, 30, 0.12), (30, inf, 0.18))`` gives the stop fraction
for each VIX band ``[low, high)`` (a level of exactly 20 is in the second band).  The VIX series
is an array aligned to the panel's dates; it is forward-filled, levels below the first band use
the first band and levels at or above the last band's upper edge use the last.  Days before the
first VIX value use the first band (``MissingVix.FIRST_BAND``, the default: a stop-loss run
keeps a stop) or no stop at all (``MissingVix.NO_STOP``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class OrderReason(StrEnum):
    """Why an allocation backtest sent an order (the ``reason`` column of orders and fills)."""

    REBALANCE = "rebalance"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


# integer codes of the reasons inside the numba kernels (index into ORDER_REASONS)
ORDER_REASONS = tuple(OrderReason)
REBALANCE_CODE = ORDER_REASONS.index(OrderReason.REBALANCE)
STOP_LOSS_CODE = ORDER_REASONS.index(OrderReason.STOP_LOSS)
TAKE_PROFIT_CODE = ORDER_REASONS.index(OrderReason.TAKE_PROFIT)


class MissingVix(StrEnum):
    """What a VIX-regime stop uses on days before the VIX series has its first value."""

    FIRST_BAND = "first_band"
    NO_STOP = "no_stop"


Band = tuple[float, float, float]


class StopRuleError(ValueError):
    """A stop-loss rule or its VIX series is malformed (the message names the field)."""


@dataclass(frozen=True, slots=True)
class StopLossRule:
    """Fixed or VIX-regime stop-loss, optional take-profit (see the module docstring).

    Attributes:
        stop: fixed stop distance as a fraction below the reference (0.08 = 8 %), or None.
        bands: VIX regime instead of a fixed stop: ``(low, high, stop)`` triples, VIX levels in
            index points, ``stop`` a fraction; sorted, contiguous (each ``high`` is the next
            ``low``).
        take_profit: exit when the close is this fraction above the entry (0.25 = 25 %).
        trailing: measure the stop from the highest close since entry instead of the entry.
        before_vix: stop used before the first VIX value (VIX-regime rules only).
    """

    stop: float | None = None
    bands: tuple[Band, ...] | None = None
    take_profit: float | None = None
    trailing: bool = False
    before_vix: MissingVix = MissingVix.FIRST_BAND

    def __post_init__(self) -> None:
        if self.stop is not None and self.bands is not None:
            raise StopRuleError("give a fixed stop or VIX bands, not both")
        if self.stop is None and self.bands is None and self.take_profit is None:
            raise StopRuleError("a stop-loss rule needs a stop, VIX bands or a take_profit")
        if self.stop is not None:
            object.__setattr__(self, "stop", _fraction("stop", self.stop, upper=1.0))
        if self.take_profit is not None:
            value = _fraction("take_profit", self.take_profit, upper=math.inf)
            object.__setattr__(self, "take_profit", value)
        if self.bands is not None:
            object.__setattr__(self, "bands", _checked_bands(self.bands))
        object.__setattr__(self, "before_vix", MissingVix(self.before_vix))

    @property
    def uses_vix(self) -> bool:
        """True when the stop distance depends on the VIX level."""
        return self.bands is not None

    @property
    def take_profit_fraction(self) -> float:
        """The take-profit fraction, NaN when there is none (the kernels' convention)."""
        return math.nan if self.take_profit is None else self.take_profit

    def distances(self, n_rows: int, vix: np.ndarray | None = None) -> np.ndarray:
        """Stop distance per row as fractions (NaN = no stop-loss that day).

        ``vix`` (VIX-regime rules only, ignored otherwise): levels aligned to the ``n_rows``
        panel dates, NaN where unknown; it is forward-filled here.
        """
        if self.bands is None:
            fixed = math.nan if self.stop is None else self.stop
            return np.full(n_rows, fixed)
        levels = forward_filled_vix(vix, n_rows)
        highs = np.array([high for _, high, _ in self.bands])
        stops = np.array([stop for _, _, stop in self.bands])
        # side="right": a level equal to a band's upper edge belongs to the next band
        band = np.minimum(np.searchsorted(highs, levels, side="right"), len(highs) - 1)
        out = stops[band]
        missing = np.isnan(levels)
        out[missing] = stops[0] if self.before_vix is MissingVix.FIRST_BAND else math.nan
        return out


def forward_filled_vix(vix: np.ndarray | Sequence[float] | None, n_rows: int) -> np.ndarray:
    """VIX levels (index points) forward-filled over ``n_rows`` dates; NaN before the first."""
    if vix is None:
        raise StopRuleError("a VIX-regime stop needs the VIX series (vix=...)")
    levels = np.asarray(vix, dtype=np.float64)
    if levels.shape != (n_rows,):
        raise StopRuleError(
            f"vix must be one level per panel date: shape {levels.shape}, expected ({n_rows},)"
        )
    if np.isinf(levels).any() or (levels < 0).any():
        row = int(np.flatnonzero(np.isinf(levels) | (levels < 0))[0])
        raise StopRuleError(f"vix has an invalid level {levels[row]!r} at row {row}")
    known = ~np.isnan(levels)
    last = np.where(known, np.arange(n_rows), -1)
    np.maximum.accumulate(last, out=last)
    return np.where(last >= 0, levels[np.maximum(last, 0)], math.nan)


def _fraction(name: str, value: float, upper: float) -> float:
    number = float(value)
    if not (0.0 < number < upper):
        limit = "" if math.isinf(upper) else f" and < {upper:g}"
        raise StopRuleError(f"StopLossRule.{name} must be a fraction > 0{limit}, got {value!r}")
    return number


def _checked_bands(bands: Sequence[Sequence[float]]) -> tuple[Band, ...]:
    checked: list[Band] = []
    for k, band in enumerate(bands):
        if len(band) != 3:
            raise StopRuleError(f"VIX band {k} must be (low, high, stop), got {tuple(band)!r}")
        low, high, stop = (float(x) for x in band)
        if not (math.isfinite(low) and low < high):
            raise StopRuleError(f"VIX band {k} needs a finite low below its high, got {band!r}")
        if checked and low != checked[-1][1]:
            raise StopRuleError(
                f"VIX band {k} starts at {low:g} but band {k - 1} ends at {checked[-1][1]:g}"
                " (bands must be sorted and contiguous)"
            )
        checked.append((low, high, _fraction(f"bands[{k}] stop", stop, upper=1.0)))
    if not checked:
        raise StopRuleError("bands must hold at least one (low, high, stop) band")
    return tuple(checked)


__all__ = [
    "ORDER_REASONS",
    "MissingVix",
    "OrderReason",
    "StopLossRule",
    "StopRuleError",
    "forward_filled_vix",
]
