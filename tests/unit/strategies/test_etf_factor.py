"""etf-factor: factor picks by hand, optimiser weights vs pandas, no look-ahead, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import CostModel, run_allocation
from quantdesk.data import Panel
from quantdesk.portfolio import DegenerateInputError
from quantdesk.portfolio.weigh import mean_variance
from quantdesk.strategies import StrategyParameterError, StrategyRegistry, default_registry
from quantdesk.strategies.etf_factor import EtfFactor

ROWS = 300
SYMBOLS = ["AGG", "EEM", "GLD", "QQQ", "SPY", "TLT"]


def trending_closes(seed: int = 0) -> pd.DataFrame:
    """Drift ranks the 12-1 momentum (TLT > SPY > ... > AGG); noise amplitude ranks the risk
    (AGG calmest, TLT wildest), so momentum and low volatility pick opposite ends."""
    rng = np.random.default_rng(seed)
    drift = np.linspace(-0.001, 0.002, len(SYMBOLS))
    noise = np.linspace(0.002, 0.012, len(SYMBOLS))
    steps = drift + noise * rng.choice([-1.0, 1.0], size=(ROWS, len(SYMBOLS)))
    dates = pd.bdate_range("2020-01-01", periods=ROWS)
    return pd.DataFrame(100 * np.cumprod(1 + steps, axis=0), index=dates, columns=SYMBOLS)


def decide_at_last_month_end(
    strategy: EtfFactor, close: pd.DataFrame
) -> tuple[int, np.ndarray, Panel]:
    panel = Panel.from_frames({"adj_close": close})
    mask = strategy.rebalance_mask(panel.dates)
    row = int(np.flatnonzero(mask)[-1])
    only = np.zeros_like(mask)
    only[row] = True
    return row, strategy.target_weights(panel, only)[row], panel


def test_pure_momentum_holds_the_strongest_drifts_equally() -> None:
    close = trending_closes()
    row, weights, _ = decide_at_last_month_end(
        EtfFactor(weights={"momentum": 1.0}, positions=2), close
    )
    momentum = close.iloc[row - 21] / close.iloc[row - 252] - 1
    best = momentum.sort_values(ascending=False).index[:2]
    expected = pd.Series(0.0, index=SYMBOLS)
    expected[best] = 0.5
    assert weights.tolist() == expected.tolist()
    assert set(best) == {"SPY", "TLT"}


def test_pure_low_volatility_holds_the_calmest() -> None:
    _, weights, _ = decide_at_last_month_end(
        EtfFactor(weights={"volatility": 1.0}, positions=3), trending_closes()
    )
    assert weights == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0, 0, 0])


def test_rank_optimizer_weights_linear_in_rank() -> None:
    _, weights, _ = decide_at_last_month_end(
        EtfFactor(weights={"volatility": 1.0}, positions=3, optimizer="rank"), trending_closes()
    )
    assert weights == pytest.approx([3 / 6, 2 / 6, 1 / 6, 0, 0, 0])


def test_inverse_vol_matches_pandas_on_the_lookback_window_and_respects_the_cap() -> None:
    close = trending_closes()
    strategy = EtfFactor(weights={"momentum": 1.0}, positions=3, optimizer="inverse-volatility")
    row, weights, _ = decide_at_last_month_end(strategy, close)
    held = ["QQQ", "SPY", "TLT"]
    sigma = close[held].pct_change().iloc[row - 125 : row + 1].std(ddof=1)
    expected = (1 / sigma) / (1 / sigma).sum()
    assert weights[3:] == pytest.approx(expected.to_numpy(), rel=1e-12)
    assert weights[:3].tolist() == [0.0, 0.0, 0.0]

    capped = EtfFactor(
        weights={"momentum": 1.0}, positions=3, optimizer="inverse-vol", max_weight=0.35
    )
    _, capped_weights, _ = decide_at_last_month_end(capped, close)
    assert capped_weights.max() <= 0.35 + 1e-12
    assert capped_weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("optimizer", ["mvo", "hrp"])
def test_optimisers_give_long_only_fully_invested_weights_on_the_selection(optimizer: str) -> None:
    strategy = EtfFactor(
        weights={"momentum": 1.0}, positions=4, optimizer=optimizer, mvo_objective="min-variance"
    )
    _, weights, _ = decide_at_last_month_end(strategy, trending_closes())
    assert weights.sum() == pytest.approx(1.0)
    assert (weights >= 0).all()
    assert weights[:2].tolist() == [0.0, 0.0]  # AGG and EEM are the weakest momentum


def test_max_sharpe_falls_back_to_min_variance_when_every_fund_falls() -> None:
    """Regression: one month where no fund had a positive mean stopped the whole backtest."""
    rng = np.random.default_rng(4)
    steps = -0.002 + 0.001 * rng.choice([-1.0, 1.0], size=(ROWS, len(SYMBOLS)))
    close = pd.DataFrame(100 * np.cumprod(1 + steps, axis=0), index=trending_closes().index)
    close.columns = SYMBOLS  # every fund falls, so no max-Sharpe portfolio exists
    _, weights, panel = decide_at_last_month_end(EtfFactor(positions=2, optimizer="mvo"), close)
    held = np.flatnonzero(np.nan_to_num(weights) > 0)
    assert len(held) == 2
    assert weights[held].sum() == pytest.approx(1.0)
    chosen = [panel.symbols[j] for j in held]
    with pytest.raises(DegenerateInputError, match="max-sharpe is undefined"):
        mean_variance(close.pct_change().dropna()[chosen])


def test_no_decision_before_any_factor_exists_and_symbols_restrict() -> None:
    close = trending_closes()
    strategy = EtfFactor(symbols=("AGG", "GLD"), positions=5)
    panel = Panel.from_frames({"adj_close": close})
    mask = strategy.rebalance_mask(panel.dates)
    weights = strategy.target_weights(panel, mask)
    decided = np.flatnonzero(np.isfinite(weights).any(axis=1))
    # the 63-day volatility is the first factor available; month ends only
    assert decided.min() >= 63
    assert set(decided) <= set(np.flatnonzero(mask))
    held = np.nan_to_num(weights[decided])
    assert (held[:, [1, 3, 4, 5]] == 0).all()
    assert held[:, [0, 2]] == pytest.approx(np.full((len(decided), 2), 0.5))


def test_changing_prices_after_t_never_changes_decisions_up_to_t() -> None:
    close = trending_closes(seed=5)
    strategy = EtfFactor(positions=3, optimizer="inverse-vol")
    panel = Panel.from_frames({"adj_close": close})
    mask = strategy.rebalance_mask(panel.dates)
    cut = int(np.flatnonzero(mask)[-2])
    perturbed = close.copy()
    rng = np.random.default_rng(9)
    perturbed.iloc[cut + 1 :] *= rng.uniform(0.5, 2.0, size=(ROWS - cut - 1, len(SYMBOLS)))
    before = strategy.target_weights(panel, mask)
    after = strategy.target_weights(Panel.from_frames({"adj_close": perturbed}), mask)
    np.testing.assert_array_equal(before[: cut + 1], after[: cut + 1])
    assert not np.array_equal(before[cut + 1 :], after[cut + 1 :], equal_nan=True)


def test_backtest_runs_with_sane_equity() -> None:
    close = trending_closes(seed=2)
    result = run_allocation(
        Panel.from_frames({"adj_close": close}),
        EtfFactor(positions=3, optimizer="rank"),
        CostModel(commission_per_order=1.0, commission_bps=5.0),
    )
    assert result.strategy == "etf-factor"
    assert close.index[-1] not in result.rebalance_dates
    assert (result.cash >= 0).all()
    assert (result.weights.sum(axis=1) <= 1 + 1e-9).all()
    # equity stays within what the best and worst fund did over the run
    growth = close.iloc[-1] / close.iloc[0]
    assert growth.min() * 0.99 <= result.final_equity / 1_000_000 <= growth.max()
    assert result.params["optimizer"] == "rank"


def test_parameters_are_validated() -> None:
    with pytest.raises(StrategyParameterError, match="did you mean 'hrp'"):
        EtfFactor(optimizer="hrpp")
    with pytest.raises(StrategyParameterError, match="did you mean 'positions'"):
        EtfFactor(position=3)
    with pytest.raises(StrategyParameterError, match="unknown factor 'size'"):
        EtfFactor(weights={"size": 1.0})
    with pytest.raises(StrategyParameterError, match="positive"):
        EtfFactor(weights={"momentum": 0.0})
    with pytest.raises(StrategyParameterError, match="max_weight"):
        EtfFactor(max_weight=1.5)
    assert EtfFactor(optimizer="mean-variance").params.model_dump()["optimizer"] == "mvo"


def test_registered_under_its_name() -> None:
    lazy = StrategyRegistry({"etf-factor": "quantdesk.strategies.etf_factor:EtfFactor"})
    assert lazy.get("etf-factor") is EtfFactor
    assert "etf-factor" in default_registry()
    assert isinstance(default_registry().create("etf-factor"), EtfFactor)
