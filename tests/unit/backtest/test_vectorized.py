"""The vectorised engine on hand-worked two-asset cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.backtest import (
    CostModel,
    FillTiming,
    WeightsError,
    round_trip_trades,
    run_allocation,
)
from quantdesk.data import Panel
from quantdesk.reports.run_export import export_result, result_document

NAN = np.nan


def two_asset_panel(closes: list[list[float]], opens: list[list[float]] | None = None) -> Panel:
    dates = pd.bdate_range("2024-01-01", periods=len(closes))
    fields = {"close": pd.DataFrame(closes, index=dates, columns=["A", "B"])}
    if opens is not None:
        fields["open"] = pd.DataFrame(opens, index=dates, columns=["A", "B"])
    return Panel.from_frames(fields)


def weights(rows: list[list[float] | None]) -> np.ndarray:
    return np.array([[NAN, NAN] if r is None else r for r in rows], dtype=float)


def test_costs_and_trimming_of_the_last_buy() -> None:
    panel = two_asset_panel([[10.0, 20.0], [10.0, 20.0]])
    costs = CostModel(commission_per_order=1.0, commission_bps=10)
    result = run_allocation(panel, weights([[0.5, 0.5], None]), costs, initial_cash=1000.0)
    # equal notionals: A (first symbol) buys 50 shares for 500 + 1 + 0.5 = 501.5, leaving 498.5;
    # B's 25 shares would cost 501.5, so B is trimmed to (498.5 − 1) / (20 × 1.001) shares
    b_shares = 497.5 / 20.02
    assert result.positions.iloc[0].tolist() == pytest.approx([50.0, b_shares])
    assert result.cash.iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert result.equity.iloc[0] == pytest.approx(500.0 + 20.0 * b_shares)
    assert result.total_costs == pytest.approx(1000.0 - result.equity.iloc[0])
    orders = result.orders.set_index("symbol")
    assert orders.loc["B", "quantity"] == pytest.approx(25.0)  # ordered in full
    assert result.fills.set_index("symbol").loc["B", "quantity"] == pytest.approx(b_shares)


def test_sells_fill_before_buys_and_slippage_is_adverse() -> None:
    panel = two_asset_panel([[10.0, 20.0], [10.0, 20.0]])
    costs = CostModel(commission_per_order=0.0, slippage_bps=100)  # 1 %
    result = run_allocation(panel, weights([[1.0, 0.0], [0.0, 1.0]]), costs, initial_cash=1000.0)
    # day 0 buys 100 A at 10.10 → affordable 1000 / 10.10 shares; day 1 sells all at 9.90,
    # then buys B with every cent at 20.20
    a_shares = 1000.0 / 10.10
    cash_after_sell = a_shares * 9.90
    assert result.positions.iloc[0, 0] == pytest.approx(a_shares)
    assert result.positions.iloc[1].tolist() == pytest.approx([0.0, cash_after_sell / 20.20])
    fills = result.fills[result.fills["date"] == result.dates[1]]
    assert fills["side"].tolist() == ["sell", "buy"]
    assert fills["price"].tolist() == pytest.approx([9.90, 20.20])


def test_whole_shares_floor_quantities() -> None:
    panel = two_asset_panel([[30.0, 70.0]])
    result = run_allocation(
        panel, weights([[0.5, 0.5]]), CostModel.free(), initial_cash=1000.0, fractional=False
    )
    assert result.positions.iloc[0].tolist() == [16.0, 7.0]  # floor(500/30), floor(500/70)
    assert result.cash.iloc[0] == pytest.approx(1000.0 - 480.0 - 490.0)


def test_whole_shares_trim_to_affordable_whole_shares() -> None:
    panel = two_asset_panel([[10.0, 20.0]])
    costs = CostModel(commission_per_order=5.0)
    result = run_allocation(
        panel, weights([[0.5, 0.5]]), costs, initial_cash=1000.0, fractional=False
    )
    # A: 50 shares, 505 paid, 495 left; B: 25 wanted, (495 − 5) / 20 = 24.5 → 24 shares
    assert result.positions.iloc[0].tolist() == [50.0, 24.0]
    assert result.cash.iloc[0] == pytest.approx(495.0 - 480.0 - 5.0)


def test_next_open_fills_size_at_the_close_and_fill_at_the_next_open() -> None:
    panel = two_asset_panel(
        closes=[[10.0, 20.0], [12.0, 20.0], [12.0, 20.0]],
        opens=[[10.0, 20.0], [11.0, 21.0], [12.0, 20.0]],
    )
    costs = CostModel(commission_per_order=0.0, fill_timing=FillTiming.NEXT_OPEN)
    result = run_allocation(panel, weights([[0.4, 0.4], None, None]), costs, initial_cash=1000.0)
    assert result.positions.iloc[0].tolist() == [0.0, 0.0]  # nothing fills at the decision close
    # 40 A and 20 B decided at the close; filled at 11 and 21 on day 1
    assert result.positions.iloc[1].tolist() == pytest.approx([40.0, 20.0])
    assert result.cash.iloc[1] == pytest.approx(1000.0 - 440.0 - 420.0)
    assert result.fills["date"].unique().tolist() == [result.dates[1]]
    assert result.orders["date"].unique().tolist() == [result.dates[0]]
    assert result.equity.iloc[1] == pytest.approx(140.0 + 40 * 12.0 + 20 * 20.0)


def test_next_open_orders_on_the_final_bar_never_fill() -> None:
    panel = two_asset_panel([[10.0, 20.0]], opens=[[10.0, 20.0]])
    costs = CostModel(fill_timing=FillTiming.NEXT_OPEN)
    result = run_allocation(panel, weights([[0.5, 0.5]]), costs, initial_cash=1000.0)
    assert result.fills.empty
    assert result.final_equity == 1000.0


def test_drift_threshold_rebalances_back_to_target() -> None:
    closes = [[10.0, 10.0], [10.0, 10.0], [20.0, 10.0], [20.0, 10.0]]
    panel = two_asset_panel(closes)
    target = weights([[0.5, 0.5], None, None, None])
    plain = run_allocation(panel, target, CostModel.free(), initial_cash=1000.0)
    drift = run_allocation(
        panel, target, CostModel.free(), initial_cash=1000.0, drift_threshold=0.10
    )
    assert plain.n_rebalances == 1
    assert plain.weights.iloc[2].tolist() == pytest.approx([2 / 3, 1 / 3])
    # day 2: A doubles, weight 2/3 drifts 16.7 points > 10 → back to 50/50 at V = 1500
    assert drift.rebalance_dates.tolist() == [drift.dates[0], drift.dates[2]]
    assert drift.positions.iloc[2].tolist() == pytest.approx([37.5, 75.0])
    assert drift.weights.iloc[3].tolist() == pytest.approx([0.5, 0.5])


def test_min_trade_weight_skips_small_adjustments_but_not_exits() -> None:
    panel = two_asset_panel([[10.0, 10.0], [10.2, 10.0], [10.2, 10.0]])
    costs = CostModel(commission_per_order=0.0, min_trade_weight=0.02)
    target = weights([[0.5, 0.5], [0.5, 0.5], [0.0, 0.5]])
    result = run_allocation(panel, target, costs, initial_cash=1000.0)
    # day 1: A's drift to 50.5 % needs a 0.5 %-of-equity trim, below 2 % → skipped
    assert result.positions.iloc[1].tolist() == pytest.approx([50.0, 50.0])
    # day 2: the exit of A is executed although B's adjustment is skipped
    assert result.positions.iloc[2, 0] == 0.0
    assert result.positions.iloc[2, 1] == pytest.approx(50.0)


def test_missing_price_keeps_the_last_close_for_marking() -> None:
    panel = two_asset_panel([[10.0, 20.0], [NAN, 20.0], [11.0, 20.0]])
    result = run_allocation(
        panel, weights([[1.0, 0.0], None, None]), CostModel.free(), initial_cash=1000.0
    )
    assert result.equity.tolist() == pytest.approx([1000.0, 1000.0, 1100.0])


def test_adjusted_close_is_used_when_present() -> None:
    dates = pd.bdate_range("2024-01-01", periods=2)
    close = pd.DataFrame([[10.0], [5.0]], index=dates, columns=["A"])  # a 2:1 split
    adjusted = pd.DataFrame([[5.0], [5.0]], index=dates, columns=["A"])
    panel = Panel.from_frames({"close": close, "adj_close": adjusted})
    result = run_allocation(panel, np.array([[1.0], [NAN]]), CostModel.free(), initial_cash=1000.0)
    assert result.price_field == "adj_close"
    assert result.final_equity == pytest.approx(1000.0)


def test_bad_weights_are_rejected_naming_date_and_symbol() -> None:
    panel = two_asset_panel([[10.0, NAN], [10.0, 20.0]])
    with pytest.raises(WeightsError, match=r"B on 2024-01-01 has a target weight but no price"):
        run_allocation(panel, weights([[0.5, 0.5], None]))
    with pytest.raises(WeightsError, match=r"2024-01-02 sum to 1.2"):
        run_allocation(panel, weights([None, [0.6, 0.6]]))
    with pytest.raises(WeightsError, match=r"A on 2024-01-02 has a negative weight"):
        run_allocation(panel, weights([None, [-0.5, 0.5]]))
    with pytest.raises(WeightsError, match="shape"):
        run_allocation(panel, np.zeros((3, 2)))


def test_leverage_allows_negative_cash() -> None:
    panel = two_asset_panel([[10.0, 10.0], [11.0, 10.0]])
    result = run_allocation(
        panel,
        weights([[1.0, 1.0], None]),
        CostModel.free(),
        initial_cash=1000.0,
        allow_leverage=True,
    )
    assert result.cash.iloc[0] == pytest.approx(-1000.0)
    assert result.final_equity == pytest.approx(1100.0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    per_order=st.floats(0, 20),
    bps=st.floats(0, 50),
    slippage=st.floats(0, 50),
    fractional=st.booleans(),
)
def test_cash_never_goes_negative(
    seed: int, per_order: float, bps: float, slippage: float, fractional: bool
) -> None:
    rng = np.random.default_rng(seed)
    closes = 20 * np.exp(np.cumsum(rng.normal(0, 0.05, size=(30, 3)), axis=0))
    closes[rng.random(closes.shape) < 0.1] = NAN
    closes[0] = 20.0
    dates = pd.bdate_range("2024-01-01", periods=30)
    panel = Panel.from_frames({"close": pd.DataFrame(closes, index=dates, columns=list("XYZ"))})
    raw = rng.random((30, 3))
    target = raw / raw.sum(axis=1, keepdims=True) * rng.uniform(0.5, 1.0, size=(30, 1))
    target[rng.random(30) < 0.5] = NAN
    costs = CostModel(commission_per_order=per_order, commission_bps=bps, slippage_bps=slippage)
    result = run_allocation(panel, target, costs, initial_cash=5_000.0, fractional=fractional)
    assert (result.cash >= 0).all()
    assert (result.positions >= -1e-12).all().all()
    value = (result.positions * panel.frame("close").ffill().fillna(0)).sum(axis=1)
    assert np.allclose(result.equity, result.cash + value, rtol=1e-12)


def test_round_trips_and_exports(tmp_path: object) -> None:
    panel = two_asset_panel([[10.0, 20.0], [12.0, 20.0], [12.0, 20.0]])
    costs = CostModel(commission_per_order=1.0)
    result = run_allocation(
        panel, weights([[0.5, 0.0], [0.0, 0.0], None]), costs, initial_cash=1000.0
    )
    trades = result.trades
    assert len(trades) == 1
    trade = trades.iloc[0]
    # 50 shares bought at 10 (501 with the fee), sold at 12 the next day, $1 fee each way
    assert trade["quantity"] == pytest.approx(50.0)
    assert trade["pnl"] == pytest.approx(50 * 2.0 - 2.0)
    assert trade["return"] == pytest.approx(98.0 / 500.0)
    assert not trade["is_open"]
    files = export_result(result, tmp_path / "csv")
    assert {p.name for p in files} >= {"series.csv", "fills.csv", "trades.csv", "meta.json"}
    export_result(result, tmp_path / "pq", ["parquet"])
    series = pd.read_parquet(tmp_path / "pq" / "series.parquet")  # type: ignore[operator]
    assert series["equity"].tolist() == pytest.approx(result.equity.tolist())
    document = json.loads(json.dumps(result_document(result)))
    assert document["engine"] == "vector"
    assert document["final_equity"] == pytest.approx(1098.0)


def test_round_trip_trades_average_entries_and_exits_and_report_open_ones() -> None:
    day = pd.Timestamp("2024-01-02")
    fills = pd.DataFrame(
        {
            "date": [day, day + pd.Timedelta(days=1), day + pd.Timedelta(days=2)] * 2,
            "symbol": ["A", "A", "A", "B", "B", "B"],
            "side": ["buy", "buy", "sell", "buy", "sell", "sell"],
            "quantity": [10.0, 10.0, 20.0, 4.0, 4.0, 3.0],
            "price": [10.0, 12.0, 12.0, 50.0, 55.0, 60.0],
            "commission": [1.0, 1.0, 1.0, 0.0, 0.0, 0.0],
        }
    ).sort_values("date", kind="stable")
    trades = round_trip_trades(fills, {"A": 12.0, "B": 58.0}).set_index("symbol")
    a = trades.loc["A"]
    # entry 20 at (100 + 120) / 20 = 11, exit at 12: pnl = 240 − 220 − 3 fees
    assert (a["quantity"], a["entry_price"], a["exit_price"]) == pytest.approx((20, 11, 12))
    assert a["pnl"] == pytest.approx(17.0)
    assert a["exit_date"] == day + pd.Timedelta(days=2)
    # B: long 4 closed at 55 (pnl 20), then the extra 3 sold open a short still open at 58
    b = trades[trades.index == "B"].sort_values("entry_date")
    assert b["quantity"].tolist() == pytest.approx([4.0, -3.0])
    assert b["pnl"].tolist() == pytest.approx([20.0, 3 * (60.0 - 58.0)])
    assert b["is_open"].tolist() == [False, True]
    assert pd.isna(b["exit_date"].iloc[1])
