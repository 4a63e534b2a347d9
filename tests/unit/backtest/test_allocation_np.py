"""The NumPy allocation engine and round-trip walk equal the numba kernels bit for bit.

``run_allocation`` runs plain rebalancing (no stops, no drift) without numba (issue 11: loading
numba cost a momentum backtest ~0.5 s and ~100 MB); these tests hold the two implementations
to the same floats, on the real 515-symbol data and on random panels built to reach every
branch (gaps, trimmed buys, failed sells, whole shares, leverage, next-open fills, minimum
trade sizes, a decision on the last row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import allocation_np as plain
from quantdesk.backtest import nb, trips
from quantdesk.data.panel import Panel
from quantdesk.strategies.momentum_12_1 import Momentum121

OUTPUTS = ("positions", "weights", "equity", "cash", "turnover", "paid", "decided", "records")
COSTS = [(0.0, 0.0, 0.001, 0.0), (1.0, 0.005, 0.0005, 0.0002), (50.0, 0.01, 0.002, 0.001)]
THRESHOLDS = [(0.0, 0.0), (500.0, 0.001)]


def assert_same_run(args: tuple[object, ...]) -> tuple[np.ndarray, ...]:
    ours = plain.allocation_np(*args)  # type: ignore[arg-type]
    kernel = nb.allocation_nb(*args, np.nan, np.empty(0), np.nan, False)
    for name, mine, theirs in zip(OUTPUTS, ours, kernel, strict=True):
        assert mine.dtype == theirs.dtype, name
        np.testing.assert_array_equal(mine, theirs, err_msg=name, strict=True)
    return ours


def assert_same_trips(records: np.ndarray, marks: np.ndarray) -> None:
    filled = records[:, 4] != 0
    fills = records[filled]
    args = (
        fills[:, 2].astype(np.int64),
        fills[:, 4],
        fills[:, 5],
        fills[:, 6],
        fills[:, 1].astype(np.int64) * 86_400_000_000_000,
        marks[-1].copy(),
    )
    for mine, theirs in zip(trips.round_trips(*args), nb.round_trips_nb(*args), strict=True):
        assert mine.dtype == theirs.dtype
        np.testing.assert_array_equal(mine, theirs, strict=True)


def test_the_constants_are_the_kernels() -> None:
    assert (plain.NOISE, plain.TIE_TOLERANCE, plain.RECORD_FIELDS) == (
        nb._NOISE,
        nb.TIE_TOLERANCE,
        nb.RECORD_FIELDS,
    )


@pytest.fixture(scope="module")
def real_momentum(shared_data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    frame = pd.read_parquet(
        shared_data / "us_equities_daily.parquet", columns=["date", "symbol", "open", "adj_close"]
    )
    close = frame.pivot(index="date", columns="symbol", values="adj_close").sort_index()
    opens = frame.pivot(index="date", columns="symbol", values="open").reindex_like(close)
    panel = Panel.from_frames({"adj_close": close, "close": close})
    strategy = Momentum121()
    mask = np.asarray(strategy.rebalance_mask(panel.dates), dtype=bool)
    targets = np.ascontiguousarray(strategy.target_weights(panel, mask), dtype=np.float64)
    raw = np.ascontiguousarray(close.to_numpy(dtype=np.float64))
    marks = plain.forward_fill(raw)
    np.testing.assert_array_equal(marks, nb.forward_fill_nb(raw), strict=True)
    is_rebalance = mask & np.isfinite(targets).any(axis=1)
    next_open = opens.to_numpy(dtype=np.float64)
    next_open = np.where(next_open > 0, next_open, marks)
    return marks, next_open, targets, is_rebalance


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0, 1], ids=["close", "next-open"])
@pytest.mark.parametrize("fractional", [True, False], ids=["fractional", "whole"])
@pytest.mark.parametrize("costs", COSTS[:2], ids=["10bp", "all-costs"])
@pytest.mark.parametrize("thresholds", THRESHOLDS, ids=["no-minimum", "minimum"])
def test_momentum_12_1_on_real_data_is_bit_for_bit_the_kernels(
    real_momentum: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    delay: int,
    fractional: bool,
    costs: tuple[float, float, float, float],
    thresholds: tuple[float, float],
) -> None:
    marks, next_open, targets, is_rebalance = real_momentum
    fills_at = marks if delay == 0 else next_open
    args = (
        marks, fills_at, targets, is_rebalance, delay, 1e6, costs, thresholds, fractional, False,
    )  # fmt: skip
    records = assert_same_run(args)[-1]
    assert len(records) > 10_000  # 20 years of monthly top-decile turnover
    assert_same_trips(records, marks)


def random_case(seed: int) -> tuple[object, ...]:
    """A small panel with gaps, random targets on random rows and random switches."""
    rng = np.random.default_rng(seed)
    T, N = int(rng.integers(2, 60)), int(rng.integers(1, 9))
    prices = 10.0 * np.exp(np.cumsum(rng.normal(0.0, 0.05, (T, N)), axis=0))
    prices[rng.random((T, N)) < 0.15] = np.nan  # gaps and late listings
    marks = plain.forward_fill(prices)
    allow_leverage = bool(rng.integers(2))
    raw = rng.random((T, N)) * (rng.random((T, N)) < 0.7)
    if allow_leverage:
        raw = raw * rng.choice([-1.5, 1.0, 2.0], size=(T, N))
    else:
        raw = raw / np.maximum(raw.sum(axis=1, keepdims=True), 1e-12) * rng.uniform(0.5, 1.0)
    raw[~(marks > 0)] = 0.0  # a name without a price cannot be targeted
    rows = rng.random(T) < rng.uniform(0.1, 1.0)
    rows[-1] |= bool(rng.integers(2))  # a decision on the last row never fills
    targets = np.where(rows[:, None], raw, np.nan)
    delay = int(rng.integers(2))
    opens = marks * rng.uniform(0.97, 1.03, (T, N))
    fills_at = marks if delay == 0 else np.where(opens > 0, opens, marks)
    costs = COSTS[int(rng.integers(len(COSTS)))]
    thresholds = THRESHOLDS[int(rng.integers(2))]
    cash = float(rng.choice([100.0, 1_000.0, 1e6]))  # small accounts trim and refuse orders
    fractional = bool(rng.integers(2))
    return (
        marks,
        fills_at,
        targets,
        rows,
        delay,
        cash,
        costs,
        thresholds,
        fractional,
        allow_leverage,
    )


@pytest.mark.parametrize("seed", range(300))
def test_random_panels_are_bit_for_bit_the_kernels(seed: int) -> None:
    args = random_case(seed)
    records = assert_same_run(args)[-1]
    assert_same_trips(records, args[0])  # type: ignore[arg-type]


def test_a_trimmed_buy_and_a_refused_sell_match_the_kernel() -> None:
    """The cash-constrained branches, on purpose: a buy the cash cannot pay is trimmed, and a
    sell whose flat fee exceeds proceeds and cash is refused."""
    marks = np.array([[10.0, 10.0], [10.0, 10.0], [0.01, 10.0]])
    targets = np.array([[0.6, 0.6], [np.nan, np.nan], [0.0, 0.0]])
    rows = np.array([True, False, True])
    args = (marks, marks, targets, rows, 0, 100.0, (10.0, 0.0, 0.0, 0.0), (0.0, 0.0), True, False)
    records = assert_same_run(args)[-1]
    ordered, filled = records[:, 3], records[:, 4]
    assert filled[0] == ordered[0] == 6.0  # 60 + 10 fee: affordable
    assert 0 < filled[1] < ordered[1]  # the 30 left buy 2 of the 6 shares wanted
    assert ordered[2] == -6.0  # 0.06 of proceeds cannot pay a 10 fee:
    assert filled[2] == 0.0  # refused
    assert filled[3] == ordered[3] == -2.0


@pytest.mark.parametrize("shape", [(0, 3), (1, 4), (50, 1), (200, 37), (30, 0)])
def test_forward_fill_is_the_kernels(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    values = rng.normal(size=shape)
    values[rng.random(shape) < 0.4] = np.nan
    if shape[0] > 10:
        values[:, ::3] = np.where(np.arange(shape[0])[:, None] < 5, np.nan, values[:, ::3])
    np.testing.assert_array_equal(
        plain.forward_fill(values), nb.forward_fill_nb(values), strict=True
    )


def test_round_trip_trades_are_the_same_with_and_without_numba() -> None:
    from quantdesk.backtest import round_trip_trades, run_allocation

    marks, _, targets, rows, *_ = random_case(7)
    assert isinstance(marks, np.ndarray)
    assert isinstance(targets, np.ndarray)
    assert isinstance(rows, np.ndarray)
    dates = pd.bdate_range("2020-01-01", periods=marks.shape[0])
    symbols = [f"S{j}" for j in range(marks.shape[1])]
    panel = Panel.from_frames({"close": pd.DataFrame(marks, index=dates, columns=symbols)})
    weights = np.where(rows[:, None], np.nan_to_num(np.abs(targets)), np.nan)
    weights = weights / np.maximum(np.nansum(weights, axis=1, keepdims=True), 1.0)
    result = run_allocation(panel, weights)
    assert len(result.fills) > 5
    last = dict(zip(symbols, marks[-1].tolist(), strict=True))
    walked = round_trip_trades(result.fills, last)
    pd.testing.assert_frame_equal(walked, round_trip_trades(result.fills, last, compiled=True))
    pd.testing.assert_frame_equal(walked, result.trades)
