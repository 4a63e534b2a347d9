"""The signal strategies' indicators and signals are bit for bit what a column-by-column TA-Lib
loop gives (the implementation before the symbol-major rewrite, restated here with TA-Lib
directly), on real prices with late listings, delistings and gaps of one and of many bars."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import talib

from quantdesk.data import Panel
from quantdesk.factors import technical
from quantdesk.strategies.ensemble import Ensemble, _vote, _vote_by_table
from quantdesk.strategies.ma_crossover import MovingAverageCrossover
from quantdesk.strategies.rsi import RelativeStrengthIndex
from quantdesk.strategies.support_resistance import SupportResistance, support_resistance_levels

SHARED = Path(__file__).resolve().parents[4] / "shared"  # beside the repository
DATA = SHARED / "data/us_equities_daily.parquet"
SYMBOLS_CSV = SHARED / "data/us_equities_symbols.csv"
FIELDS = ("high", "low", "close", "adj_close")


@pytest.fixture(scope="module")
def panel() -> Panel:
    """40 real symbols (ETFs among them, some listed late), with gaps punched in: one bar, a
    run of 15 bars, and a symbol whose data stops (delisted)."""
    symbols = sorted(pd.read_csv(SYMBOLS_CSV)["symbol"])[3::13][:40]
    table = pq.read_table(
        DATA, columns=["date", "symbol", *FIELDS], filters=[("symbol", "in", symbols)]
    )
    frame = table.to_pandas()
    wide = {f: frame.pivot(index="date", columns="symbol", values=f).sort_index() for f in FIELDS}
    data = Panel.from_frames(wide)
    rows = len(data.dates)
    for name in FIELDS:
        values = data.fields[name]
        values[rows // 3, 0] = np.nan  # one missing bar
        values[rows // 2 : rows // 2 + 15, 1] = np.nan  # a run of missing bars
        values[rows - 200 :, 2] = np.nan  # delisted
    data.fields["high"][rows // 4, 3] = np.nan  # one field only missing
    return data


def _late_listings(data: Panel) -> int:
    first = np.argmax(np.isfinite(data["adj_close"]), axis=0)
    return int((first > 0).sum())


def reference_apply(
    function: Callable[..., tuple[np.ndarray, ...]],
    inputs: list[np.ndarray],
    n_outputs: int,
    gaps: str,
) -> list[np.ndarray]:
    """The column loop as it was: the valid rows of each column (one series when skipping
    gaps, one per run when restarting), TA-Lib on a copy, written back."""
    shape = inputs[0].shape
    outputs = [np.full(shape, np.nan) for _ in range(n_outputs)]
    valid = np.logical_and.reduce([np.isfinite(a) for a in inputs])
    for column in range(shape[1]):
        rows = np.flatnonzero(valid[:, column])
        if rows.size == 0:
            continue
        if gaps == "skip":
            segments = [rows]
        else:
            segments = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
        for segment in segments:
            series = [np.ascontiguousarray(a[segment, column]) for a in inputs]
            for target, result in zip(outputs, function(*series), strict=True):
                target[segment, column] = result
    return outputs


def _same(actual: np.ndarray, expected: np.ndarray) -> bool:
    """Same shape, dtype and values (NaN where NaN)."""
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        return False
    return bool(np.array_equal(actual, expected, equal_nan=True))


def test_the_panel_has_late_listings_and_gaps(panel: Panel) -> None:
    assert _late_listings(panel) >= 5
    assert np.isnan(panel["adj_close"][-1, 2])


@pytest.mark.parametrize("gaps", ["skip", "restart"])
def test_every_indicator_equals_the_column_loop(panel: Panel, gaps: str) -> None:
    close, high, low = panel["adj_close"], panel["high"], panel["low"]
    cases: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {
        "sma": (
            [technical.sma(close, 20, gaps)],
            reference_apply(lambda x: (talib.SMA(x, timeperiod=20),), [close], 1, gaps),
        ),
        "ema": (
            [technical.ema(close, 30, gaps)],
            reference_apply(lambda x: (talib.EMA(x, timeperiod=30),), [close], 1, gaps),
        ),
        "rsi": (
            [technical.rsi(close, 14, gaps)],
            reference_apply(lambda x: (talib.RSI(x, timeperiod=14),), [close], 1, gaps),
        ),
        "macd": (
            list(vars(technical.macd(close, gaps=gaps)).values()),
            reference_apply(lambda x: talib.MACD(x, 12, 26, 9), [close], 3, gaps),
        ),
        "bollinger": (
            list(vars(technical.bollinger(close, gaps=gaps)).values()),
            reference_apply(lambda x: talib.BBANDS(x, 20, 2.0, 2.0), [close], 3, gaps),
        ),
        "atr": (
            [technical.atr(high, low, close, 14, gaps)],
            reference_apply(
                lambda a, b, c: (talib.ATR(a, b, c, timeperiod=14),), [high, low, close], 1, gaps
            ),
        ),
    }
    for name, (actual, expected) in cases.items():
        assert len(actual) == len(expected), name
        for got, want in zip(actual, expected, strict=True):
            assert got.flags.c_contiguous, name
            assert _same(got, want), name
    # the indicator given one row per symbol is the same numbers, transposed
    by_symbol = technical.rsi(np.ascontiguousarray(close.T), 14, gaps, by_symbol=True)
    assert _same(by_symbol, cases["rsi"][1][0].T)


def reference_ma_crossover(panel: Panel, fast: int, slow: int) -> np.ndarray:
    _, prices = panel.prices()
    [fast_sma] = reference_apply(lambda x: (talib.SMA(x, timeperiod=fast),), [prices], 1, "skip")
    [slow_sma] = reference_apply(lambda x: (talib.SMA(x, timeperiod=slow),), [prices], 1, "skip")
    return np.where(fast_sma > slow_sma, 1, -1).astype(np.int8)


def reference_rsi(panel: Panel, period: int, lower: float, upper: float) -> tuple[np.ndarray, ...]:
    _, prices = panel.prices()
    [rsi] = reference_apply(lambda x: (talib.RSI(x, timeperiod=period),), [prices], 1, "skip")
    with np.errstate(invalid="ignore"):
        signals = np.where(rsi < lower, 1, np.where(rsi > upper, -1, 0)).astype(np.int8)
        buy = np.clip((lower - rsi) / lower, 0.0, 1.0)
        sell = np.clip((rsi - upper) / (100.0 - upper), 0.0, 1.0)
    return signals, np.where(signals > 0, buy, np.where(signals < 0, sell, 0.0))


def reference_levels(panel: Panel, window: int) -> tuple[np.ndarray, ...]:
    """Raw TA-Lib MAX/MIN per column (NaNs and all), shifted one bar."""
    close = panel["adj_close"]
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = panel["adj_close"] / panel["close"]
    high, low = panel["high"] * factor, panel["low"] * factor
    support, resistance = np.full(close.shape, np.nan), np.full(close.shape, np.nan)
    for j in range(close.shape[1]):
        resistance[1:, j] = talib.MAX(np.ascontiguousarray(high[:, j]), timeperiod=window)[:-1]
        support[1:, j] = talib.MIN(np.ascontiguousarray(low[:, j]), timeperiod=window)[:-1]
    return close, support, resistance


def reference_support_resistance(panel: Panel, window: int) -> np.ndarray:
    close, support, resistance = reference_levels(panel, window)
    with np.errstate(invalid="ignore"):
        return np.where(close > resistance, 1, np.where(close < support, -1, 0)).astype(np.int8)


@pytest.mark.parametrize(("fast", "slow"), [(20, 50), (5, 200), (50, 20)])
def test_ma_crossover_signals_equal_the_reference(panel: Panel, fast: int, slow: int) -> None:
    signals = MovingAverageCrossover(fast=fast, slow=slow).signals(panel)
    assert signals.flags.c_contiguous
    assert signals.dtype == np.int8
    assert _same(signals, reference_ma_crossover(panel, fast, slow))


@pytest.mark.parametrize(("period", "lower", "upper"), [(14, 30.0, 70.0), (5, 20.0, 85.0)])
def test_rsi_signals_and_confidences_equal_the_reference(
    panel: Panel, period: int, lower: float, upper: float
) -> None:
    strategy = RelativeStrengthIndex(period=period, lower=lower, upper=upper)
    signals = strategy.signals(panel)
    expected_signals, expected_confidence = reference_rsi(panel, period, lower, upper)
    assert signals.flags.c_contiguous
    assert _same(signals, expected_signals)
    assert _same(strategy.confidences(panel, signals), expected_confidence)


@pytest.mark.parametrize("window", [20, 55])
def test_support_resistance_signals_and_levels_equal_the_reference(
    panel: Panel, window: int
) -> None:
    signals = SupportResistance(window=window).signals(panel)
    assert signals.flags.c_contiguous
    assert _same(signals, reference_support_resistance(panel, window))
    for got, want in zip(
        support_resistance_levels(panel, window), reference_levels(panel, window), strict=True
    ):
        assert _same(got, want)


MEMBERS = [
    {"strategy": "ma-crossover", "params": {"fast": 10, "slow": 40}, "weight": 2.0},
    {"strategy": "rsi", "weight": 1.0},
    {"strategy": "support-resistance", "params": {"window": 30}, "weight": 0.7},
    {"strategy": "rsi", "params": {"period": 6, "lower": 25, "upper": 80}, "weight": 1.3},
]


def reference_ensemble(panel: Panel, mode: str, threshold: float) -> tuple[np.ndarray, ...]:
    """The ensemble's combination as it was: a (K, T, N) stack summed over the members."""
    weights = np.array([m["weight"] for m in MEMBERS])
    rsi_default = reference_rsi(panel, 14, 30.0, 70.0)
    rsi_fast = reference_rsi(panel, 6, 25.0, 80.0)
    ma = reference_ma_crossover(panel, 10, 40)
    breakout = reference_support_resistance(panel, 30)
    signals = np.stack([ma, rsi_default[0], breakout, rsi_fast[0]])
    shares = weights[:, None, None] / weights.sum()
    if mode == "vote":
        buy = (shares * (signals == 1)).sum(axis=0)
        sell = (shares * (signals == -1)).sum(axis=0)
        go_long = (buy >= threshold) & (buy > sell)
        go_flat = (sell >= threshold) & (sell > buy)
        confidence = np.where(go_long, buy, np.where(go_flat, sell, 0.0))
    else:
        ma_conviction = np.where(ma != 0, 1.0, 0.0)
        breakout_conviction = np.where(breakout != 0, 1.0, 0.0)
        conviction = np.stack([ma_conviction, rsi_default[1], breakout_conviction, rsi_fast[1]])
        score = (shares * conviction * signals).sum(axis=0)
        go_long = (score >= threshold) & (score > 0)
        go_flat = (score <= -threshold) & (score < 0)
        confidence = np.where(go_long | go_flat, np.abs(score), 0.0)
    combined = np.where(go_long, 1, np.where(go_flat, -1, 0)).astype(np.int8)
    return combined, confidence


