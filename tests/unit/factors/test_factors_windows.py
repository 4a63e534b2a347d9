"""The NumPy window statistics equal the scalar loop they replace, bit for bit.

``quantdesk.factors.windows`` replaced a numba kernel (issue 11: loading numba cost every
``scores --compute`` ~0.6 s). That kernel is kept below as the reference, compiled here: one
sequential loop per requested row and symbol, NaN skipped. The NumPy version must give the same
floats (signed zeros included) on random panels with holes, late starts and odd row orders, and
on the real 515-symbol data at month ends with the windows the score sets use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.jit import njit
from quantdesk.factors import month_end_rows, rolling_mean, sharpe_like, volatility
from quantdesk.factors._arrays import running_sum, simple_returns
from quantdesk.factors.windows import rolling_max_at, rolling_mean_at, rolling_mean_std_at


@njit
def kernel_mean_std(
    values: np.ndarray, rows: np.ndarray, window: int, min_periods: int, ddof: int
) -> tuple[np.ndarray, np.ndarray]:
    n_rows = rows.shape[0]
    n_cols = values.shape[1]
    mean = np.full((n_rows, n_cols), np.nan)
    std = np.full((n_rows, n_cols), np.nan)
    for k in range(n_rows):
        end = rows[k] + 1
        start = max(0, end - window)
        for j in range(n_cols):
            total = 0.0
            count = 0
            for i in range(start, end):
                v = values[i, j]
                if not np.isnan(v):
                    total += v
                    count += 1
            if count < min_periods or count == 0:
                continue
            m = total / count
            mean[k, j] = m
            if count - ddof <= 0:
                continue
            squares = 0.0
            for i in range(start, end):
                v = values[i, j]
                if not np.isnan(v):
                    squares += (v - m) * (v - m)
            std[k, j] = np.sqrt(squares / (count - ddof))
    return mean, std


@njit
def kernel_max(values: np.ndarray, rows: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    n_rows = rows.shape[0]
    n_cols = values.shape[1]
    out = np.full((n_rows, n_cols), np.nan)
    for k in range(n_rows):
        end = rows[k] + 1
        start = max(0, end - window)
        for j in range(n_cols):
            best = -np.inf
            count = 0
            for i in range(start, end):
                v = values[i, j]
                if not np.isnan(v):
                    count += 1
                    best = max(best, v)
            if count >= min_periods and count > 0:
                out[k, j] = best
    return out


def assert_same_floats(mine: np.ndarray, theirs: np.ndarray) -> None:
    """Equal shape, NaN in the same places and every other value the same bits."""
    assert mine.shape == theirs.shape
    missing = np.isnan(theirs)
    np.testing.assert_array_equal(np.isnan(mine), missing)
    np.testing.assert_array_equal(mine[~missing].view(np.int64), theirs[~missing].view(np.int64))


def assert_same_as_kernel(
    values: np.ndarray, rows: np.ndarray, window: int, min_periods: int, ddof: int = 1
) -> None:
    mean, std = kernel_mean_std(values, rows, window, min_periods, ddof)
    assert_same_floats(rolling_mean_at(values, rows, window, min_periods), mean)
    ours_mean, ours_std = rolling_mean_std_at(values, rows, window, min_periods, ddof)
    assert_same_floats(ours_mean, mean)
    assert_same_floats(ours_std, std)
    assert_same_floats(
        rolling_max_at(values, rows, window, min_periods),
        kernel_max(values, rows, window, min_periods),
    )


def random_panel(seed: int, days: int, symbols: int) -> np.ndarray:
    """Volumes and returns of very different magnitudes (so sums round), with NaN holes, late
    starts, early ends, an all-NaN symbol, exact zeros, negative zeros and a constant run."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-3, 9, size=symbols)
    values = rng.lognormal(0.0, 1.5, size=(days, symbols)) * scale
    values[:, ::3] = rng.normal(0.0, 0.02, size=(days, len(range(0, symbols, 3))))
    values[rng.random((days, symbols)) < 0.15] = np.nan
    for j in range(symbols):
        values[: rng.integers(0, days // 2), j] = np.nan  # late start
    values[days - 7 :, 1 % symbols] = np.nan  # ended early
    values[:, -1] = np.nan
    values[5:40, 0] = 3.25
    values[rng.random((days, symbols)) < 0.02] = 0.0
    values[rng.random((days, symbols)) < 0.02] = -0.0
    return np.ascontiguousarray(values)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("window", "min_periods"), [(1, 1), (5, 5), (20, 12), (63, 63), (500, 3)], ids=str
)
def test_random_panels_are_bit_for_bit_the_kernel(seed: int, window: int, min_periods: int) -> None:
    values = random_panel(seed, 300, 9)
    rng = np.random.default_rng(seed)
    every_row = np.arange(300, dtype=np.intp)
    month_ends = np.arange(20, 300, 21, dtype=np.intp)
    shuffled = rng.permutation(300)[:40].astype(np.intp)
    repeated = np.array([299, 0, 299, 7, 7], dtype=np.intp)
    for rows in (every_row, month_ends, every_row[100:160], shuffled, repeated):
        assert_same_as_kernel(values, rows, window, min_periods)
    assert_same_as_kernel(values, month_ends, window, min_periods, ddof=0)


@pytest.mark.parametrize("symbols", [1, 2], ids=["one-symbol", "two-symbols"])
def test_narrow_panels_sum_sequentially_too(symbols: int) -> None:
    """Regression guard: a NumPy reduction over one column sums pairwise, not in row order;
    the window sums must not depend on the panel's width."""
    values = random_panel(7, 400, symbols + 1)[:, :symbols].copy()
    values[:, 0] = np.random.default_rng(1).lognormal(10.0, 2.0, size=400)
    assert_same_as_kernel(values, np.arange(400, dtype=np.intp), 120, 120)
    assert_same_as_kernel(values, np.arange(130, 400, 21, dtype=np.intp), 252, 200)


def test_no_rows_and_windows_past_the_first_row() -> None:
    values = random_panel(3, 10, 4)
    assert_same_as_kernel(values, np.empty(0, dtype=np.intp), 5, 5)
    assert_same_as_kernel(values, np.array([0, 1, 2], dtype=np.intp), 50, 1)


def test_the_factors_use_the_window_statistics(rng: np.random.Generator) -> None:
    """``rolling_mean``, ``volatility`` and ``sharpe_like`` are the kernel's numbers too."""
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, size=(400, 5)), axis=0))
    close[rng.random(close.shape) < 0.05] = np.nan
    rows = np.arange(0, 400, 13, dtype=np.intp)
    mean, std = kernel_mean_std(simple_returns(close), rows, 63, 40, 1)
    assert_same_floats(volatility(close, 63, 40, at=rows), std * np.sqrt(252))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = mean / std * np.sqrt(252)
    expected[~np.isfinite(expected)] = np.nan
    assert_same_floats(sharpe_like(close, 63, 40, at=rows), expected)
    assert_same_floats(rolling_mean(close, 20, at=rows), kernel_mean_std(close, rows, 20, 20, 1)[0])


