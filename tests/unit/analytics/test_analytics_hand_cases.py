"""Hand-computed cases and input checks for period metrics, drawdowns and the monthly table."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import quantstats

from quantdesk import analytics

# quantstats is untyped; one Any-typed handle keeps mypy quiet about every call
QS: Any = quantstats.stats


def _dated(values: list[float], dates: list[str]) -> pd.Series:
    return pd.Series(values, index=pd.DatetimeIndex(dates))


@pytest.fixture
def two_drawdowns() -> pd.Series:
    # Mon +10 % (peak 1.10), Tue -10 % (0.99), Wed +5 % (1.0395), Thu +10 % (1.14345, new
    # peak), Fri -50 %, next Mon flat: still under water when the series ends.
    return _dated(
        [0.10, -0.10, 0.05, 0.10, -0.50, 0.0],
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"],
    )


def test_drawdown_periods_by_hand(two_drawdowns: pd.Series) -> None:
    periods = analytics.drawdown_periods(two_drawdowns)
    assert periods["start"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-05")]
    assert periods["valley"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-05")]
    assert periods["end"].tolist() == [pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-08")]
    assert periods["recovered"].tolist() == [True, False]
    # Tue..Wed = 2 calendar days; Fri..Mon = 4 calendar days (weekend included)
    assert periods["days"].tolist() == [2, 4]
    np.testing.assert_allclose(periods["max_drawdown"], [0.99 / 1.10 - 1.0, -0.5])
    assert analytics.max_drawdown_duration(two_drawdowns) == 4
    assert analytics.max_drawdown(two_drawdowns) == pytest.approx(-0.5)
    np.testing.assert_allclose(
        analytics.drawdown_series(two_drawdowns),
        [0.0, -0.1, 1.0395 / 1.1 - 1.0, 0.0, -0.5, -0.5],
    )
    days = QS.drawdown_details(QS.to_drawdown_series(two_drawdowns))["days"]
    assert days.tolist() == [2, 4]


def test_loss_on_the_first_day_is_a_drawdown_from_the_starting_equity() -> None:
    returns = _dated([-0.10, 0.20, 0.01], ["2024-03-01", "2024-03-04", "2024-03-05"])
    assert analytics.max_drawdown(returns) == pytest.approx(-0.10)
    assert analytics.max_drawdown(returns) == pytest.approx(QS.max_drawdown(returns))
    periods = analytics.drawdown_periods(returns)
    assert periods[["days", "recovered"]].to_numpy().tolist() == [[1, True]]


def test_never_under_water_has_no_drawdown() -> None:
    returns = _dated([0.01, 0.0, 0.02], ["2024-03-01", "2024-03-04", "2024-03-05"])
    assert analytics.max_drawdown(returns) == 0.0
    assert analytics.max_drawdown_duration(returns) == 0
    assert analytics.drawdown_periods(returns).empty
    assert math.isnan(analytics.calmar_ratio(returns))


def test_monthly_table_by_hand() -> None:
    returns = _dated(
        [0.10, 0.10, -0.50, 0.20], ["2023-12-29", "2024-01-02", "2024-01-31", "2024-03-15"]
    )
    table = analytics.monthly_returns_table(returns)
    assert table.index.tolist() == [2023, 2024]
    assert table.columns.tolist() == [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun",
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Year",
    ]  # fmt: skip
    assert table.loc[2023, "Dec"] == pytest.approx(0.10)
    assert table.loc[2023, "Year"] == pytest.approx(0.10)
    assert table.loc[2024, "Jan"] == pytest.approx(1.10 * 0.50 - 1.0)
    assert table.isna().loc[2024, "Feb"]
    assert table.loc[2024, "Mar"] == pytest.approx(0.20)
    assert table.loc[2024, "Year"] == pytest.approx(1.10 * 0.50 * 1.20 - 1.0)
    assert int(table.notna().sum().sum()) == 5
    assert analytics.best_month(returns) == pytest.approx(0.20)
    assert analytics.worst_month(returns) == pytest.approx(-0.45)


def test_timezone_aware_dates_use_their_own_calendar() -> None:
    naive = _dated([0.01, 0.02, -0.01], ["2024-01-31", "2024-02-01", "2024-02-02"])
    aware = naive.tz_localize("UTC")
    pd.testing.assert_frame_equal(
        analytics.monthly_returns_table(aware), analytics.monthly_returns_table(naive)
    )


def test_ratios_by_hand() -> None:
    returns = np.array([0.01, -0.02, 0.03, -0.01])
    mean = 0.0025
    std = float(np.std(returns, ddof=1))
    downside = math.sqrt((0.02**2 + 0.01**2) / 4)
    assert analytics.sharpe_ratio(returns) == pytest.approx(mean / std * math.sqrt(252))
    assert analytics.sharpe_ratio(returns, annualize=False) == pytest.approx(mean / std)
    assert analytics.sortino_ratio(returns) == pytest.approx(mean / downside * math.sqrt(252))
    assert analytics.volatility(returns) == pytest.approx(std * math.sqrt(252))
    assert analytics.total_return(returns) == pytest.approx(1.01 * 0.98 * 1.03 * 0.99 - 1)


def test_risk_free_rate_is_de_annualised_by_compounding() -> None:
    returns = np.array([0.01, -0.02, 0.03, -0.01])
    daily = 1.05 ** (1 / 252) - 1
    excess = returns - daily
    expected = excess.mean() / excess.std(ddof=1) * math.sqrt(252)
    assert analytics.sharpe_ratio(returns, rf=0.05) == pytest.approx(expected)


def test_cagr_counts_years_as_observations_over_252() -> None:
    # 126 observations = half a year, whatever the calendar dates
    returns = np.full(126, 0.001)
    assert analytics.cagr(returns) == pytest.approx(1.001**252 - 1.0)


def test_win_rate_and_profit_factor_by_hand() -> None:
    returns = [0.01, 0.0, -0.01, 0.02]
    assert analytics.win_rate(returns) == pytest.approx(2 / 3)
    assert analytics.profit_factor(returns) == pytest.approx(3.0)
    assert analytics.profit_factor([0.01, 0.0]) == math.inf
    assert math.isnan(analytics.profit_factor([0.0, 0.0]))
    assert math.isnan(analytics.win_rate([0.0, 0.0]))


def test_value_at_risk_by_hand() -> None:
    returns = np.array([-0.03, -0.01, 0.0, 0.01, 0.02, 0.04])
    mean, std = returns.mean(), returns.std(ddof=1)
    assert analytics.value_at_risk(returns) == pytest.approx(mean - 1.6448536269514722 * std)
    assert analytics.value_at_risk(returns, method="historical") == pytest.approx(-0.025)
    # the historical tail at 95 % holds only the worst observation
    assert analytics.conditional_value_at_risk(returns, method="historical") == pytest.approx(-0.03)
    parametric = mean - std * 0.10313564037537128 / 0.05
    assert analytics.conditional_value_at_risk(returns) == pytest.approx(parametric)


def test_zero_volatility_gives_nan_ratios() -> None:
    flat = np.full(10, 0.001)
    assert math.isnan(analytics.sharpe_ratio(flat))
    assert math.isnan(analytics.sortino_ratio(flat))


def test_array_and_series_inputs_agree(spy_returns: pd.Series) -> None:
    assert analytics.sharpe_ratio(spy_returns.to_numpy()) == analytics.sharpe_ratio(spy_returns)
    assert analytics.sharpe_ratio(spy_returns.tolist()) == analytics.sharpe_ratio(spy_returns)


def test_missing_values_are_dropped() -> None:
    returns = _dated(
        [0.01, math.nan, -0.02, 0.03], ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    )
    assert analytics.sharpe_ratio(returns) == analytics.sharpe_ratio([0.01, -0.02, 0.03])
    assert analytics.cagr(returns) == pytest.approx(QS.cagr(returns))


def test_alpha_beta_by_hand_and_pairing() -> None:
    benchmark = pd.Series([0.01, -0.02, 0.015, 0.0], index=pd.date_range("2024-01-01", periods=4))
    returns = 2.0 * benchmark + 0.001
    result = analytics.alpha_beta(returns, benchmark)
    assert result.beta == pytest.approx(2.0)
    assert result.alpha == pytest.approx(0.001 * 252)
    # an extra benchmark date outside the strategy's dates is ignored
    longer = pd.concat([benchmark, pd.Series([0.5], index=[pd.Timestamp("2024-02-01")])])
    assert analytics.alpha_beta(returns, longer).observations == 4
    assert math.isnan(analytics.alpha_beta([0.01, 0.02], [0.0, 0.0]).beta)
    flat = analytics.alpha_beta([0.01, 0.02, 0.0], [0.001, 0.001, 0.001])
    assert math.isnan(flat.beta)
    assert math.isnan(flat.alpha)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: analytics.sharpe_ratio(pd.DataFrame({"a": [0.1]})),  # type: ignore[arg-type]
            TypeError,
            "DataFrame",
        ),
        (lambda: analytics.sharpe_ratio([0.01, math.inf]), ValueError, "infinite"),
        (lambda: analytics.sharpe_ratio([]), ValueError, "no observations"),
        (lambda: analytics.sharpe_ratio(np.zeros((2, 2))), ValueError, "one-dimensional"),
        (lambda: analytics.monthly_returns_table([0.01, 0.02]), TypeError, "DatetimeIndex"),
        (lambda: analytics.value_at_risk([0.01, 0.02], confidence=95), ValueError, "confidence"),
        (
            lambda: analytics.value_at_risk([0.01, 0.02], method="monte-carlo"),  # type: ignore[arg-type]
            ValueError,
            "method",
        ),
        (lambda: analytics.alpha_beta([0.01, 0.02], [0.01]), ValueError, "benchmark"),
        (lambda: analytics.rolling_sharpe([0.01, 0.02], window=1), ValueError, "window"),
        (lambda: analytics.sharpe_ratio([0.01, 0.02], rf=-1.5), ValueError, "rf"),
    ],
)
def test_bad_input_is_named(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]


def test_unsorted_or_duplicate_dates_are_rejected() -> None:
    unsorted = _dated([0.01, 0.02], ["2024-01-02", "2024-01-01"])
    with pytest.raises(ValueError, match="not sorted"):
        analytics.drawdown_periods(unsorted)
    duplicated = _dated([0.01, 0.02], ["2024-01-02", "2024-01-02"])
    with pytest.raises(ValueError, match="duplicate date"):
        analytics.monthly_returns(duplicated)


def test_summary_without_benchmark_and_to_dict(spy_returns: pd.Series) -> None:
    result = analytics.summary(spy_returns)
    values = result.to_dict()
    assert values["alpha"] is None
    assert values["beta"] is None
    assert values["start"] == "1993-02-01"
    assert values["end"] == "2018-04-27"
    assert values["observations"] == len(spy_returns)
    assert values["sharpe_ratio"] == pytest.approx(QS.sharpe(spy_returns), rel=1e-8)
    with pytest.raises(AttributeError):
        result.cagr = 0.0  # type: ignore[misc]


def test_value_at_risk_of_a_flat_series_is_its_mean() -> None:
    """Regression: a backtest that never traded crashed the summary (NormalDist(σ=0))."""
    from quantdesk.analytics import summary, value_at_risk

    flat = pd.Series(0.0, index=pd.bdate_range("2024-01-01", periods=30))
    assert value_at_risk(flat) == 0.0
    assert summary(flat).value_at_risk == 0.0
