from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skfolio import RiskMeasure
from skfolio.optimization import HierarchicalRiskParity, MeanRisk, ObjectiveFunction

from quantdesk.portfolio import (
    DegenerateInputError,
    MeanVarianceObjective,
    PortfolioInputError,
    equal_weight,
    hierarchical_risk_parity,
    inverse_volatility,
    mean_variance,
    rank_weight,
)

# An interior solution (every name held) on 2021-2022 data, so closed forms apply.
TRIO = ["CVX", "JNJ", "KO"]


def mask_of(index: list[str], chosen: list[str]) -> pd.Series:
    return pd.Series([symbol in chosen for symbol in index], index=index, dtype=bool)


def test_equal_weight_splits_evenly_among_selected() -> None:
    weights = equal_weight(mask_of(["A", "B", "C", "D"], ["A", "C", "D"]))
    assert weights.to_dict() == pytest.approx({"A": 1 / 3, "B": 0.0, "C": 1 / 3, "D": 1 / 3})


def test_empty_selection_is_all_cash() -> None:
    assert equal_weight(mask_of(["A", "B"], [])).sum() == 0.0
    assert rank_weight(pd.Series({"A": 1.0}), mask_of(["A"], [])).sum() == 0.0


def test_rank_weight_is_linear_in_rank_best_gets_most() -> None:
    scores = pd.Series({"A": 0.9, "B": 0.1, "C": 0.5, "D": np.nan})
    weights = rank_weight(scores)
    # ranks 3, 1, 2 out of 1 + 2 + 3 = 6
    assert weights.to_dict() == pytest.approx({"A": 0.5, "B": 1 / 6, "C": 1 / 3, "D": 0.0})


def test_rank_weight_gives_tied_scores_equal_weight() -> None:
    weights = rank_weight(pd.Series({"A": 1.0, "B": 1.0, "C": 2.0}))
    # average rank 1.5 each, C rank 3; total 6
    assert weights.to_dict() == pytest.approx({"A": 0.25, "B": 0.25, "C": 0.5})


def test_rank_weight_rejects_selected_symbol_without_score() -> None:
    scores = pd.Series({"A": 1.0, "B": np.nan})
    with pytest.raises(PortfolioInputError, match="'B'"):
        rank_weight(scores, mask_of(["A", "B"], ["A", "B"]))


def test_inverse_volatility_matches_plain_pandas(sp500_returns: pd.DataFrame) -> None:
    chosen = ["AAPL", "KO", "XOM", "JPM"]
    weights = inverse_volatility(sp500_returns, mask_of(list(sp500_returns.columns), chosen))
    inverse = 1 / sp500_returns[chosen].std()
    expected = inverse / inverse.sum()
    assert weights[chosen].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    assert weights.drop(chosen).eq(0).all()
    assert weights["KO"] > weights["XOM"]  # the calmer stock gets more


def test_inverse_volatility_uses_each_names_own_observations() -> None:
    returns = pd.DataFrame({"A": [0.01, -0.01, 0.01, -0.01], "B": [np.nan, np.nan, 0.02, -0.02]})
    weights = inverse_volatility(returns)
    volatility = np.array([returns["A"].std(), returns["B"].dropna().std()])
    assert weights.to_numpy() == pytest.approx((1 / volatility) / (1 / volatility).sum())


def test_max_sharpe_matches_skfolio_called_directly(sp500_returns: pd.DataFrame) -> None:
    chosen = ["AAPL", "CVX", "JNJ", "KO", "LLY", "MSFT", "PG", "XOM"]
    weights = mean_variance(sp500_returns, mask_of(list(sp500_returns.columns), chosen))
    direct = MeanRisk(
        objective_function=ObjectiveFunction.MAXIMIZE_RATIO, risk_measure=RiskMeasure.VARIANCE
    ).fit(sp500_returns[chosen])
    assert weights[chosen].to_numpy() == pytest.approx(direct.weights_, abs=1e-5)
    assert weights.sum() == pytest.approx(1.0)
    assert (weights >= 0).all()


def test_min_variance_matches_skfolio_and_closed_form(sp500_returns: pd.DataFrame) -> None:
    weights = mean_variance(sp500_returns[TRIO], objective="min-variance")
    direct = MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK).fit(sp500_returns[TRIO])
    assert weights.to_numpy() == pytest.approx(direct.weights_, abs=1e-5)
    inverse_covariance_ones = np.linalg.solve(sp500_returns[TRIO].cov(), np.ones(3))
    closed_form = inverse_covariance_ones / inverse_covariance_ones.sum()
    assert weights.to_numpy() == pytest.approx(closed_form, abs=1e-4)


