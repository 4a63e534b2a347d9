from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from skfolio.optimization import HierarchicalRiskParity

from quantdesk.portfolio import (
    ConstructionConfig,
    PortfolioInputError,
    WeightingMethod,
    construct,
)

SECTORS = {
    "AAPL": "Tech", "AMD": "Tech", "MSFT": "Tech", "BAC": "Financials", "JPM": "Financials",
    "CVX": "Energy", "XOM": "Energy", "RRC": "Energy", "JNJ": "Health", "LLY": "Health",
    "MRK": "Health", "PFE": "Health", "UNH": "Health", "KO": "Staples", "PEP": "Staples",
    "PG": "Staples", "WMT": "Staples", "BBY": "Discretionary", "HD": "Discretionary",
    "GE": "Industrials",
}  # fmt: skip


@pytest.fixture(scope="module")
def momentum_scores(sp500_returns: pd.DataFrame) -> pd.Series:
    scores = (1 + sp500_returns.iloc[-252:-21]).prod() - 1
    scores["GE"] = np.nan  # not eligible on this date
    return scores


def test_config_accepts_cli_spellings_and_aliases() -> None:
    assert (
        ConstructionConfig(weighting="inverse-vol").weighting is WeightingMethod.INVERSE_VOLATILITY
    )
    assert ConstructionConfig(weighting="Inverse_Volatility").weighting == "inverse-vol"
    assert ConstructionConfig(weighting="mean-variance").weighting == "mvo"
    assert ConstructionConfig(selection="top_fraction", fraction=0.2).selection == "top-fraction"


def test_unknown_method_gets_a_did_you_mean_hint() -> None:
    with pytest.raises(ValidationError, match="did you mean 'hrp'"):
        ConstructionConfig(weighting="hrpp")
    with pytest.raises(ValidationError, match="did you mean 'inverse-vol'"):
        ConstructionConfig(weighting="inverse-vl")
    with pytest.raises(ValidationError, match="did you mean 'top-n'"):
        ConstructionConfig(selection="topn")


def test_unknown_setting_gets_a_did_you_mean_hint() -> None:
    with pytest.raises(ValidationError, match="did you mean 'max_weight'"):
        ConstructionConfig(max_weigth=0.1)  # type: ignore[call-arg]


def test_config_is_frozen_and_validated() -> None:
    config = ConstructionConfig()
    with pytest.raises(ValidationError):
        config.positions = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match="fraction"):
        ConstructionConfig(selection="top-fraction")
    with pytest.raises(ValidationError, match="max_weight"):
        ConstructionConfig(max_weight=1.5)
    with pytest.raises(ValidationError, match="'Tech'"):
        ConstructionConfig(sector_caps={"Tech": 2.0})


def test_config_round_trips_through_json() -> None:
    config = ConstructionConfig(weighting="hrp", positions=5, sector_caps={"Tech": 0.3})
    assert ConstructionConfig.model_validate_json(config.model_dump_json()) == config


def test_equal_top_n_end_to_end(momentum_scores: pd.Series) -> None:
    weights = construct(momentum_scores, None, ConstructionConfig(positions=4))
    expected = momentum_scores.dropna().sort_values(ascending=False).index[:4]
    assert sorted(weights[weights > 0].index) == sorted(expected)
    assert weights[expected].tolist() == pytest.approx([0.25] * 4)
    assert list(weights.index) == list(momentum_scores.index)


def test_hrp_construct_equals_skfolio_on_the_selected_names(
    sp500_returns: pd.DataFrame, momentum_scores: pd.Series
) -> None:
    config = ConstructionConfig(weighting="hrp", positions=6, lookback_days=252)
    weights = construct(momentum_scores, sp500_returns, config)
    chosen = list(momentum_scores.dropna().sort_values(ascending=False).index[:6])
    direct = HierarchicalRiskParity().fit(sp500_returns[chosen].iloc[-252:])
    assert weights[chosen].to_numpy() == pytest.approx(direct.weights_, abs=1e-9)


@pytest.mark.parametrize("method", ["equal", "rank", "inverse-vol", "mvo", "hrp"])
def test_every_method_respects_caps_buffer_and_sectors(
    method: str, sp500_returns: pd.DataFrame, momentum_scores: pd.Series
) -> None:
    config = ConstructionConfig(
        selection="top-fraction",
        fraction=0.5,
        weighting=method,
        max_weight=0.2,
        sector_caps={"Energy": 0.3},
        default_sector_cap=0.45,
        cash_buffer=0.03,
    )
    weights = construct(momentum_scores, sp500_returns, config, sectors=SECTORS)
    assert np.isfinite(weights).all()
    assert (weights >= 0).all()
    assert weights.max() <= 0.2 + 1e-9
    assert weights.sum() <= 0.97 + 1e-9
    by_sector = weights.groupby(pd.Series(SECTORS)).sum()
    assert by_sector["Energy"] <= 0.3 + 1e-9
    assert (by_sector <= 0.45 + 1e-9).all()
    assert int((weights > 0).sum()) <= 9  # floor(0.5 × 19 eligible)
    assert weights["GE"] == 0.0


def test_lookback_uses_only_the_last_rows(
    sp500_returns: pd.DataFrame, momentum_scores: pd.Series
) -> None:
    config = ConstructionConfig(weighting="inverse-vol", positions=5, lookback_days=60)
    weights = construct(momentum_scores, sp500_returns, config)
    changed_history = sp500_returns.copy()
    changed_history.iloc[:-60] = 0.5  # anything before the lookback must not matter
    assert construct(momentum_scores, changed_history, config).equals(weights)


def test_infeasible_cap_leaves_cash(momentum_scores: pd.Series) -> None:
    weights = construct(momentum_scores, None, ConstructionConfig(positions=3, max_weight=0.25))
    assert weights[weights > 0].tolist() == pytest.approx([0.25] * 3)
    assert weights.sum() == pytest.approx(0.75)


def test_returns_methods_need_a_window(momentum_scores: pd.Series) -> None:
    with pytest.raises(PortfolioInputError, match="'mvo' needs a returns window"):
        construct(momentum_scores, None, ConstructionConfig(weighting="mvo"))


def test_sector_caps_need_a_sector_mapping(momentum_scores: pd.Series) -> None:
    config = ConstructionConfig(sector_caps={"Tech": 0.2})
    with pytest.raises(PortfolioInputError, match="sector"):
        construct(momentum_scores, None, config)
