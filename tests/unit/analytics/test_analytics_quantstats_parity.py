"""Every period metric against quantstats 0.0.86 on real return series, to 1e-8 relative."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import quantstats

from quantdesk import analytics

# quantstats is untyped; one Any-typed handle keeps mypy quiet about every call
QS: Any = quantstats.stats

RELATIVE = 1e-8
NAMES = ("SPY", "AAPL", "JPM", "XOM", "GE")

# (ours, quantstats) pairs taking only the returns series
SCALAR_PAIRS: dict[str, tuple[Callable[[pd.Series], float], Callable[[pd.Series], Any]]] = {
    "total_return": (analytics.total_return, QS.comp),
    "cagr": (analytics.cagr, QS.cagr),
    "volatility": (analytics.volatility, QS.volatility),
    "daily_volatility": (
        lambda r: analytics.volatility(r, annualize=False),
        lambda r: QS.volatility(r, annualize=False),
    ),
    "sharpe": (analytics.sharpe_ratio, QS.sharpe),
    "sharpe_rf": (
        lambda r: analytics.sharpe_ratio(r, rf=0.03),
        lambda r: QS.sharpe(r, rf=0.03),
    ),
    "sortino": (analytics.sortino_ratio, QS.sortino),
    "sortino_rf": (
        lambda r: analytics.sortino_ratio(r, rf=0.03),
        lambda r: QS.sortino(r, rf=0.03),
    ),
    "calmar": (analytics.calmar_ratio, QS.calmar),
    "max_drawdown": (analytics.max_drawdown, QS.max_drawdown),
    "win_rate": (analytics.win_rate, QS.win_rate),
    "profit_factor": (analytics.profit_factor, QS.profit_factor),
    "var": (analytics.value_at_risk, QS.var),
    "var_99": (
        lambda r: analytics.value_at_risk(r, confidence=0.99),
        lambda r: QS.var(r, confidence=0.99),
    ),
    "cvar": (analytics.conditional_value_at_risk, QS.cvar),
    "cvar_historical": (
        lambda r: analytics.conditional_value_at_risk(r, method="historical"),
        lambda r: QS.cvar(r, method="historical"),
    ),
    # quantstats' own report uses aggregate="ME" (calendar year-month) for best/worst month
    "best_month": (analytics.best_month, lambda r: QS.best(r, aggregate="ME")),
    "worst_month": (analytics.worst_month, lambda r: QS.worst(r, aggregate="ME")),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("metric", sorted(SCALAR_PAIRS))
def test_scalar_metric_matches_quantstats(
    real_series: dict[str, pd.Series], name: str, metric: str
) -> None:
    ours, theirs = SCALAR_PAIRS[metric]
    returns = real_series[name]
    assert ours(returns) == pytest.approx(float(theirs(returns)), rel=RELATIVE)


@pytest.mark.parametrize("name", NAMES)
def test_historical_var_is_the_empirical_quantile(
    real_series: dict[str, pd.Series], name: str
) -> None:
    # quantstats has no historical VaR; its historical CVaR uses this same threshold
    returns = real_series[name]
    expected = float(np.quantile(returns.to_numpy(), 0.05))
    assert analytics.value_at_risk(returns, method="historical") == pytest.approx(
        expected, rel=RELATIVE
    )


@pytest.mark.parametrize("symbol", ["AAPL", "JPM", "XOM", "GE"])
def test_alpha_beta_match_quantstats_greeks(
    stock_returns: pd.DataFrame, index_returns: pd.Series, symbol: str
) -> None:
    returns = stock_returns[symbol]
    expected = QS.greeks(returns, index_returns)
    result = analytics.alpha_beta(returns, index_returns)
    assert result.beta == pytest.approx(expected["beta"], rel=RELATIVE)
    assert result.alpha == pytest.approx(expected["alpha"], rel=RELATIVE)
    assert result.observations == len(returns)


def test_alpha_beta_of_spy_against_itself(spy_returns: pd.Series) -> None:
    result = analytics.alpha_beta(spy_returns, spy_returns)
    assert result.beta == pytest.approx(1.0, rel=1e-12)
    assert result.alpha == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_rolling_metrics_match_quantstats(real_series: dict[str, pd.Series], name: str) -> None:
    returns = real_series[name]
    pd.testing.assert_series_equal(
        analytics.rolling_volatility(returns),
        QS.rolling_volatility(returns),
        check_names=False,
        rtol=RELATIVE,
    )
    pd.testing.assert_series_equal(
        analytics.rolling_sharpe(returns, rf=0.02),
        QS.rolling_sharpe(returns, rf=0.02),
        check_names=False,
        rtol=RELATIVE,
    )


@pytest.mark.parametrize("name", NAMES)
def test_drawdown_series_and_longest_drawdown_match_quantstats(
    real_series: dict[str, pd.Series], name: str
) -> None:
    returns = real_series[name]
    expected_drawdown = QS.to_drawdown_series(returns)
    pd.testing.assert_series_equal(
        analytics.drawdown_series(returns), expected_drawdown, check_names=False, rtol=RELATIVE
    )
    details = QS.drawdown_details(expected_drawdown)
    ours = analytics.drawdown_periods(returns)
    assert len(ours) == len(details)
    assert ours["days"].tolist() == details["days"].tolist()
    assert ours["start"].dt.strftime("%Y-%m-%d").tolist() == details["start"].tolist()
    assert ours["end"].dt.strftime("%Y-%m-%d").tolist() == details["end"].tolist()
    assert ours["valley"].dt.strftime("%Y-%m-%d").tolist() == details["valley"].tolist()
    np.testing.assert_allclose(ours["max_drawdown"] * 100, details["max drawdown"], rtol=RELATIVE)
    assert analytics.max_drawdown_duration(returns) == int(details["days"].max())


@pytest.mark.parametrize("name", NAMES)
def test_monthly_table_matches_quantstats(real_series: dict[str, pd.Series], name: str) -> None:
    returns = real_series[name]
    expected = QS.monthly_returns(returns)
    ours = analytics.monthly_returns_table(returns)
    assert ours.index.tolist() == [int(year) for year in expected.index]
    # quantstats shows months without data as 0; ours leaves them NaN
    np.testing.assert_allclose(
        ours.iloc[:, :12].fillna(0.0).to_numpy(), expected.iloc[:, :12].to_numpy(), rtol=RELATIVE
    )
    np.testing.assert_allclose(ours["Year"], expected["EOY"], rtol=RELATIVE)


def test_summary_matches_quantstats_metric_by_metric(
    stock_returns: pd.DataFrame, index_returns: pd.Series
) -> None:
    returns = stock_returns["AAPL"]
    result = analytics.summary(returns, benchmark=index_returns, rf=0.02)
    greeks = QS.greeks(returns, index_returns)
    expected = {
        "total_return": QS.comp(returns),
        "cagr": QS.cagr(returns),
        "volatility": QS.volatility(returns),
        "sharpe_ratio": QS.sharpe(returns, rf=0.02),
        "sortino_ratio": QS.sortino(returns, rf=0.02),
        "calmar_ratio": QS.calmar(returns),
        "max_drawdown": QS.max_drawdown(returns),
        "win_rate": QS.win_rate(returns),
        "profit_factor": QS.profit_factor(returns),
        "value_at_risk": QS.var(returns),
        "conditional_value_at_risk": QS.cvar(returns),
        "best_month": QS.best(returns, aggregate="ME"),
        "worst_month": QS.worst(returns, aggregate="ME"),
        "alpha": greeks["alpha"],
        "beta": greeks["beta"],
    }
    values = result.to_dict()
    for key, value in expected.items():
        assert values[key] == pytest.approx(float(value), rel=RELATIVE), key
    days = QS.drawdown_details(QS.to_drawdown_series(returns))["days"].max()
    assert values["max_drawdown_duration_days"] == int(days)
    assert values["observations"] == len(returns)
    assert values["start"] == "1990-01-03"
    assert not math.isnan(float(values["sharpe_ratio"] or math.nan))
