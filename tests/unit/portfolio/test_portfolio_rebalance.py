from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.portfolio import (
    MissingPriceError,
    PortfolioInputError,
    TradeSide,
    current_weights,
    drift,
    format_trade_list,
    needs_rebalance,
    portfolio_value,
    rebalance_trades,
)

# 100 AAA @ 50 + 50 BBB @ 20 + 4,000 cash = 10,000
POSITIONS = {"AAA": 100, "BBB": 50}
PRICES = {"AAA": 50.0, "BBB": 20.0, "CCC": 30.0}
CASH = Decimal("4000")


def test_trade_list_hand_worked() -> None:
    plan = rebalance_trades(POSITIONS, CASH, PRICES, {"AAA": 0.3, "CCC": 0.6})
    assert plan.total_value == Decimal("10000")
    rows = [(t.symbol, t.side, t.shares, t.notional) for t in plan.trades]
    assert rows == [
        ("AAA", TradeSide.SELL, Decimal(40), Decimal("2000")),
        ("BBB", TradeSide.SELL, Decimal(50), Decimal("1000")),
        ("CCC", TradeSide.BUY, Decimal(200), Decimal("6000")),
    ]
    aaa = plan.trades[0]
    assert (aaa.current_weight, aaa.target_weight) == pytest.approx((0.5, 0.3))
    assert aaa.drift == pytest.approx(0.2)
    assert aaa.price == Decimal("50.0")
    assert plan.cash_after == Decimal("1000")  # the 10 % not targeted stays cash
    assert plan.positions_after == {"AAA": 60, "CCC": 200}
    assert plan.turnover == pytest.approx(0.9)


def test_prices_given_as_floats_become_exact_decimals() -> None:
    plan = rebalance_trades({}, 1000, {"X": 0.1}, {"X": 0.5})
    assert plan.trades[0].price == Decimal("0.1")
    assert plan.trades[0].notional == Decimal("500.0")


def test_exits_are_sold_even_below_the_minimum_trade() -> None:
    targets = {"AAA": 0.3, "CCC": 0.6}
    plan = rebalance_trades(POSITIONS, CASH, PRICES, targets, min_trade_weight=0.15)
    assert [t.symbol for t in plan.trades] == ["AAA", "BBB", "CCC"]
    kept = rebalance_trades(
        POSITIONS, CASH, PRICES, targets, min_trade_weight=0.15, always_exit=False
    )
    assert [t.symbol for t in kept.trades] == ["AAA", "CCC"]
    assert [t.symbol for t in kept.skipped] == ["BBB"]
    assert kept.positions_after["BBB"] == 50


def test_minimum_notional_skips_small_trades() -> None:
    plan = rebalance_trades(POSITIONS, CASH, PRICES, {"AAA": 0.49, "BBB": 0.1, "CCC": 0.4},
                            min_trade_notional=500)  # fmt: skip
    # AAA would sell 2 shares (100 of notional): skipped; BBB is on target: no trade
    assert [t.symbol for t in plan.skipped] == ["AAA"]
    assert [t.symbol for t in plan.trades] == ["CCC"]


def test_buys_shrink_when_a_skipped_sell_leaves_too_little_cash() -> None:
    targets = {"AAA": 0.45, "CCC": 0.55}
    plan = rebalance_trades(POSITIONS, CASH, PRICES, targets, min_trade_weight=0.1)
    assert [t.symbol for t in plan.skipped] == ["AAA"]  # drift 0.05 < 0.1
    buy = plan.buys[0]
    # wanted 183 CCC (5,490) but only 4,000 + 1,000 from BBB is there: 183 × 5000/5490 → 166
    assert buy.shares == 166
    assert plan.cash_after == Decimal("20")


def test_fractional_shares() -> None:
    plan = rebalance_trades({}, 1000, {"X": 7, "Y": 3}, {"X": 0.5, "Y": 0.5}, whole_shares=False)
    assert [t.shares for t in plan.trades] == [Decimal("71.428571"), Decimal("166.666666")]
    assert Decimal(0) <= plan.cash_after < Decimal("0.00001")


def test_a_position_on_target_produces_no_trade() -> None:
    weights = current_weights(POSITIONS, PRICES, CASH)
    plan = rebalance_trades(POSITIONS, CASH, PRICES, weights)
    assert plan.trades == ()
    assert plan.cash_after == CASH


