"""Momentum, relative strength, volume momentum and volatility vs plain pandas."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from quantdesk.factors import (
    FactorInputError,
    distance_from_high,
    momentum_12_1,
    price_momentum,
    relative_strength,
    rolling_mean,
    sharpe_like,
    volatility,
    volume_momentum,
    window_return,
    zscore,
)

PriceMaker = Callable[[int, int], np.ndarray]


@pytest.fixture
def close(make_prices: PriceMaker) -> np.ndarray:
    prices = make_prices(400, 6)
    prices[:150, 1] = np.nan  # listed late
    prices[200:205, 2] = np.nan  # a trading halt
    prices[300:, 3] = np.nan  # delisted
    return prices


def test_momentum_12_1_matches_pandas_shifts(close: np.ndarray) -> None:
    frame = pd.DataFrame(close)
    expected = frame.shift(21) / frame.shift(252) - 1
    np.testing.assert_allclose(momentum_12_1(close), expected.to_numpy(), rtol=1e-14)


def test_momentum_12_1_hand_worked() -> None:
    prices = np.full((260, 1), np.nan)
    prices[259 - 252, 0] = 80.0
    prices[259 - 21, 0] = 100.0
    assert momentum_12_1(prices)[259, 0] == pytest.approx(0.25)
    assert np.isnan(momentum_12_1(prices)[258, 0])


def test_short_history_is_all_nan(make_prices: PriceMaker) -> None:
    result = momentum_12_1(make_prices(200, 3))
    assert np.isnan(result).all()


def test_at_rows_equal_full_result(close: np.ndarray) -> None:
    rows = np.array([399, 260, 0, 300])
    np.testing.assert_array_equal(momentum_12_1(close, at=rows), momentum_12_1(close)[rows])
    np.testing.assert_array_equal(volatility(close, at=rows), volatility(close)[rows])
    np.testing.assert_array_equal(volume_momentum(close, at=rows), volume_momentum(close)[rows])


def test_price_momentum_is_mean_of_horizon_returns(close: np.ndarray) -> None:
    frame = pd.DataFrame(close)
    parts = [frame.shift(5) / frame.shift(h) - 1 for h in (63, 126, 252)]
    expected = (parts[0] + parts[1] + parts[2]) / 3
    np.testing.assert_allclose(
        price_momentum(close, (63, 126, 252), skip=5), expected.to_numpy(), rtol=1e-13
    )


def test_price_momentum_needs_every_horizon(close: np.ndarray) -> None:
    result = price_momentum(close, (63, 252))
    # Symbol 1 lists at row 150: from row 213 the 63-day return exists but not the 252-day one.
    assert np.isnan(result[300, 1])
    assert np.isfinite(window_return(close, 63)[300, 1])


def test_relative_strength_is_the_annualised_alpha_of_a_regression_on_the_benchmark(
    close: np.ndarray, make_prices: PriceMaker
) -> None:
    bench = make_prices(400, 1)[:, 0]
    result = relative_strength(close, bench)
    stock = pd.DataFrame(close).pct_change(fill_method=None).to_numpy()
    market = pd.Series(bench).pct_change().to_numpy()
    for t in (252, 300, 399):
        window = slice(t - 252 + 1, t - 21 + 1)  # returns between prices t-252 and t-21
        for j in range(close.shape[1]):
            y, x = stock[window, j], market[window]
            ok = np.isfinite(y) & np.isfinite(x)
            if ok.sum() < 0.8 * 231:
                assert np.isnan(result[t, j])
                continue
            _beta, alpha = np.polyfit(x[ok], y[ok], 1)
            assert result[t, j] == pytest.approx(alpha * 252, rel=1e-7, abs=1e-10)
    assert np.isnan(result[251]).all()  # the window starts before the first row


def test_relative_strength_of_the_benchmark_and_of_leverage_on_it_is_zero(
    make_prices: PriceMaker,
) -> None:
    bench = make_prices(300, 1)[:, 0]
    returns = np.r_[np.nan, bench[1:] / bench[:-1] - 1]
    levered = 50.0 * np.cumprod(1.0 + np.nan_to_num(2.0 * returns))
    result = relative_strength(np.c_[bench, levered], bench)
    assert np.nanmax(np.abs(result)) < 1e-12  # beta 1 and beta 2, no alpha
    assert np.isfinite(result[260:]).all()


def test_relative_strength_depends_on_the_benchmark_after_normalisation(
    close: np.ndarray, make_prices: PriceMaker
) -> None:
    """Regression: the growth-ratio RS ranked exactly like 12-1 momentum on every date, so the
    benchmark (and the composite's 40 % RS weight) made no difference."""
    full = close[:, [0, 2, 4, 5]]  # the symbols with a history at row 399
    first, second = make_prices(400, 2).T
    at = [399]
    one = zscore(relative_strength(full, first, at=at))
    other = zscore(relative_strength(full, second, at=at))
    momentum = zscore(window_return(full, 252, 21, at=at))
    assert np.abs(one - other).max() > 0.05
    assert np.abs(one - momentum).max() > 0.05


def test_relative_strength_rejects_misaligned_benchmark(close: np.ndarray) -> None:
    with pytest.raises(FactorInputError, match="benchmark"):
        relative_strength(close, np.ones(10))


def test_volume_momentum_matches_rolling_means(rng: np.random.Generator) -> None:
    volume = rng.integers(1_000, 50_000, size=(300, 4)).astype(float)
    volume[100, 0] = np.nan
    frame = pd.DataFrame(volume)
    expected = frame.rolling(20).mean() / frame.rolling(120).mean() - 1
    np.testing.assert_allclose(volume_momentum(volume), expected.to_numpy(), rtol=1e-12)


def test_rolling_mean_min_periods_matches_pandas(rng: np.random.Generator) -> None:
    values = rng.normal(size=(80, 3))
    values[rng.random(values.shape) < 0.2] = np.nan
    expected = pd.DataFrame(values).rolling(10, min_periods=6).mean()
    np.testing.assert_allclose(rolling_mean(values, 10, 6), expected.to_numpy(), rtol=1e-12)


def test_volatility_is_annualised_sample_std_of_simple_returns(close: np.ndarray) -> None:
    returns = pd.DataFrame(close).pct_change(fill_method=None)
    expected = returns.rolling(63).std() * np.sqrt(252)
    np.testing.assert_allclose(volatility(close, 63), expected.to_numpy(), rtol=1e-10)


def test_volatility_with_min_periods_skips_gap_returns(close: np.ndarray) -> None:
    returns = pd.DataFrame(close).pct_change(fill_method=None)
    expected = returns.rolling(20, min_periods=10).std() * np.sqrt(252)
    np.testing.assert_allclose(volatility(close, 20, 10), expected.to_numpy(), rtol=1e-10)
    # The halt at rows 200-204 removes 6 returns from the window of symbol 2.
    assert np.isfinite(volatility(close, 20, 10)[210, 2])
    assert np.isnan(volatility(close, 20)[210, 2])


def test_sharpe_like_and_distance_from_high_match_pandas(close: np.ndarray) -> None:
    returns = pd.DataFrame(close).pct_change(fill_method=None)
    rolling = returns.rolling(252)
    expected = rolling.mean() / rolling.std() * np.sqrt(252)
    np.testing.assert_allclose(sharpe_like(close), expected.to_numpy(), rtol=1e-9)
    frame = pd.DataFrame(close)
    high = frame / frame.rolling(252).max() - 1
    np.testing.assert_allclose(distance_from_high(close), high.to_numpy(), rtol=1e-14)
    assert np.nanmax(distance_from_high(close)) <= 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: momentum_12_1(c[:, 0]), "2-D"),
        (lambda c: window_return(c, 21, 21), "skip"),
        (lambda c: volume_momentum(c, 120, 20), "short"),
        (lambda c: volatility(c, 1), "window"),
        (lambda c: momentum_12_1(c, at=[400]), "outside"),
        (lambda c: momentum_12_1(c, at=np.array([1.5])), "integer"),
        (lambda c: price_momentum(c, ()), "horizons"),
    ],
)
def test_bad_input_names_the_problem(
    close: np.ndarray, call: Callable[[np.ndarray], object], message: str
) -> None:
    with pytest.raises(FactorInputError, match=message):
        call(close)
