"""The trading service end to end on the paper broker: portfolios, orders, batches, value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.services import Services
from quantdesk.services.trading_types import OrderSpec, TradingError


def _day(clock: SimulatedClock, iso: str) -> None:
    clock.advance_to(datetime.fromisoformat(iso).replace(hour=21, tzinfo=UTC))


def test_market_buy_fills_at_close_plus_slippage_with_commission(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    (order,) = trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 10)])
    assert order.status == "filled"
    # close 100.00 on 2 Jan, 5 bp against a buy → 100.05; $1 commission
    assert order.average_fill_price == Decimal("100.05")
    value = trading.value("core")
    assert value.cash == Decimal(10_000) - Decimal("1000.5") - Decimal(1)
    (position,) = value.positions
    assert (position.symbol, position.quantity, position.average_cost) == (
        "AAA",
        Decimal(10),
        Decimal("100.05"),
    )
    assert position.unrealised_pnl == Decimal("-0.5")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (OrderSpec("ZZZ", Side.BUY, 1), "unknown or unpriced symbol 'ZZZ'"),
        (OrderSpec("AAA", Side.BUY, 0), "quantity must be > 0"),
        (OrderSpec("AAA", Side.BUY, -5), "quantity must be > 0"),
        (OrderSpec("AAA", Side.BUY, float("nan")), "finite"),
        (OrderSpec("AAA", Side.BUY, 1, limit_price=0), "limit_price must be > 0"),
        (OrderSpec("AAA", Side.SELL, 1), "sells more than"),
        (OrderSpec("AAA", Side.BUY, 1000), "cash"),
    ],
)
def test_a_bad_order_in_a_batch_writes_nothing(
    trading_services: Services, spec: OrderSpec, message: str
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    good = OrderSpec("BBB", Side.BUY, 10)
    with pytest.raises(TradingError, match=message):
        trading.submit_orders("core", [good, spec])
    assert trading.list_orders("core") == []
    assert trading.value("core").cash == Decimal(10_000)


def test_sells_go_first_so_their_cash_pays_for_the_buys(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(1_100))
    trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 10)])
    # the buy alone would not be affordable; listed before the sell it still goes after it
    orders = trading.submit_orders(
        "core", [OrderSpec("BBB", Side.BUY, 19), OrderSpec("AAA", Side.SELL, 10)]
    )
    assert [o.side for o in orders] == ["sell", "buy"]
    assert all(o.status == "filled" for o in orders)


def test_order_log_replays_to_the_stored_state_after_a_restart(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 10)])
    resting = trading.submit_orders("core", [OrderSpec("BBB", Side.BUY, 5, limit_price=40)])
    cid = resting[0].client_order_id
    assert resting[0].status == "accepted"
    trading.modify_order("core", cid, limit_price=Decimal(45))
    cancelled = trading.cancel_order("core", cid)
    assert cancelled.status == "cancelled"
    with trading_services.database.read() as connection:
        stored = orders_repo.load_orders(connection, "paper-core")
        cached = orders_repo.cached_status(connection, "paper-core")
    assert {s.order.client_order_id: str(s.order.status) for s in stored} == cached
    assert [s.order.client_order_id for s in stored] == ["paper-core-1", "paper-core-2"]
    # ids continue after a restart (a new session reads the stored sequence)
    (third,) = trading.submit_orders("core", [OrderSpec("CCC", Side.BUY, 1)])
    assert third.client_order_id == "paper-core-3"
    assert trading.reconcile("core").clean


def test_rebalance_trade_list_is_the_backtest_rule_and_runs_as_one_batch(
    trading_services: Services,
) -> None:
    from quantdesk.execution.targets import plan_trades

    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 30)])
    targets = {"AAA": 0.2, "BBB": 0.5, "CCC": 0.29}
    plan = trading.rebalance("core", targets=targets)
    value = trading.value("core")
    budget = float(value.cash - Decimal("0.01") * 3)
    expected = plan_trades(
        [0.2, 0.5, 0.29],
        [30.0, 0.0, 0.0],
        [100.0, 50.0, 20.0],
        budget,
        trading.costs,
        fractional=False,
    )
    assert [(t.symbol, t.side, float(t.quantity)) for t in plan.trades] == [
        ("AAA" if e.index == 0 else "BBB" if e.index == 1 else "CCC", e.side, e.quantity)
        for e in expected
    ]
    assert plan.trades[0].side is Side.SELL  # sells first
    assert not plan.executed
    # a threshold above the AAA change (30 → 20 shares, 10 % of equity) skips that sell
    skipped = trading.rebalance("core", targets=targets, threshold=0.15)
    assert [t.symbol for t in skipped.skipped] == ["AAA"]
    done = trading.rebalance("core", targets=targets, execute=True)
    assert done.executed
    assert all(o.status == "filled" for o in done.orders)
    weights = {p.symbol: p.weight for p in trading.positions("core")}
    assert weights == pytest.approx(targets, abs=0.02)


def test_a_resting_buy_from_an_earlier_session_still_reserves_its_cash(
    trading_services: Services,
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    (resting,) = trading.submit_orders("core", [OrderSpec("BBB", Side.BUY, 50, limit_price=40)])
    assert resting.status == "accepted"  # 50 x 40 = 2,000 reserved
    # a new session (a restart) must see the stored open order: 8,000 are left, not 10,000
    with pytest.raises(TradingError, match=r"8000\.00 available"):
        trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 80)])


@pytest.mark.parametrize("amount", ["1e30", "1e18", "-1e18"])
def test_an_amount_too_large_to_store_is_refused_and_the_portfolio_stays_readable(
    trading_services: Services, amount: str
) -> None:
    """Regression: ``portfolio deposit P 1e30`` was stored on SQLite (as text) and then every read
    of the portfolio failed with ``InvalidOperation``; PostgreSQL's NUMERIC(28, 10) overflowed."""
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(100_000))
    before = trading.value("core")
    with pytest.raises(TradingError, match=r"amount must be below 1e18 in size"):
        trading.deposit("core", amount)
    with pytest.raises(TradingError, match=r"cash must be below 1e18 in size"):
        trading.transfer("core", "", "momentum-12-1", cash=amount)
    assert trading.value("core") == before
    assert trading.deposit("core", "999999999999999999").cash > before.cash  # the largest kept


def test_a_book_withdrawal_above_the_books_cash_names_the_book_and_writes_nothing(
    trading_services: Services,
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(100_000))  # the unallocated book's cash
    trading.deposit("core", Decimal(1_000), "momentum-12-1")
    before = trading.value("core")
    with pytest.raises(TradingError) as refused:
        trading.deposit("core", Decimal(-5_000), "momentum-12-1")
    assert str(refused.value) == (
        "book momentum-12-1 of portfolio 'core' has 1,000.00 USD cash; cannot withdraw 5,000.00"
    )
    with pytest.raises(TradingError, match=r"^the unallocated book of portfolio 'core' has "):
        trading.deposit("core", Decimal(-100_001))
    after = trading.value("core")
    assert (after.cash, after.net_deposits) == (before.cash, before.net_deposits)
    with trading_services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, "core")
        assert record is not None
        assert len(trading_repo.cash_flows(connection, record.id)) == 2
    # the book's own cash can go
    assert trading.deposit("core", Decimal(-1_000), "momentum-12-1").cash == Decimal(100_000)