def test_no_money_means_no_trades() -> None:
    plan = rebalance_trades({}, 0, {"X": 10.0}, {"X": 1.0})
    assert plan.trades == ()
    assert plan.cash_after == 0


@settings(max_examples=120, deadline=None)
@given(
    held=st.lists(st.integers(0, 500), min_size=5, max_size=5),
    raw_prices=st.lists(
        st.decimals("0.5", "900", places=2, allow_nan=False, allow_infinity=False),
        min_size=5,
        max_size=5,
    ),
    raw_targets=st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5),
    invested=st.floats(0.0, 1.0),
    cash=st.decimals("0", "50000", places=2, allow_nan=False, allow_infinity=False),
    min_trade_weight=st.sampled_from([0.0, 0.01, 0.05]),
)
def test_trade_list_properties(
    *,
    held: list[int],
    raw_prices: list[Decimal],
    raw_targets: list[float],
    invested: float,
    cash: Decimal,
    min_trade_weight: float,
) -> None:
    symbols = ["S0", "S1", "S2", "S3", "S4"]
    prices = dict(zip(symbols, raw_prices, strict=True))
    total_raw = sum(raw_targets)
    targets = {
        s: (w / total_raw * invested if total_raw else 0.0)
        for s, w in zip(symbols, raw_targets, strict=True)
    }
    targets = {s: min(w, 1.0) for s, w in targets.items()}
    if sum(targets.values()) > 1:
        targets = {s: w / sum(targets.values()) * (1 - 1e-12) for s, w in targets.items()}
    positions = dict(zip(symbols, held, strict=True))
    plan = rebalance_trades(positions, cash, prices, targets, min_trade_weight=min_trade_weight)
    sides = [t.side for t in plan.trades]
    assert sides == sorted(sides, key=lambda side: side is TradeSide.BUY)  # sells first
    assert plan.cash_after >= 0
    assert all(t.shares > 0 and t.shares == int(t.shares) for t in plan.trades)
    assert all(t.notional == t.shares * t.price for t in plan.trades)
    sold = sum((t.notional for t in plan.sells), Decimal(0))
    bought = sum((t.notional for t in plan.buys), Decimal(0))
    assert plan.cash_after == cash + sold - bought
    assert all(shares > 0 for shares in plan.positions_after.values())
    # trading at the marks neither creates nor destroys value
    after = portfolio_value(plan.positions_after, prices, plan.cash_after)
    assert after == plan.total_value


def test_unknown_target_symbol_without_price_is_named() -> None:
    with pytest.raises(MissingPriceError, match="'ZZZ'") as caught:
        rebalance_trades(POSITIONS, CASH, PRICES, {"AAA": 0.5, "ZZZ": 0.2})
    assert caught.value.symbol == "ZZZ"


def test_held_symbol_without_price_is_named() -> None:
    with pytest.raises(MissingPriceError, match="'BBB'"):
        rebalance_trades(POSITIONS, CASH, {"AAA": 50.0}, {"AAA": 0.5})


def test_zero_target_without_price_and_not_held_is_ignored() -> None:
    plan = rebalance_trades(POSITIONS, CASH, PRICES, {"AAA": 0.5, "BBB": 0.1, "ZZZ": 0.0})
    assert "ZZZ" not in {t.symbol for t in plan.trades}


