"""momentum-12-1 through the vectorised engine vs an independent plain-Python loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from quantdesk.backtest import CostModel, run_allocation
from quantdesk.data import Panel
from quantdesk.strategies import StrategyParameterError
from quantdesk.strategies.momentum_12_1 import Momentum121

SHARED = Path(__file__).resolve().parents[4] / "shared"  # beside the repository
DATA = SHARED / "data/us_equities_daily.parquet"
SYMBOLS_CSV = SHARED / "data/us_equities_symbols.csv"
FEE = 0.001  # 10 bp of traded notional


def reference_final_equity(close: pd.DataFrame, start_cash: float = 1_000_000.0) -> float:
    """The rule as written, one month end at a time, with dicts and floats."""
    dates = pd.DatetimeIndex(close.index)
    month = dates.to_period("M")
    marks = close.ffill()  # a symbol without a price keeps its last close
    cash = start_cash
    shares: dict[str, float] = {}
    for t in range(252, len(dates) - 1):
        if month[t] == month[t + 1]:
            continue
        now, recent, start = close.iloc[t], close.iloc[t - 21], close.iloc[t - 252]
        eligible = [
            s for s in close.columns if now[s] > 0 and recent[s] > 0 and start[s] > 0
        ]  # NaN > 0 is False
        if not eligible:
            continue
        k = max(1, len(eligible) // 10)
        ranked = sorted(eligible, key=lambda s: (-(recent[s] / start[s] - 1), s))
        price = marks.iloc[t]
        equity = cash + sum(q * price[s] for s, q in shares.items())
        wanted = {s: equity / k / price[s] for s in ranked[:k]}
        for s in list(shares):
            sell = shares[s] - wanted.get(s, 0.0)
            if sell > 0:
                cash += sell * price[s] * (1 - FEE)
                shares[s] -= sell
        # equal targets (V/k) differ by float noise; notionals within 1e-9 of V are ties
        buys = sorted(
            (round((wanted[s] - shares.get(s, 0.0)) * price[s] / (1e-9 * equity)), s)
            for s in wanted
            if wanted[s] > shares.get(s, 0.0)
        )
        for _, s in buys:
            notional = (wanted[s] - shares.get(s, 0.0)) * price[s]
            spend = min(notional, cash / (1 + FEE))
            cash -= spend * (1 + FEE)
            shares[s] = shares.get(s, 0.0) + spend / price[s]
    last = marks.iloc[-1]
    return float(cash + sum(q * last[s] for s, q in shares.items()))


def engine_final_equity(close: pd.DataFrame) -> float:
    panel = Panel.from_frames({"adj_close": close})
    costs = CostModel(commission_per_order=0.0, commission_bps=10.0)
    result = run_allocation(panel, Momentum121(), costs, initial_cash=1_000_000.0)
    assert (result.cash >= 0).all()
    return result.final_equity


def synthetic_closes() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2001-01-01", periods=900)
    symbols = [f"S{i:02d}" for i in range(35)]
    steps = rng.normal(0.0003, 0.02, size=(len(dates), len(symbols)))
    close = pd.DataFrame(50 * np.exp(np.cumsum(steps, axis=0)), index=dates, columns=symbols)
    close = close.mask(rng.random(close.shape) < 0.03)  # scattered missing bars
    close.iloc[:400, :5] = np.nan  # five names list late
    close.iloc[600:, 5:9] = np.nan  # four names delist (held ones are sold at their last close)
    close.iloc[300:330, 10] = np.nan  # a month-long halt
    return close


def test_matches_reference_on_synthetic_panel_with_gaps_and_listings() -> None:
    close = synthetic_closes()
    expected = reference_final_equity(close)
    assert engine_final_equity(close) == pytest.approx(expected, rel=1e-9)
    assert expected != pytest.approx(1_000_000.0)  # it traded


def real_closes(n_symbols: int = 60) -> pd.DataFrame:
    listing = pd.read_csv(SYMBOLS_CSV)
    symbols = sorted(listing["symbol"])[::8][:n_symbols]  # a spread of names, ETFs included
    table = pq.read_table(
        DATA, columns=["date", "symbol", "adj_close"], filters=[("symbol", "in", symbols)]
    )
    frame = table.to_pandas()
    wide: pd.DataFrame = frame.pivot(index="date", columns="symbol", values="adj_close")
    return wide.sort_index()


def test_matches_reference_on_real_adjusted_closes() -> None:
    close = real_closes()
    assert close.shape[1] == 60
    assert engine_final_equity(close) == pytest.approx(reference_final_equity(close), rel=1e-9)


def test_rebalances_on_month_ends_with_a_full_year_of_history_never_the_final_day() -> None:
    close = synthetic_closes()
    panel = Panel.from_frames({"close": close})
    result = run_allocation(panel, Momentum121(), CostModel.free())
    dates = pd.DatetimeIndex(close.index)
    month_end = dates.to_period("M")
    for date in result.rebalance_dates:
        row = int(dates.get_indexer(pd.DatetimeIndex([date]))[0])
        assert row >= 252
        assert month_end[row] != month_end[row + 1]
    assert close.index[-1] not in result.rebalance_dates
    assert result.price_field == "close"


def test_holds_top_decile_equal_weight_at_a_rebalance() -> None:
    close = synthetic_closes()
    panel = Panel.from_frames({"close": close})
    result = run_allocation(panel, Momentum121(), CostModel.free())
    date = result.rebalance_dates[3]
    held = result.weights.loc[date]
    held = held[held.to_numpy() > 0]
    row = int(pd.DatetimeIndex(close.index).get_indexer(pd.DatetimeIndex([date]))[0])
    eligible = close.iloc[[row, row - 21, row - 252]].notna().all()
    assert len(held) == max(1, int(eligible.sum()) // 10)
    assert held.to_numpy() == pytest.approx(np.full(len(held), 1 / len(held)))


def test_parameters_are_validated() -> None:
    with pytest.raises(StrategyParameterError, match="did you mean 'lookback'"):
        Momentum121(lookbak=200)
    with pytest.raises(StrategyParameterError, match="skip"):
        Momentum121(lookback=20, skip=21)
    assert Momentum121(top_fraction=0.2).params.top_fraction == 0.2


def test_changing_data_after_t_never_changes_decisions_up_to_t() -> None:
    close = synthetic_closes()
    strategy = Momentum121()
    panel = Panel.from_frames({"close": close})
    mask = strategy.rebalance_mask(panel.dates)
    cut = int(np.flatnonzero(mask)[-3])  # a rebalance row well inside the data
    perturbed = close.copy()
    rng = np.random.default_rng(1)
    perturbed.iloc[cut + 1 :] *= rng.uniform(0.5, 2.0, size=(len(close) - cut - 1, close.shape[1]))
    before = strategy.target_weights(panel, mask)
    after = strategy.target_weights(Panel.from_frames({"close": perturbed}), mask)
    np.testing.assert_array_equal(before[: cut + 1], after[: cut + 1])
    assert not np.array_equal(before[cut + 1 :], after[cut + 1 :], equal_nan=True)
