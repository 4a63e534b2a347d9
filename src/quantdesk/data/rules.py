"""The data rulebook: what a stored bar may hold.

One set of rules, applied twice: the importer (:mod:`quantdesk.data.validation`) refuses a row
that breaks a hard rule, and ``data check`` (:mod:`quantdesk.data.quality`) reports stored bars
that break the same rules as errors. Suspicious but possible values (huge one-day moves, likely
unadjusted splits) are warnings in both places.

Every rule is a vectorised mask over numpy arrays; NaN (a missing value) never breaks a value
rule, because whether a value may be missing is a separate question (a close-only source has no
open, high or low).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

#: Prices (open, high, low, close, adj_close) must lie in this range, in the quote currency.
#: Below a millionth or above a billion is a unit or parsing error, never a real quote.
MIN_PRICE = 1e-6
MAX_PRICE = 1e9
#: Volumes above this are overflow or garbage (the busiest US stock trades ~1e9 shares a day).
MAX_VOLUME = 1e15
#: The first date the exchange calendars know (XNYS from 1885); earlier bars are typos.
MIN_DATE = date(1885, 1, 1)
#: Split-adjusted prices are quotients: allow this relative rounding before open > high.
RANGE_TOLERANCE = 1e-9
MAX_SYMBOL_LENGTH = 32
#: Upper-case letters, digits and the punctuation tickers use (BRK.B, BF-B, ^GSPC, EURUSD=X).
SYMBOL_PATTERN = re.compile(r"[A-Z0-9^$][A-Z0-9.\-^=_/&:$]*")
#: A one-day close move by this factor (up or down) is suspicious at import (e.g. ×1000).
SUSPICIOUS_FACTOR = 10.0
#: Split ratios seen in US equities (forward and, as reciprocals, reverse splits).
SPLIT_RATIOS = (2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 15.0, 20.0, 25.0, 30.0, 50.0, 100.0)
#: A split-day close is the split ratio times that day's genuine move; 6 % covers normal days.
SPLIT_RATIO_TOLERANCE = 0.06
#: The one-day move (fraction) beyond which a split-like ratio counts as a likely split.
SPLIT_JUMP_THRESHOLD = 0.4


def symbol_problem(symbol: str) -> str | None:
    """Why ``symbol`` (already stripped and upper-cased) cannot be stored, or ``None``."""
    if not symbol:
        return "symbol is empty"
    if len(symbol) > MAX_SYMBOL_LENGTH:
        return f"symbol is longer than {MAX_SYMBOL_LENGTH} characters ({len(symbol)})"
    if not SYMBOL_PATTERN.fullmatch(symbol):
        return (
            f"symbol {symbol!r} has characters a ticker cannot have "
            "(allowed: letters, digits and . - ^ = _ / & : $)"
        )
    return None


def bad_price(values: np.ndarray) -> np.ndarray:
    """Present prices that are infinite, non-positive or outside [MIN_PRICE, MAX_PRICE]."""
    with np.errstate(invalid="ignore"):
        ok = (values >= MIN_PRICE) & (values <= MAX_PRICE)
        return np.asarray(~np.isnan(values) & ~ok, dtype=bool)


def bad_volume(values: np.ndarray) -> np.ndarray:
    """Present volumes that are infinite, negative or above MAX_VOLUME."""
    with np.errstate(invalid="ignore"):
        ok = (values >= 0) & (values <= MAX_VOLUME)
        return np.asarray(~np.isnan(values) & ~ok, dtype=bool)


def bad_dividend(values: np.ndarray) -> np.ndarray:
    """Present dividends that are infinite, negative or above MAX_PRICE."""
    with np.errstate(invalid="ignore"):
        ok = (values >= 0) & (values <= MAX_PRICE)
        return np.asarray(~np.isnan(values) & ~ok, dtype=bool)


def bad_split(values: np.ndarray) -> np.ndarray:
    """Present split ratios that are infinite, non-positive or absurd (beyond 1e6 either way)."""
    with np.errstate(invalid="ignore"):
        ok = (values >= 1e-6) & (values <= 1e6)
        return np.asarray(~np.isnan(values) & ~ok, dtype=bool)


def high_below_low(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return high < low


def outside_high_low(value: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``value`` (open or close) outside [low, high] of a sane range, with rounding tolerance."""
    with np.errstate(invalid="ignore"):
        return (high >= low) & (
            (value > high * (1 + RANGE_TOLERANCE)) | (value < low * (1 - RANGE_TOLERANCE))
        )


