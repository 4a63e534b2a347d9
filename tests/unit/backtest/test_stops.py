"""Stop-loss / take-profit exits: the rule, hand-worked runs in both engines, VIX regimes."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.event import EventEngine, run_events
from quantdesk.backtest.result import BacktestResult
from quantdesk.backtest.stops import MissingVix, StopLossRule, StopRuleError, forward_filled_vix
from quantdesk.backtest.vectorized import run_allocation
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy
from quantdesk.strategies.ma_crossover import MovingAverageCrossover

CASH = 10_000.0
FLAT_FEE = CostModel(commission_per_order=1.0)
INF = math.inf


class FixedWeights(AllocationStrategy):
    """Given target weights on given rows (a test double for any allocation strategy)."""

    name: ClassVar[str] = "fixed-weights"

    def __init__(self, weights: dict[int, list[float]]) -> None:
        super().__init__()
        self.weights = weights

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(dates), dtype=bool)
        mask[list(self.weights)] = True
        return mask

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        out = np.full(panel.shape, np.nan)
        for row, weights in self.weights.items():
            out[row] = weights
        return out


Series = Sequence[float]


def prices(closes: Mapping[str, Series], opens: Mapping[str, Series] | None = None) -> Panel:
    symbols = tuple(closes)
    n_rows = len(next(iter(closes.values())))
    dates = pd.bdate_range("2024-01-01", periods=n_rows).values  # Mon 1 Jan 2024 onwards
    fields = {"close": np.column_stack([closes[s] for s in symbols]).astype(np.float64)}
    if opens is not None:
        fields["open"] = np.column_stack([opens[s] for s in symbols]).astype(np.float64)
    return Panel(dates, symbols, fields)


Runner = Callable[..., BacktestResult]


def run_vector(panel: Panel, strategy: AllocationStrategy, costs: CostModel, **kw: Any) -> Any:
    return run_allocation(panel, strategy, costs, initial_cash=CASH, **kw)


def run_event(panel: Panel, strategy: AllocationStrategy, costs: CostModel, **kw: Any) -> Any:
    return run_events(panel, strategy, costs, CASH, **kw)


ENGINES = pytest.mark.parametrize("run", [run_vector, run_event], ids=["vector", "event"])


def exits(result: BacktestResult) -> pd.DataFrame:
    return result.fills[result.fills["reason"] != "rebalance"].reset_index(drop=True)


# ---- hand-worked runs ----------------------------------------------------------------------
# A falls 100 → 89 (an 11 % loss) while B drifts up; 50/50 targets on rows 0 and 4; 10 % stop.
TWO_ASSETS = {"A": [100, 95, 89, 80, 85, 90], "B": [50, 50, 52, 53, 54, 55]}
HALF_HALF = {0: [0.5, 0.5], 4: [0.5, 0.5]}


@ENGINES
def test_fixed_stop_sells_at_the_close_that_crosses_it_and_reenters_at_the_next_rebalance(
    run: Runner,
) -> None:
    result = run(
        prices(TWO_ASSETS), FixedWeights(HALF_HALF), FLAT_FEE, stop_loss=StopLossRule(stop=0.10)
    )
    # row 0: A buys 50 shares at 100 (cash 10,000 − 5,001 = 4,999); B's buy is trimmed to the
    # cash left: (4,999 − 1) / 50 = 99.96 shares, cash 0.  Row 1: 95 > 90, held.
    # Row 2: 89 <= 100 × 0.9, so the 50 shares go at 89 for 4,450 − 1 fee: cash 4,449.
    (stop,) = exits(result).itertuples()
    assert (stop.date, stop.symbol, stop.side) == (pd.Timestamp("2024-01-03"), "A", "sell")
    assert (stop.quantity, stop.price, stop.commission, stop.reason) == (50, 89, 1, "stop_loss")
    np.testing.assert_allclose(result.cash.iloc[2:4], [4_449.0, 4_449.0], rtol=1e-12)
    assert result.positions["A"].tolist()[:4] == [50, 50, 0, 0]
    # row 3 (80): out until the rebalance; row 4 re-targets 50/50 of 4,449 + 99.96 × 54
    equity = 4_449.0 + 99.96 * 54
    b_sold = 99.96 - 0.5 * equity / 54
    a_bought = (4_449.0 + b_sold * 54 - 1 - 1) / 85  # the last buy gets the cash left
    np.testing.assert_allclose(result.positions.iloc[4], [a_bought, 99.96 - b_sold], rtol=1e-12)
    reentry = result.fills[(result.fills["symbol"] == "A") & (result.fills["side"] == "buy")]
    assert reentry["date"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-05")]
    assert set(reentry["reason"]) == {"rebalance"}
    assert list(result.rebalance_dates) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-05")]


@ENGINES
def test_next_open_fills_measure_from_the_fill_price_and_exit_at_the_next_open(
    run: Runner,
) -> None:
    opens = {"A": [100, 96, 90, 88, 84, 91], "B": TWO_ASSETS["B"]}
    costs = CostModel(commission_per_order=1.0, fill_timing=FillTiming.NEXT_OPEN)
    result = run(
        prices(TWO_ASSETS, opens), FixedWeights(HALF_HALF), costs, stop_loss=StopLossRule(stop=0.1)
    )
    # row 1 open: A 50 shares at 96 (entry 96, stop 86.4), B 100 at 50: cash 10,000 − 4,801 −
    # 5,001 = 198.  Row 2 closes at 89 (held), row 3 at 80: stop; it sells at row 4's open, 84.
    (stop,) = exits(result).itertuples()
    assert (stop.date, stop.symbol, stop.price, stop.quantity) == (
        pd.Timestamp("2024-01-05"),
        "A",
        84.0,
        50.0,
    )
    np.testing.assert_allclose(result.cash.iloc[4], 198.0 + 50 * 84 - 1, rtol=1e-12)
    # row 4 is a rebalance date: the decision at its close buys A back at row 5's open
    last_a = result.fills[result.fills["symbol"] == "A"].iloc[-1]
    assert (last_a["date"], last_a["side"], last_a["price"]) == (
        pd.Timestamp("2024-01-08"),
        "buy",
        91,
    )


@ENGINES
def test_the_entry_is_the_average_cost_of_the_holding(run: Runner) -> None:
    # row 0 buys 25 shares at 100; row 1 tops up to half the equity at 92:
    # 0.5 × (7,499 + 25 × 92) / 92 = 53.2554 shares, average cost (2,500 + 2,599.5) / 53.2554
    panel = prices({"A": [100, 92, 88, 85, 85]})
    strategy = FixedWeights({0: [0.25], 1: [0.5]})
    average = (2_500 + 0.5 * 9_799 - 25 * 92) / (0.5 * 9_799 / 92)
    assert 0.9 * average == pytest.approx(86.18, abs=0.01)
    result = run(panel, strategy, FLAT_FEE, stop_loss=StopLossRule(stop=0.1))
    # 88 would have crossed a stop measured from the first buy (90); the average cost's is 86.18
    assert exits(result)["date"].tolist() == [pd.Timestamp("2024-01-04")]


def test_the_event_context_reports_the_average_cost() -> None:
    panel = prices({"A": [100, 92, 88]})
    engine = EventEngine(panel, FixedWeights({0: [0.25], 1: [0.5]}), FLAT_FEE, CASH)
    engine.run()
    shares = 0.5 * 9_799 / 92
    assert engine.context.average_cost("A") == pytest.approx((2_500 + (shares - 25) * 92) / shares)


@ENGINES
def test_trailing_stop_follows_the_highest_close_since_entry(run: Runner) -> None:
    panel = prices({"A": [100, 120, 110, 107, 107], "B": [50] * 5})
    strategy = FixedWeights({0: [0.5, 0.5]})
    trailing = run(panel, strategy, FLAT_FEE, stop_loss=StopLossRule(stop=0.1, trailing=True))
    fixed = run(panel, strategy, FLAT_FEE, stop_loss=StopLossRule(stop=0.1))
    # the high is 120, so the trailing stop is at 108: 110 holds, 107 exits
    assert exits(trailing)[["date", "price"]].values.tolist() == [[pd.Timestamp("2024-01-04"), 107]]
    assert exits(fixed).empty


@ENGINES
def test_take_profit_exits_above_the_entry(run: Runner) -> None:
    panel = prices({"A": [100, 110, 126, 120], "B": [50] * 4})
    rule = StopLossRule(stop=0.1, take_profit=0.25)
    result = run(panel, FixedWeights({0: [0.5, 0.5]}), FLAT_FEE, stop_loss=rule)
    (exit_,) = exits(result).itertuples()
    assert (exit_.date, exit_.price, exit_.reason) == (
        pd.Timestamp("2024-01-03"),
        126,
        "take_profit",
    )


@ENGINES
def test_a_stop_on_a_rebalance_close_sits_out_that_rebalance(run: Runner) -> None:
    panel = prices({"A": [100, 95, 89, 92, 93, 94], "B": [50] * 6})
    strategy = FixedWeights({0: [0.5, 0.5], 2: [0.5, 0.5], 4: [0.5, 0.5]})
    result = run(panel, strategy, FLAT_FEE, stop_loss=StopLossRule(stop=0.1))
    assert exits(result)[["date", "symbol"]].values.tolist() == [[pd.Timestamp("2024-01-03"), "A"]]
    held = result.positions["A"].to_numpy()
    assert held[2] == held[3] == 0
    assert held[4] > 0
    assert len(result.rebalance_dates) == 3


@ENGINES
def test_drift_rebalancing_does_not_buy_a_stopped_symbol_back(run: Runner) -> None:
    panel = prices({"A": [100, 95, 89, 90, 91], "B": [50, 50, 50, 60, 60]})
    result = run(
        panel,
        FixedWeights({0: [0.5, 0.5]}),
        FLAT_FEE,
        stop_loss=StopLossRule(stop=0.1),
        drift_threshold=0.05,
    )
    # B reaches 6,000 / 10,449 = 57 % on row 3: a drift re-target to 50 %, with A left at zero
    assert pd.Timestamp("2024-01-04") in result.rebalance_dates
    assert result.positions["A"].iloc[3:].tolist() == [0, 0]
    np.testing.assert_allclose(result.weights["B"].iloc[3], 0.5, rtol=1e-3)


# ---- VIX regime ----------------------------------------------------------------------------
BANDS = ((0.0, 20.0, 0.08), (20.0, INF, 0.12))
DRAWDOWN = {"A": [100, 96, 91, 90, 95, 97], "B": [50] * 6}  # at worst 10 % below the entry


@ENGINES
@pytest.mark.parametrize(
    ("level", "expected"), [(15.0, ["2024-01-03"]), (25.0, [])], ids=["low-vix", "high-vix"]
)
def test_the_same_drawdown_stops_in_a_calm_market_but_not_in_a_volatile_one(
    run: Runner, level: float, expected: list[str]
) -> None:
    vix = np.full(6, level)
    result = run(
        prices(DRAWDOWN),
        FixedWeights({0: [0.5, 0.5]}),
        FLAT_FEE,
        stop_loss=StopLossRule(bands=BANDS),
        vix=vix,
    )
    # low VIX: 8 % stop at 92, crossed by the 91 close; high VIX: 12 % stop at 88, never reached
    assert exits(result)["date"].tolist() == [pd.Timestamp(d) for d in expected]


@ENGINES
def test_the_band_is_read_on_each_day(run: Runner) -> None:
    vix = np.array([25.0, 25.0, 25.0, 15.0, 15.0, 15.0])  # calms down on row 3
    result = run(
        prices(DRAWDOWN),
        FixedWeights({0: [0.5, 0.5]}),
        FLAT_FEE,
        stop_loss=StopLossRule(bands=BANDS),
        vix=vix,
    )
    assert exits(result)[["date", "price"]].values.tolist() == [[pd.Timestamp("2024-01-04"), 90]]


@ENGINES
@pytest.mark.parametrize(
    ("before", "expected"),
    [(MissingVix.FIRST_BAND, ["2024-01-03"]), (MissingVix.NO_STOP, [])],
    ids=["first-band", "no-stop"],
)
def test_days_before_the_first_vix_value_follow_the_rule_setting(
    run: Runner, before: MissingVix, expected: list[str]
) -> None:
    vix = np.array([np.nan, np.nan, np.nan, 25.0, np.nan, np.nan])
    rule = StopLossRule(bands=BANDS, before_vix=before)
    result = run(prices(DRAWDOWN), FixedWeights({0: [0.5, 0.5]}), FLAT_FEE, stop_loss=rule, vix=vix)
    assert exits(result)["date"].tolist() == [pd.Timestamp(d) for d in expected]


def test_vix_bands_map_levels_to_stop_fractions() -> None:
    rule = StopLossRule(bands=((0, 20, 0.08), (20, 30, 0.12), (30, INF, 0.18)))
    vix = np.array([np.nan, 12.0, np.nan, 20.0, 29.99, 30.0, 80.0])
    # NaN before the first value → the first band; later gaps carry the last level forward;
    # a level on a band edge belongs to the upper band
    np.testing.assert_array_equal(
        rule.distances(7, vix), [0.08, 0.08, 0.08, 0.12, 0.12, 0.18, 0.18]
    )
    no_stop = StopLossRule(bands=rule.bands, before_vix="no_stop")  # type: ignore[arg-type]
    assert np.isnan(no_stop.distances(7, vix)[0])
    np.testing.assert_array_equal(StopLossRule(stop=0.05).distances(3), [0.05] * 3)
    np.testing.assert_array_equal(forward_filled_vix([np.nan, 1.0, np.nan], 3)[1:], [1.0, 1.0])


# ---- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a stop"),
        ({"stop": 0.1, "bands": BANDS}, "not both"),
        ({"stop": 1.0}, "StopLossRule.stop"),
        ({"stop": -0.1}, "StopLossRule.stop"),
        ({"take_profit": 0.0}, "take_profit"),
        ({"bands": ((0, 20, 0.08), (25, INF, 0.12))}, "contiguous"),
        ({"bands": ((0, 20, 0.08), (20, 10, 0.12))}, "band 1"),
        ({"bands": ((0, 20),)}, "low, high, stop"),
        ({"bands": ()}, "at least one"),
        ({"bands": ((0, 20, 1.5),)}, "bands\\[0\\] stop"),
    ],
)
def test_malformed_rules_are_rejected_naming_the_field(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(StopRuleError, match=message):
        StopLossRule(**kwargs)


def test_a_vix_rule_needs_a_vix_series_of_the_panel_length() -> None:
    rule = StopLossRule(bands=BANDS)
    panel = prices(DRAWDOWN)
    with pytest.raises(StopRuleError, match="needs the VIX series"):
        run_vector(panel, FixedWeights({0: [0.5, 0.5]}), FLAT_FEE, stop_loss=rule)
    with pytest.raises(StopRuleError, match="one level per panel date"):
        run_event(panel, FixedWeights({0: [0.5, 0.5]}), FLAT_FEE, stop_loss=rule, vix=np.ones(5))
    with pytest.raises(StopRuleError, match="invalid level"):
        rule.distances(2, np.array([15.0, -1.0]))


def test_signal_strategies_attach_their_own_exits() -> None:
    panel = prices({"A": [100.0] * 60})
    with pytest.raises(ValueError, match="signal strategy 'ma-crossover'"):
        run_events(panel, MovingAverageCrossover(), FLAT_FEE, stop_loss=StopLossRule(stop=0.1))


@ENGINES
def test_without_a_rule_every_order_is_a_rebalance(run: Runner) -> None:
    result = run(prices(TWO_ASSETS), FixedWeights(HALF_HALF), FLAT_FEE)
    assert set(result.orders["reason"]) == set(result.fills["reason"]) == {"rebalance"}
    assert result.positions["A"].iloc[3] == 50
