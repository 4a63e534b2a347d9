"""sector-rotation: hand-worked picks, a plain-pandas cross-check on real ETFs, no look-ahead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import CostModel, run_allocation
from quantdesk.data import Panel
from quantdesk.strategies import StrategyParameterError, StrategyRegistry, default_registry
from quantdesk.strategies.momentum_composite import StrategyDataError
from quantdesk.strategies.sector_rotation import SectorRotation

SHARED = Path(__file__).resolve().parents[4] / "shared"  # beside the repository
SECTOR_ETFS = SHARED / "data/ap03_sector_etfs_vix/sector_etfs_daily.csv.gz"
SMALL: dict[str, Any] = {"lookback": 10, "skip": 2, "top_n": 2}


def segment_prices(rates: dict[str, tuple[float, float]], rows: int = 65) -> pd.DataFrame:
    """Prices growing at a daily rate per symbol: the first rate up to row 21, then the second.

    Jan–Mar 2024 has 65 business days; month ends are rows 22 (Jan 31), 43 (Feb 29) and 64
    (Mar 29, the final row, which is never a rebalance).
    """
    dates = pd.bdate_range("2024-01-01", periods=rows)
    columns = {}
    for symbol, (first, second) in rates.items():
        steps = np.where(np.arange(rows) <= 21, 1.0 + first, 1.0 + second)
        steps[0] = 1.0
        columns[symbol] = 100.0 * np.cumprod(steps)
    return pd.DataFrame(columns, index=dates)


# daily growth before / after row 21 (momentum at row 22 reads rows 12 → 20, at row 43 33 → 41)
RATES = {
    "AAA": (0.010, -0.010),
    "BBB": (0.020, 0.001),
    "CCC": (-0.010, 0.030),
    "DDD": (0.005, 0.020),
}


def test_holds_the_two_strongest_at_each_month_end_never_the_final_day() -> None:
    close = segment_prices(RATES)
    panel = Panel.from_frames({"close": close})
    strategy = SectorRotation(**SMALL)
    mask = strategy.rebalance_mask(panel.dates)
    assert np.flatnonzero(mask).tolist() == [22, 43]
    weights = strategy.target_weights(panel, mask)
    # Jan 31: BBB (+2 %/day) and AAA (+1 %/day) lead; Feb 29: CCC (+3 %) and DDD (+2 %)
    assert weights[22].tolist() == [0.5, 0.5, 0.0, 0.0]
    assert weights[43].tolist() == [0.0, 0.0, 0.5, 0.5]
    assert np.isnan(np.delete(weights, [22, 43], axis=0)).all()


def test_a_symbol_without_a_price_at_t_or_without_history_is_not_eligible() -> None:
    close = segment_prices({**RATES, "EEE": (0.050, 0.050)})
    close.loc[close.index[22], "EEE"] = np.nan  # no bar on Jan 31: cannot trade that close
    close.loc[close.index[:40], "DDD"] = np.nan  # DDD lists late
    weights = SectorRotation(**SMALL).target_weights(
        Panel.from_frames({"close": close}), np.isin(np.arange(65), [22, 43])
    )
    assert weights[22].tolist() == [0.5, 0.5, 0.0, 0.0, 0.0]
    assert weights[43].tolist() == [0.0, 0.0, 0.5, 0.0, 0.5]  # EEE back, DDD has no t-10


def test_fewer_eligible_than_top_n_leaves_the_empty_slots_in_cash() -> None:
    close = segment_prices(RATES)
    close.iloc[:15, 1:] = np.nan  # at row 22 only AAA has a price 10 rows back
    weights = SectorRotation(lookback=10, skip=2, top_n=3).target_weights(
        Panel.from_frames({"close": close}), np.isin(np.arange(65), [22])
    )
    assert weights[22] == pytest.approx([1 / 3, 0.0, 0.0, 0.0])


def test_ties_go_to_the_earlier_column_and_symbols_restrict_the_universe() -> None:
    close = segment_prices({"AAA": (0.01, 0.01), "BBB": (0.01, 0.01), "CCC": (0.0, 0.0)})
    panel = Panel.from_frames({"close": close})
    mask = np.isin(np.arange(65), [22])
    tied = SectorRotation(lookback=10, skip=2, top_n=1).target_weights(panel, mask)
    assert tied[22].tolist() == [1.0, 0.0, 0.0]
    only = SectorRotation(lookback=10, skip=2, top_n=1, symbols=("BBB", "CCC"))
    assert only.target_weights(panel, mask)[22].tolist() == [0.0, 1.0, 0.0]


def test_backtest_equity_follows_the_held_pairs() -> None:
    close = segment_prices(RATES)
    result = run_allocation(
        Panel.from_frames({"close": close}), SectorRotation(**SMALL), CostModel.free()
    )
    # independent: half the equity in each held name from one decision close to the next
    first = 0.5 * close["AAA"].iloc[43] / close["AAA"].iloc[22]
    first += 0.5 * close["BBB"].iloc[43] / close["BBB"].iloc[22]
    second = 0.5 * close["CCC"].iloc[64] / close["CCC"].iloc[43]
    second += 0.5 * close["DDD"].iloc[64] / close["DDD"].iloc[43]
    assert result.final_equity == pytest.approx(1_000_000.0 * first * second, rel=1e-12)
    assert list(result.rebalance_dates) == [close.index[22], close.index[43]]
    assert (result.cash >= -1e-6).all()


def sector_closes() -> pd.DataFrame:
    frame = pd.read_csv(SECTOR_ETFS, usecols=["date", "symbol", "adj_close"], parse_dates=["date"])
    wide: pd.DataFrame = frame.pivot(index="date", columns="symbol", values="adj_close")
    return wide.sort_index()


def test_matches_a_plain_pandas_12_1_ranking_on_the_sector_etfs() -> None:
    close = sector_closes()
    panel = Panel.from_frames({"adj_close": close})
    strategy = SectorRotation()
    weights = pd.DataFrame(
        strategy.target_weights(panel, strategy.rebalance_mask(panel.dates)),
        index=close.index,
        columns=close.columns,
    )
    month = pd.DatetimeIndex(close.index).to_period("M")
    month_ends = close.index[:-1][month[:-1] != month[1:]]
    momentum = close.shift(21) / close.shift(252) - 1
    decided = 0
    for date in month_ends:
        scores = momentum.loc[date][close.loc[date].notna()].dropna()
        if scores.empty:
            assert weights.loc[date].isna().all()
            continue
        top = sorted(scores.index, key=lambda s: (-scores[s], s))[:3]
        expected = pd.Series(0.0, index=close.columns)
        expected[top] = 1 / 3
        pd.testing.assert_series_equal(weights.loc[date], expected, check_names=False)
        decided += 1
    assert decided > 150  # 2007-2021 month ends
    assert weights.drop(index=month_ends).isna().all().all()


def test_changing_prices_after_t_never_changes_decisions_up_to_t() -> None:
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2015-01-01", periods=700)
    close = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, size=(700, 9)), axis=0)),
        index=dates,
        columns=[f"XL{c}" for c in "BEFIKPUVY"],
    )
    strategy = SectorRotation()
    panel = Panel.from_frames({"adj_close": close})
    mask = strategy.rebalance_mask(panel.dates)
    cut = int(np.flatnonzero(mask)[-4])
    perturbed = close.copy()
    perturbed.iloc[cut + 1 :] *= rng.uniform(0.5, 2.0, size=(700 - cut - 1, 9))
    before = strategy.target_weights(panel, mask)
    after = strategy.target_weights(Panel.from_frames({"adj_close": perturbed}), mask)
    np.testing.assert_array_equal(before[: cut + 1], after[: cut + 1])
    assert not np.array_equal(before[cut + 1 :], after[cut + 1 :], equal_nan=True)


def test_parameters_are_validated() -> None:
    with pytest.raises(StrategyParameterError, match="did you mean 'top_n'"):
        SectorRotation(top=3)
    with pytest.raises(StrategyParameterError, match="skip"):
        SectorRotation(lookback=20, skip=21)
    with pytest.raises(StrategyParameterError, match="top_n"):
        SectorRotation(top_n=0)
    with pytest.raises(StrategyParameterError, match="frequency"):
        SectorRotation(frequency="daily")
    assert SectorRotation(frequency="quarterly").params.model_dump()["top_n"] == 3
    panel = Panel.from_frames({"close": segment_prices(RATES)})
    with pytest.raises(StrategyDataError, match="XLK"):
        SectorRotation(symbols=("AAA", "XLK")).target_weights(panel, np.ones(65, dtype=bool))


def test_registered_under_its_name() -> None:
    lazy = StrategyRegistry(
        {"sector-rotation": "quantdesk.strategies.sector_rotation:SectorRotation"}
    )
    assert lazy.get("sector-rotation") is SectorRotation
    assert "sector-rotation" in default_registry()
    assert isinstance(default_registry().create("sector-rotation"), SectorRotation)