@pytest.mark.parametrize(
    ("positions", "cash", "prices", "targets", "message"),
    [
        (POSITIONS, CASH, {**PRICES, "AAA": -50.0}, {"AAA": 0.5}, "price of 'AAA' is -50"),
        (POSITIONS, CASH, {**PRICES, "AAA": 0}, {"AAA": 0.5}, "price of 'AAA' is 0"),
        (POSITIONS, CASH, {**PRICES, "CCC": float("nan")}, {"CCC": 0.5}, "'CCC' must be finite"),
        ({"AAA": -5}, CASH, PRICES, {"AAA": 0.5}, "shares of 'AAA'.*short"),
        (POSITIONS, -1, PRICES, {"AAA": 0.5}, "cash is -1"),
        (POSITIONS, CASH, PRICES, {"AAA": 0.7, "CCC": 0.6}, "target weights sum to 1.3"),
        (POSITIONS, CASH, PRICES, {"AAA": -0.1}, "negative for \\['AAA'\\]"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(
    positions: dict[str, int],
    cash: Decimal,
    prices: dict[str, float],
    targets: dict[str, float],
    message: str,
) -> None:
    with pytest.raises(PortfolioInputError, match=message):
        rebalance_trades(positions, cash, prices, targets)


def test_current_weights_match_plain_pandas() -> None:
    weights = current_weights(POSITIONS, PRICES, CASH)
    values = pd.Series(POSITIONS) * pd.Series(PRICES)[list(POSITIONS)]
    expected = values / (values.sum() + 4000)
    assert weights.to_dict() == pytest.approx(expected.to_dict())
    assert portfolio_value(POSITIONS, PRICES, CASH) == Decimal("10000")


def test_drift_and_needs_rebalance() -> None:
    difference = drift({"A": 0.5, "B": 0.5}, {"A": 0.4, "C": 0.6})
    assert difference.to_dict() == pytest.approx({"A": 0.1, "B": 0.5, "C": -0.6})
    assert needs_rebalance(difference, 0.05)
    assert not needs_rebalance(drift({"A": 0.52}, {"A": 0.5}), 0.05)
    assert not needs_rebalance(pd.Series(dtype="float64"), 0.05)
    with pytest.raises(PortfolioInputError, match="threshold"):
        needs_rebalance(difference, 5.0)  # percent instead of a fraction


def test_text_report_lists_ranking_shares_notional_and_cash() -> None:
    plan = rebalance_trades(POSITIONS, CASH, PRICES, {"AAA": 0.3, "CCC": 0.6})
    text = format_trade_list(plan, ranking=["CCC", "AAA"])
    lines = text.splitlines()
    assert lines[0] == "Rebalance trade list"
    assert "Portfolio value: 10,000.00" in text
    ccc = next(line for line in lines if " CCC " in line)
    assert ccc.split()[:6] == ["1", "CCC", "BUY", "200", "30.00", "6,000.00"]
    assert ccc.split()[6:] == ["0.0%", "60.0%", "-60.0%"]
    bbb = next(line for line in lines if " BBB " in line)
    assert bbb.split()[:3] == ["-", "BBB", "SELL"]
    assert lines.index(bbb) < lines.index(ccc)
    assert lines[-1] == "Cash remaining: 1,000.00"


def test_text_report_of_an_empty_plan() -> None:
    plan = rebalance_trades({}, 500, {}, {})
    text = format_trade_list(plan, title="Sector momentum")
    assert "No trades" in text
    assert "Cash remaining: 500.00" in text


def test_short_cash_trims_the_last_buy_like_the_backtest_instead_of_scaling_all_buys() -> None:
    """Regression: the trade list scaled every buy pro rata, unlike the backtest that justified
    it (sells first, buys in ascending notional, the last buy trimmed to the cash)."""
    from quantdesk.execution.costs import CostModel
    from quantdesk.execution.targets import plan_trades

    prices = {**PRICES, "DDD": 10.0}
    targets = {"AAA": 0.45, "CCC": 0.25, "DDD": 0.30}
    plan = rebalance_trades(POSITIONS, CASH, prices, targets, min_trade_weight=0.1)
    assert [t.symbol for t in plan.skipped] == ["AAA"]  # drift 0.05 < 0.1: cash is short
    rows = [(t.symbol, t.side, t.shares) for t in plan.trades]
    assert rows == [
        ("BBB", TradeSide.SELL, Decimal(50)),
        ("CCC", TradeSide.BUY, Decimal(83)),  # 2,490: the smaller buy fills in full
        ("DDD", TradeSide.BUY, Decimal(251)),  # 3,000 wanted, the 2,510 left buys 251
    ]
    assert plan.cash_after == Decimal(0)
    # the same trades as the backtest's rule on the same sizes
    symbols = ["BBB", "CCC", "DDD"]
    deltas_plan = plan_trades(
        [0.0, 0.25, 0.30], [50.0, 0.0, 0.0], [20.0, 30.0, 10.0], 4000.0,
        CostModel.free(), fractional=False, equity=10_000.0,
    )  # fmt: skip
    assert [(symbols[t.index], t.side, Decimal(int(t.quantity))) for t in deltas_plan] == rows
