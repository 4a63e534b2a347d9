"""Technical indicators over T×N panels, computed column by column with TA-Lib.

TA-Lib works on contiguous 1-D float64 arrays and lets one NaN poison every later value of a
running indicator, so missing values are handled before it sees them, by :class:`GapPolicy`:

* ``SKIP`` (default): each symbol's valid observations are compressed into one series, the
  indicator runs on it, and the results are written back at their dates; missing dates stay NaN.
  A gap is treated as if the missing days did not trade (what a chart of the symbol shows).
* ``RESTART``: each contiguous run of valid observations is computed on its own, so the indicator
  warms up again after every gap (nothing is carried across a gap).

Leading NaNs (before listing) are simply an initial gap. For indicators with several inputs
(ATR) an observation is valid only when every input is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import talib

from quantdesk.factors._arrays import FloatArray, as_panel, positive_int, same_shape

ColumnFunction = Callable[..., tuple[FloatArray, ...]]


class GapPolicy(StrEnum):
    SKIP = "skip"
    RESTART = "restart"


@dataclass(frozen=True)
class Macd:
    """MACD line (fast EMA - slow EMA), signal EMA and histogram (line - signal); price units."""

    line: FloatArray
    signal: FloatArray
    histogram: FloatArray


@dataclass(frozen=True)
class BollingerBands:
    """Bands around a simple moving average, in price units."""

    upper: FloatArray
    middle: FloatArray
    lower: FloatArray


@dataclass(frozen=True)
class SupportResistance:
    """Support = lowest low, resistance = highest high of the ``window`` observations before t."""

    support: FloatArray
    resistance: FloatArray


def _apply(
    function: ColumnFunction,
    inputs: list[FloatArray],
    n_outputs: int,
    gaps: GapPolicy | str,
    by_symbol: bool = False,
) -> list[FloatArray]:
    policy = GapPolicy(gaps)
    # every symbol's series contiguous (one transpose per input, none when given by symbol):
    # TA-Lib reads a view of it when its valid observations are one run, the usual case
    series = [np.ascontiguousarray(a if by_symbol else a.T) for a in inputs]
    outputs = [np.full(series[0].shape, np.nan) for _ in range(n_outputs)]
    valid = np.logical_and.reduce([np.isfinite(a) for a in series])
    for symbol in range(series[0].shape[0]):
        for segment in _segments(valid[symbol], policy):
            values = [a[symbol, segment] for a in series]
            for target, result in zip(outputs, function(*values), strict=True):
                target[symbol, segment] = result
    return outputs if by_symbol else [np.ascontiguousarray(out.T) for out in outputs]


def _segments(
    valid: npt.NDArray[np.bool_], policy: GapPolicy
) -> list[slice | npt.NDArray[np.intp]]:
    """The rows each indicator call covers: one slice per contiguous run of valid rows, or for
    ``SKIP`` with gaps the valid rows' indices (compressed into one series)."""
    rows = np.flatnonzero(valid)
    if rows.size == 0:
        return []
    first, last = int(rows[0]), int(rows[-1]) + 1
    if last - first == rows.size:
        return [slice(first, last)]
    if policy is GapPolicy.SKIP:
        return [rows]
    breaks = np.flatnonzero(np.diff(rows) > 1) + 1
    return [slice(int(run[0]), int(run[-1]) + 1) for run in np.split(rows, breaks)]


def sma(
    close: npt.ArrayLike,
    period: int = 20,
    gaps: GapPolicy | str = GapPolicy.SKIP,
    *,
    by_symbol: bool = False,
) -> FloatArray:
    """Simple moving average of the last ``period`` observations (price units).

    ``by_symbol``: ``close`` (and the result) is ``(N, T)``, one row per symbol.
    """
    period = positive_int(period, "period")
    (out,) = _apply(
        lambda x: (talib.SMA(x, timeperiod=period),), [as_panel(close, "close")], 1, gaps, by_symbol
    )
    return out