@pytest.fixture(scope="module")
def real_panel(shared_data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pd.read_parquet(
        shared_data / "us_equities_daily.parquet", columns=["date", "symbol", "adj_close", "volume"]
    )
    close = frame.pivot(index="date", columns="symbol", values="adj_close").sort_index()
    volume = frame.pivot(index="date", columns="symbol", values="volume").reindex_like(close)
    rows = month_end_rows(close.index.to_numpy(), include_final=True).astype(np.intp)
    return (
        np.ascontiguousarray(close.to_numpy(dtype=np.float64)),
        np.ascontiguousarray(volume.to_numpy(dtype=np.float64)),
        rows,
    )


@pytest.mark.slow
def test_real_data_at_month_ends_is_bit_for_bit_the_kernel(
    real_panel: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """The windows of the score sets on 515 symbols × 20 years: volume momentum's 20 and 120
    days, the ETF set's 63- and 252-day return statistics and 252-day high."""
    close, volume, rows = real_panel
    assert close.shape[1] >= 500
    assert rows.size >= 240
    returns = simple_returns(close)
    for window in (20, 120):
        mean, _ = kernel_mean_std(volume, rows, window, window, 1)
        assert_same_floats(rolling_mean_at(volume, rows, window, window), mean)
    for window in (63, 252):
        mean, std = kernel_mean_std(returns, rows, window, window, 1)
        ours_mean, ours_std = rolling_mean_std_at(returns, rows, window, window, 1)
        assert_same_floats(ours_mean, mean)
        assert_same_floats(ours_std, std)
    assert_same_floats(rolling_max_at(close, rows, 252, 252), kernel_max(close, rows, 252, 252))


@pytest.mark.parametrize("shape", [(300, 9), (300, 1), (1, 4), (0, 3)], ids=str)
def test_running_sum_is_numpys_cumulative_sum_bit_for_bit(shape: tuple[int, int]) -> None:
    """relative strength's window sums come from it: every float must stay np.cumsum's."""
    rng = np.random.default_rng(11)
    values = rng.lognormal(0.0, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    values[rng.random(shape) < 0.1] = -0.0
    expected = np.zeros((shape[0] + 1, shape[1]))
    np.cumsum(values, axis=0, out=expected[1:])
    assert_same_floats(running_sum(values), expected)