def latest_allowed_day(today: date | None = None) -> np.datetime64:
    """The last bar date accepted: one session (weekday) after ``today`` (default: UTC today)."""
    day = np.datetime64(today or datetime.now(UTC).date(), "D")
    return np.busday_offset(day, 1, roll="forward")


def date_out_of_range(days: np.ndarray, today: date | None = None) -> np.ndarray:
    """Days (``datetime64[D]``) before MIN_DATE or after :func:`latest_allowed_day`."""
    return (days < np.datetime64(MIN_DATE, "D")) | (days > latest_allowed_day(today))


@dataclass(frozen=True)
class Moves:
    """One-bar close moves between consecutive bars of one symbol (sorted by symbol, time).

    ``at`` indexes the earlier bar of each move kept; ``change`` is ``close / previous - 1``,
    ``ratio`` is ``previous / close`` (2.0 for a 2-for-1 split), ``split`` marks likely
    unadjusted splits (a split-like ratio while ``adj_close`` stayed calm or is missing) and
    ``nearest`` the split ratio it resembles.
    """

    at: np.ndarray
    change: np.ndarray
    adj_change: np.ndarray
    ratio: np.ndarray
    split: np.ndarray
    nearest: np.ndarray


def close_moves(codes: np.ndarray, close: np.ndarray, adj: np.ndarray, threshold: float) -> Moves:
    """Moves bigger than ``threshold`` (fraction) between consecutive usable closes."""
    with np.errstate(divide="ignore", invalid="ignore"):
        change = close[1:] / close[:-1] - 1
    jump = (codes[1:] == codes[:-1]) & (np.abs(change) > threshold)
    at = np.flatnonzero(jump)
    with np.errstate(divide="ignore", invalid="ignore"):  # at the jumps only: few of all bars
        adj_moved = adj[1:][at] / adj[:-1][at] - 1
    ratio = close[:-1][at] / close[1:][at]
    candidates = np.log(np.concatenate([SPLIT_RATIOS, 1 / np.asarray(SPLIT_RATIOS)]))
    distance = np.abs(np.log(ratio)[:, None] - candidates[None, :])
    near = (
        distance.min(axis=1) < np.log1p(SPLIT_RATIO_TOLERANCE)
        if len(at)
        else np.zeros(0, dtype=bool)
    )
    nearest = np.exp(candidates[distance.argmin(axis=1)]) if len(at) else np.array([])
    adj_calm = np.isnan(adj_moved) | (np.abs(adj_moved) <= threshold)
    return Moves(at, change[at], adj_moved, ratio, near & adj_calm, nearest)


def suspicious_moves(codes: np.ndarray, close: np.ndarray, adj: np.ndarray) -> Moves:
    """The moves the importer warns about: likely unadjusted splits, and any move by
    :data:`SUSPICIOUS_FACTOR` or more either way."""
    moves = close_moves(codes, close, adj, SPLIT_JUMP_THRESHOLD)
    with np.errstate(divide="ignore"):
        huge = np.abs(np.log(moves.ratio)) >= np.log(SUSPICIOUS_FACTOR)
    keep = moves.split | huge
    return Moves(
        moves.at[keep],
        moves.change[keep],
        moves.adj_change[keep],
        moves.ratio[keep],
        moves.split[keep],
        moves.nearest[keep],
    )