def ema(
    close: npt.ArrayLike,
    period: int = 20,
    gaps: GapPolicy | str = GapPolicy.SKIP,
    *,
    by_symbol: bool = False,
) -> FloatArray:
    """Exponential moving average, TA-Lib convention (seeded with the SMA of the first period).

    ``by_symbol``: ``close`` (and the result) is ``(N, T)``, one row per symbol.
    """
    period = positive_int(period, "period")
    (out,) = _apply(
        lambda x: (talib.EMA(x, timeperiod=period),), [as_panel(close, "close")], 1, gaps, by_symbol
    )
    return out


def rsi(
    close: npt.ArrayLike,
    period: int = 14,
    gaps: GapPolicy | str = GapPolicy.SKIP,
    *,
    by_symbol: bool = False,
) -> FloatArray:
    """Wilder's relative strength index on a 0-100 scale (not a fraction).

    ``by_symbol``: ``close`` (and the result) is ``(N, T)``, one row per symbol.
    """
    period = positive_int(period, "period", minimum=2)
    (out,) = _apply(
        lambda x: (talib.RSI(x, timeperiod=period),), [as_panel(close, "close")], 1, gaps, by_symbol
    )
    return out


def macd(
    close: npt.ArrayLike,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    gaps: GapPolicy | str = GapPolicy.SKIP,
) -> Macd:
    """MACD with TA-Lib's defaults 12/26/9."""
    fast, slow = positive_int(fast, "fast", 2), positive_int(slow, "slow", 2)
    signal = positive_int(signal, "signal")
    line, sig, hist = _apply(
        lambda x: talib.MACD(x, fastperiod=fast, slowperiod=slow, signalperiod=signal),
        [as_panel(close, "close")],
        3,
        gaps,
    )
    return Macd(line, sig, hist)


def bollinger(
    close: npt.ArrayLike,
    period: int = 20,
    deviations: float = 2.0,
    gaps: GapPolicy | str = GapPolicy.SKIP,
) -> BollingerBands:
    """Bollinger bands: SMA ± ``deviations`` × population standard deviation (TA-Lib BBANDS)."""
    period = positive_int(period, "period", minimum=2)
    upper, middle, lower = _apply(
        lambda x: talib.BBANDS(x, timeperiod=period, nbdevup=deviations, nbdevdn=deviations),
        [as_panel(close, "close")],
        3,
        gaps,
    )
    return BollingerBands(upper, middle, lower)


def atr(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    period: int = 14,
    gaps: GapPolicy | str = GapPolicy.SKIP,
) -> FloatArray:
    """Wilder's average true range (price units)."""
    period = positive_int(period, "period")
    h, lo, c = as_panel(high, "high"), as_panel(low, "low"), as_panel(close, "close")
    same_shape(c, h, "high")
    same_shape(c, lo, "low")
    (out,) = _apply(lambda a, b, d: (talib.ATR(a, b, d, timeperiod=period),), [h, lo, c], 1, gaps)
    return out


def _previous(values: FloatArray) -> FloatArray:
    out = np.full(values.shape, np.nan)
    out[1:] = values[:-1]
    return out


def support_resistance(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    window: int = 20,
    gaps: GapPolicy | str = GapPolicy.SKIP,
) -> SupportResistance:
    """Rolling support and resistance levels (price units).

    Support at t is the lowest low and resistance the highest high of the ``window`` valid
    observations *before* t (TA-Lib MIN / MAX, shifted one observation), so a close above the
    resistance at t is a breakout that t's own bar did not define. Pass ``close`` twice for
    close-only data.
    """
    window = positive_int(window, "window", minimum=2)
    h, lo = as_panel(high, "high"), as_panel(low, "low")
    same_shape(h, lo, "low")
    (resistance,) = _apply(lambda x: (_previous(talib.MAX(x, timeperiod=window)),), [h], 1, gaps)
    (support,) = _apply(lambda x: (_previous(talib.MIN(x, timeperiod=window)),), [lo], 1, gaps)
    return SupportResistance(support=support, resistance=resistance)