@pytest.mark.parametrize(
    ("mode", "threshold"), [("vote", 0.5), ("vote", 0.25), ("weighted", 0.2), ("weighted", 0.0)]
)
def test_ensemble_equals_the_stacked_reference(panel: Panel, mode: str, threshold: float) -> None:
    strategy = Ensemble(members=MEMBERS, mode=mode, threshold=threshold)
    signals = strategy.signals(panel)
    expected_signals, expected_confidence = reference_ensemble(panel, mode, threshold)
    assert _same(signals, expected_signals)
    assert _same(strategy.confidences(panel, signals), expected_confidence)
    assert (signals == 1).any()  # the comparison is not vacuous
    assert (signals == -1).any()


def test_ensemble_recomputes_for_another_panel(panel: Panel) -> None:
    """The members' work is kept for the panel last seen only: a shorter panel (what the
    look-ahead probe and a live feed hand over) gets its own signals."""
    strategy = Ensemble(members=MEMBERS)
    whole = strategy.signals(panel)
    rows = len(panel.dates) // 2
    half = Panel(panel.dates[:rows], panel.symbols, {k: v[:rows] for k, v in panel.fields.items()})
    assert _same(strategy.signals(half), Ensemble(members=MEMBERS).signals(half))
    assert _same(strategy.signals(panel), whole)


@pytest.mark.parametrize("members", [1, 2, 3, 5, 9])
def test_the_vote_table_equals_the_vote(members: int) -> None:
    rng = np.random.default_rng(members)
    weights = rng.uniform(0.1, 3.0, members)
    shares = weights / weights.sum()
    signals = [rng.integers(-1, 2, size=(300, 40)).astype(np.int8) for _ in range(members)]
    for threshold in (0.0, 0.3, 0.5, 1.0):
        by_table = _vote_by_table(shares, signals, threshold)
        direct = _vote(shares, signals, threshold)
        assert all(_same(a, b) for a, b in zip(by_table, direct, strict=True))
