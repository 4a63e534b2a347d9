"""Event-driven engine: fill timing, resting orders, exits, clock, cash and order states."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.event import EventEngine, run_events
from quantdesk.backtest.orders import OrderStatus, TimeInForce
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.errors import NotFoundError
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import SignalStrategy, StrategyContext
from quantdesk.strategies.ma_crossover import MovingAverageCrossover

FREE = CostModel.free()


def bars(
    opens: list[float],
    highs: list[float],
    lows: list[float],
    closes: list[float],
    *,
    freq: str = "D",
    start: str = "2024-01-01",
    volume: float = 1e9,
) -> Panel:
    dates = pd.date_range(start, periods=len(closes), freq=freq).values
    fields = {
        name: np.asarray(values, dtype=np.float64)[:, None]
        for name, values in (("open", opens), ("high", highs), ("low", lows), ("close", closes))
    }
    fields["volume"] = np.full((len(closes), 1), volume)
    return Panel(dates, ("X",), fields)


def flat_bars(prices: list[float], **kwargs: object) -> Panel:
    return bars(prices, prices, prices, prices, **kwargs)  # type: ignore[arg-type]


class Script(SignalStrategy):
    """Calls ``actions[bar](context)`` on the listed bars; records what it saw."""

    name = "script"

    def __init__(self, actions: dict[int, object]) -> None:
        super().__init__()
        self.actions = actions
        self.ids: list[str | None] = []
        self.times: list[datetime] = []

    def on_bar(self, context: StrategyContext) -> None:
        self.times.append(context.time)
        action = self.actions.get(context.index)
        if action is not None:
            self.ids.append(action(context))  # type: ignore[operator]


def random_walk(n: int, seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opens = np.concatenate(([close[0]], close[:-1])) * (1 + rng.normal(0, 0.002, n))
    high = np.maximum(opens, close) * 1.003
    low = np.minimum(opens, close) * 0.997
    return bars(list(opens), list(high), list(low), list(close), freq="min")


def s2_reference(close: np.ndarray, fast: int, slow: int, fee_bps: float, cash: float) -> float:
    """Independent plain-pandas S2: long while SMA(fast) > SMA(slow), fills at the close."""
    series = pd.Series(close)
    long = (series.rolling(fast).mean() > series.rolling(slow).mean()).to_numpy()
    fee = fee_bps / 10_000
    shares = 0.0
    for t in range(len(close) - 1):  # no order on the final bar
        if long[t] and shares == 0.0:
            shares = cash / (close[t] * (1 + fee))
            cash = 0.0
        elif not long[t] and shares > 0.0:
            cash = shares * close[t] * (1 - fee)
            shares = 0.0
    return float(cash + shares * close[-1])


def test_s2_rules_match_an_independent_pandas_loop() -> None:
    panel = random_walk(3_000, seed=1)
    costs = CostModel(commission_per_order=0.0, commission_bps=1.0)
    result = run_events(panel, MovingAverageCrossover(fast=5, slow=20), costs, 10_000.0)
    expected = s2_reference(panel["close"][:, 0], 5, 20, 1.0, 10_000.0)
    assert result.final_equity == pytest.approx(expected, rel=1e-9)
    assert len(result.fills) > 50
    assert result.cash.min() >= 0.0
    assert result.engine == "event"


def test_next_open_fills_at_the_following_open_and_final_bar_orders_expire() -> None:
    panel = bars([10, 11, 12, 13], [10, 11, 12, 13], [10, 11, 12, 13], [10.5, 11.5, 12.5, 13.5])
    strategy = Script({0: lambda c: c.buy("X", 10), 3: lambda c: c.sell("X", 10)})
    costs = CostModel(commission_per_order=1.0, slippage_bps=10.0)
    engine = EventEngine(panel, strategy, costs, 1_000.0, fill_timing=FillTiming.NEXT_OPEN)
    result = engine.run()
    fill = result.fills.iloc[0]
    assert fill["date"] == pd.Timestamp("2024-01-02")
    assert fill["price"] == pytest.approx(11 * 1.001)
    assert fill["commission"] == 1.0
    statuses = {o.client_order_id: o.status for o in engine.orders}
    assert statuses == {"script-1": OrderStatus.FILLED, "script-2": OrderStatus.EXPIRED}
    assert result.final_equity == pytest.approx(1_000 - 10 * 11 * 1.001 - 1 + 10 * 13.5)


def test_resting_buy_limit_fills_at_the_limit_when_touched_and_at_the_open_on_a_gap() -> None:
    touched = bars([100, 100, 100], [101, 101, 101], [99.5, 99.5, 97], [100, 100, 100])
    engine = EventEngine(touched, Script({0: lambda c: c.buy("X", 1, limit_price=99.0)}), FREE)
    result = engine.run()
    assert result.fills["date"].tolist() == [pd.Timestamp("2024-01-03")]
    assert result.fills["price"].tolist() == [99.0]

    gapped = bars([100, 97, 97], [101, 98, 98], [99.5, 96, 96], [100, 97, 97])
    result = run_events(gapped, Script({0: lambda c: c.buy("X", 1, limit_price=99.0)}), FREE)
    assert result.fills["price"].tolist() == [97.0]


def test_day_order_expires_when_its_session_ends() -> None:
    panel = flat_bars([100.0] * 6, freq="8h", start="2024-01-01 00:00")  # 3 bars per day
    strategy = Script({0: lambda c: c.buy("X", 1, limit_price=90.0, time_in_force="day")})
    engine = EventEngine(panel, strategy, FREE)
    engine.run()
    (order,) = engine.orders
    assert order.time_in_force is TimeInForce.DAY
    assert order.status is OrderStatus.EXPIRED
    assert "session" in order.status_reason


def test_stop_loss_is_assumed_when_both_exits_are_hit_in_one_bar() -> None:
    panel = bars([100, 100, 100, 100], [100, 101, 111, 100], [100, 99, 89, 100], [100] * 4)
    strategy = Script({0: lambda c: c.buy("X", 10, stop_loss=90.0, take_profit=110.0)})
    engine = EventEngine(panel, strategy, FREE, 10_000.0)
    result = engine.run()
    exit_fill = result.fills.iloc[-1]
    assert (exit_fill["side"], exit_fill["price"]) == ("sell", 90.0)
    assert exit_fill["date"] == pd.Timestamp("2024-01-03")
    assert engine.orders[-1].tag == "stop_loss"
    assert result.final_equity == pytest.approx(10_000 - 100)


def test_the_clock_follows_the_bars_and_strategies_read_it() -> None:
    panel = flat_bars([1.0, 2.0, 3.0], freq="min", start="2024-03-01 14:30")
    clock = SimulatedClock(datetime(2024, 3, 1, tzinfo=UTC))
    strategy = Script({})
    run_events(panel, strategy, FREE, clock=clock)
    expected = [datetime(2024, 3, 1, 14, 30 + k, tzinfo=UTC) for k in range(3)]
    assert strategy.times == expected
    assert clock.now() == expected[-1]


def test_a_buy_the_cash_cannot_pay_is_trimmed_and_the_rest_cancelled() -> None:
    panel = flat_bars([100.0, 100.0, 100.0])
    costs = CostModel(commission_per_order=5.0)
    engine = EventEngine(panel, Script({0: lambda c: c.buy("X", 50)}), costs, 1_000.0)
    result = engine.run()
    (order,) = engine.orders
    assert order.status is OrderStatus.CANCELLED
    assert float(order.filled_quantity) == pytest.approx((1_000 - 5) / 100)
    assert result.cash.min() >= 0.0
    assert result.final_equity == pytest.approx(995.0)


def test_selling_without_a_position_is_rejected_unless_shorting() -> None:
    panel = flat_bars([100.0, 100.0, 100.0])
    engine = EventEngine(panel, Script({0: lambda c: c.sell("X", 1)}), FREE)
    engine.run()
    assert engine.orders[0].status is OrderStatus.REJECTED
    shorting = EventEngine(panel, Script({0: lambda c: c.sell("X", 1)}), FREE, allow_short=True)
    assert shorting.run().positions["X"].iloc[-1] == -1.0


def test_volume_participation_splits_an_order_into_partial_fills() -> None:
    panel = flat_bars([10.0] * 5, volume=100.0)
    engine = EventEngine(
        panel,
        Script({0: lambda c: c.buy("X", 25)}),
        FREE,
        fill_timing="next_open",
        participation=0.1,
    )
    result = engine.run()
    assert result.fills["quantity"].tolist() == [10.0, 10.0, 5.0]
    assert engine.orders[0].status is OrderStatus.FILLED


def test_client_order_ids_are_deterministic_across_runs() -> None:
    panel = random_walk(500, seed=3)
    first = run_events(panel, MovingAverageCrossover(fast=3, slow=9), FREE)
    second = run_events(panel, MovingAverageCrossover(fast=3, slow=9), FREE)
    assert first.fills["order_id"].tolist() == second.fills["order_id"].tolist()
    assert first.fills["order_id"].iloc[0] == "ma-crossover-1"


def test_unknown_symbol_names_the_symbol() -> None:
    panel = flat_bars([1.0, 1.0])
    with pytest.raises(NotFoundError, match="'MSFT'"):
        run_events(panel, Script({0: lambda c: c.buy("MSFT", 1)}), FREE)


def test_result_series_are_consistent() -> None:
    panel = random_walk(800, seed=5)
    costs = CostModel(commission_per_order=1.0, commission_bps=2.0, slippage_bps=3.0)
    result = run_events(panel, MovingAverageCrossover(fast=4, slow=16), costs, 50_000.0)
    close = panel["close"][:, 0]
    marked = result.cash.to_numpy() + result.positions["X"].to_numpy() * close
    np.testing.assert_allclose(result.equity.to_numpy(), marked, rtol=1e-12)
    paid = result.fills["commission"].sum() + _slippage(result, close)
    assert result.costs.sum() == pytest.approx(paid, rel=1e-9)
    assert (result.trades["is_open"].sum()) <= 1


def _slippage(result: object, close: np.ndarray) -> float:
    fills = result.fills  # type: ignore[attr-defined]
    rows = pd.DatetimeIndex(result.dates).get_indexer(fills["date"])  # type: ignore[attr-defined]
    return float((fills["quantity"] * (fills["price"] - close[rows]).abs()).sum())