def test_max_sharpe_matches_tangency_closed_form(sp500_returns: pd.DataFrame) -> None:
    window = sp500_returns[TRIO]
    weights = mean_variance(window, objective=MeanVarianceObjective.MAX_SHARPE)
    tangency = np.linalg.solve(window.cov(), window.mean())
    # the conic solver's ratio reformulation is accurate to a few 1e-4 here
    assert weights.to_numpy() == pytest.approx(tangency / tangency.sum(), abs=1e-3)


def test_max_utility_matches_skfolio(sp500_returns: pd.DataFrame) -> None:
    window = sp500_returns[TRIO]
    weights = mean_variance(window, objective="max-utility", risk_aversion=50.0)
    direct = MeanRisk(
        objective_function=ObjectiveFunction.MAXIMIZE_UTILITY, risk_aversion=50.0
    ).fit(window)
    assert weights.to_numpy() == pytest.approx(direct.weights_, abs=1e-5)


def test_mean_variance_respects_a_feasible_max_weight(sp500_returns: pd.DataFrame) -> None:
    weights = mean_variance(sp500_returns, max_weight=0.15)
    assert weights.max() <= 0.15 + 1e-6
    assert weights.sum() == pytest.approx(1.0)


def test_max_sharpe_without_any_positive_mean_is_a_clear_error() -> None:
    rng = np.random.default_rng(7)
    returns = pd.DataFrame(rng.normal(-0.01, 0.01, size=(60, 3)), columns=["A", "B", "C"])
    with pytest.raises(DegenerateInputError, match="min-variance"):
        mean_variance(returns)


def test_hrp_matches_skfolio_called_directly(sp500_returns: pd.DataFrame) -> None:
    weights = hierarchical_risk_parity(sp500_returns)
    direct = HierarchicalRiskParity().fit(sp500_returns)
    assert weights.to_numpy() == pytest.approx(direct.weights_, abs=1e-9)
    assert weights.sum() == pytest.approx(1.0)


def test_hrp_of_two_assets_is_inverse_variance(sp500_returns: pd.DataFrame) -> None:
    pair = ["KO", "AMD"]
    weights = hierarchical_risk_parity(sp500_returns, mask_of(list(sp500_returns.columns), pair))
    inverse_variance = 1 / sp500_returns[pair].var()
    expected = inverse_variance / inverse_variance.sum()
    assert weights[pair].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)


@pytest.mark.parametrize(
    "weigh", [inverse_volatility, mean_variance, hierarchical_risk_parity], ids=lambda f: f.__name__
)
def test_one_selected_asset_gets_everything_without_any_data(weigh: object) -> None:
    returns = pd.DataFrame({"A": [np.nan, np.nan], "B": [0.01, 0.02]})
    weights = weigh(returns, mask_of(["A", "B"], ["A"]))  # type: ignore[operator]
    assert weights.to_dict() == {"A": 1.0, "B": 0.0}


@pytest.mark.parametrize(
    "weigh", [inverse_volatility, mean_variance, hierarchical_risk_parity], ids=lambda f: f.__name__
)
def test_constant_prices_are_rejected_naming_the_symbol(weigh: object) -> None:
    returns = pd.DataFrame({"FLAT": [0.0] * 5, "MOVE": [0.01, -0.02, 0.03, -0.01, 0.02]})
    with pytest.raises(DegenerateInputError, match=r"FLAT.*zero variance"):
        weigh(returns)  # type: ignore[operator]


@pytest.mark.parametrize(
    "weigh", [inverse_volatility, mean_variance, hierarchical_risk_parity], ids=lambda f: f.__name__
)
def test_all_nan_column_is_rejected_naming_the_symbol(weigh: object) -> None:
    returns = pd.DataFrame({"GONE": [np.nan] * 4, "MOVE": [0.01, -0.02, 0.03, -0.01]})
    with pytest.raises(DegenerateInputError, match="GONE"):
        weigh(returns)  # type: ignore[operator]


def test_optimisers_drop_incomplete_rows_and_need_two() -> None:
    returns = pd.DataFrame({"A": [0.01, np.nan, 0.02], "B": [np.nan, 0.01, 0.03]})
    with pytest.raises(DegenerateInputError, match="1 complete row"):
        hierarchical_risk_parity(returns)


def test_selected_symbol_missing_from_window_is_named() -> None:
    returns = pd.DataFrame({"A": [0.01, 0.02]})
    with pytest.raises(PortfolioInputError, match="'B'"):
        inverse_volatility(returns, mask_of(["A", "B"], ["A", "B"]))


def test_infinite_returns_are_rejected() -> None:
    returns = pd.DataFrame({"A": [0.01, np.inf, 0.0], "B": [0.01, 0.02, 0.0]})
    with pytest.raises(DegenerateInputError, match=r"\['A'\].*infinite"):
        mean_variance(returns)


def test_unknown_objective_is_rejected() -> None:
    with pytest.raises(ValueError, match="max-return"):
        mean_variance(pd.DataFrame({"A": [0.01, 0.02], "B": [0.0, 0.01]}), objective="max-return")
