"""Paper broker behind the port, driven through the order manager on a simulated clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.data.calendar import TradingCalendar
from quantdesk.execution import (
    BasicRiskChecks,
    BrokerError,
    EventKind,
    Ledger,
    OrderError,
    OrderManager,
    OrderRequest,
    OrderStatus,
    PreTradeRejected,
    TimeInForce,
)
from quantdesk.execution.brokers.paper import PAPER_COSTS, Bar, PaperBroker

MONDAY_OPEN = datetime(2024, 1, 8, 14, 30, tzinfo=UTC)  # 09:30 New York
MONDAY_NOON = datetime(2024, 1, 8, 17, 0, tzinfo=UTC)
MONDAY_CLOSE = datetime(2024, 1, 8, 21, 0, tzinfo=UTC)
TUESDAY_OPEN = datetime(2024, 1, 9, 14, 30, tzinfo=UTC)
SATURDAY = datetime(2024, 1, 6, 15, 0, tzinfo=UTC)
CALENDAR = TradingCalendar("XNYS", date(2023, 1, 1), date(2025, 12, 31))


def bar(o: str, h: str, lo: str, c: str) -> Bar:
    return Bar(Decimal(o), Decimal(h), Decimal(lo), Decimal(c))


def desk(
    start: datetime, cash: str = "10000", risk: bool = True
) -> tuple[SimulatedClock, PaperBroker, OrderManager]:
    clock = SimulatedClock(start)
    broker = PaperBroker("paper", clock, hours=CALENDAR, cash=Decimal(cash))
    ledger = Ledger()
    ledger.deposit("paper", Decimal(cash))
    manager = OrderManager(
        broker,
        ledger,
        clock,
        risk=BasicRiskChecks(costs=PAPER_COSTS) if risk else None,
        prices=broker.last_price,
    )
    return clock, broker, manager


def test_market_order_in_hours_fills_at_the_latest_price_plus_5bp_and_1_dollar() -> None:
    _, broker, manager = desk(MONDAY_NOON)
    broker.on_price("AAPL", Decimal(100))
    order = manager.submit(OrderRequest("AAPL", Side.BUY, 10))
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == Decimal("100.05")  # 100 × (1 + 5 bp)
    assert [e.kind for e in manager.events] == [
        EventKind.SUBMITTED,
        EventKind.ACCEPTED,
        EventKind.FILLED,
    ]
    cash = Decimal(10000) - Decimal("1000.5") - Decimal(1)
    assert broker.account().cash == cash
    assert manager.ledger.cash("paper") == cash
    assert broker.positions() == {"AAPL": Decimal(10)}
    assert manager.ledger.positions("paper") == {"AAPL": Decimal(10)}


def test_sell_slippage_is_against_the_seller() -> None:
    _, broker, manager = desk(MONDAY_NOON)
    broker.on_price("AAPL", Decimal(100))
    manager.submit(OrderRequest("AAPL", Side.BUY, 10))
    sold = manager.submit(OrderRequest("AAPL", Side.SELL, 10))
    assert sold.average_fill_price == Decimal("99.95")


def test_market_order_on_a_weekend_queues_to_the_next_open() -> None:
    clock, broker, manager = desk(SATURDAY)
    broker.on_price("AAPL", Decimal(100))
    order = manager.submit(OrderRequest("AAPL", Side.BUY, 10))
    assert order.status is OrderStatus.ACCEPTED  # queued, not filled at Friday's price
    clock.advance_to(MONDAY_OPEN)
    broker.on_bar("AAPL", bar("102", "103", "101", "102.5"))
    done = manager.orders[order.client_order_id]
    assert done.status is OrderStatus.FILLED
    assert done.average_fill_price == Decimal("102.051")  # Monday's open + 5 bp


def test_limit_buy_rests_until_a_later_bar_reaches_it_and_fills_at_the_limit() -> None:
    clock, broker, manager = desk(MONDAY_OPEN)
    broker.on_price("AAPL", Decimal(100))
    order = manager.submit(OrderRequest("AAPL", Side.BUY, 10, limit_price="98"))
    broker.on_bar("AAPL", bar("100", "101", "99", "100"))
    assert manager.orders[order.client_order_id].status is OrderStatus.ACCEPTED
    clock.advance_to(MONDAY_NOON)
    broker.on_bar("AAPL", bar("99", "99.5", "97", "98.5"))
    done = manager.orders[order.client_order_id]
    assert done.status is OrderStatus.FILLED
    assert done.average_fill_price == Decimal(98)  # at the limit: no slippage


def test_stop_sell_triggers_on_the_low_and_pays_slippage() -> None:
    clock, broker, manager = desk(MONDAY_OPEN)
    broker.on_price("AAPL", Decimal(100))
    manager.submit(OrderRequest("AAPL", Side.BUY, 10))
    stop = manager.submit(OrderRequest("AAPL", Side.SELL, 10, stop_price="95", time_in_force="gtc"))
    clock.advance_to(MONDAY_NOON)
    broker.on_bar("AAPL", bar("99", "99", "94", "96"))
    done = manager.orders[stop.client_order_id]
    assert done.status is OrderStatus.FILLED
    assert done.average_fill_price == Decimal("94.9525")  # 95 × (1 − 5 bp)


def test_stop_limit_fills_only_when_the_trigger_respects_the_limit() -> None:
    clock, broker, manager = desk(MONDAY_OPEN)
    broker.on_price("AAPL", Decimal(100))
    order = manager.submit(
        OrderRequest("AAPL", Side.BUY, 5, stop_price="105", limit_price="106", time_in_force="gtc")
    )
    assert order.order_type == "stop_limit"
    clock.advance_to(MONDAY_NOON)
    broker.on_bar("AAPL", bar("108", "109", "107", "108"))  # gaps above the limit: no fill
    assert manager.orders[order.client_order_id].status is OrderStatus.ACCEPTED
    clock.advance_to(TUESDAY_OPEN)
    broker.on_bar("AAPL", bar("104", "105.5", "103", "105"))
    assert manager.orders[order.client_order_id].average_fill_price == Decimal(105)


def test_day_orders_expire_at_the_close_and_gtc_orders_persist() -> None:
    clock, broker, manager = desk(MONDAY_NOON)
    broker.on_price("AAPL", Decimal(100))
    day = manager.submit(OrderRequest("AAPL", Side.BUY, 1, limit_price="90"))
    gtc = manager.submit(OrderRequest("AAPL", Side.BUY, 1, limit_price="90", time_in_force="gtc"))
    clock.advance_to(MONDAY_CLOSE)
    broker.expire_due()
    assert manager.orders[day.client_order_id].status is OrderStatus.EXPIRED
    assert manager.orders[gtc.client_order_id].status is OrderStatus.ACCEPTED
    assert [o.client_order_id for o in broker.open_orders()] == [gtc.client_order_id]


def test_cancel_and_modify_round_trip_through_the_broker() -> None:
    _, broker, manager = desk(MONDAY_NOON)
    broker.on_price("AAPL", Decimal(100))
    order = manager.submit(OrderRequest("AAPL", Side.BUY, 10, limit_price="90"))
    modified = manager.modify(order.client_order_id, quantity=5, limit_price="91")
    assert modified.status is OrderStatus.ACCEPTED
    assert (modified.quantity, modified.limit_price) == (Decimal(5), Decimal(91))
    assert broker.open_orders()[0].limit_price == Decimal(91)
    cancelled = manager.cancel(order.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert broker.open_orders() == []
    with pytest.raises(OrderError, match="is cancelled, not working"):
        manager.cancel(order.client_order_id)


def test_the_same_script_gives_the_same_events_twice() -> None:
    def script() -> list[object]:
        clock, broker, manager = desk(SATURDAY)
        broker.on_price("AAPL", Decimal(100))
        manager.submit(OrderRequest("AAPL", Side.BUY, 3))
        manager.submit(OrderRequest("AAPL", Side.BUY, 2, limit_price="99", time_in_force="gtc"))
        clock.advance_to(MONDAY_OPEN)
        broker.on_bar("AAPL", bar("100", "100", "98", "99"))
        return [*manager.events, broker.executions_since(None)]

    assert script() == script()


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (OrderRequest("MSFT", Side.BUY, 1), "unknown or unpriced symbol 'MSFT'"),
        (OrderRequest("AAPL", Side.BUY, 0), "quantity must be > 0"),
        (OrderRequest("AAPL", Side.BUY, -3), "quantity must be > 0"),
        (OrderRequest("AAPL", Side.BUY, float("nan")), "quantity must be a finite number"),
        (OrderRequest("AAPL", Side.BUY, "abc"), "quantity must be a number"),
        (OrderRequest("AAPL", Side.BUY, 1, limit_price=0), "limit_price must be > 0"),
        (OrderRequest("AAPL", Side.SELL, 1), "sells more than the 0 shares held"),
        (OrderRequest("AAPL", Side.BUY, 100), "needs 10006.00 cash"),
    ],
)
def test_bad_orders_get_one_clear_error_and_nothing_is_recorded_or_sent(
    request_: OrderRequest, message: str
) -> None:
    _, broker, manager = desk(MONDAY_NOON)
    broker.on_price("AAPL", Decimal(100))
    with pytest.raises((OrderError, PreTradeRejected), match=message):
        manager.submit(request_)
    assert manager.orders == {}
    assert manager.events == []
    assert manager.ids.last == 0
    assert broker.open_orders() == []
    assert broker.executions_since() == []


def test_client_order_ids_resume_after_a_restart_from_the_stored_sequence() -> None:
    from quantdesk.core.ids import ClientOrderIds

    _, broker, manager = desk(MONDAY_NOON)
    broker.on_price("AAPL", Decimal(100))
    first = manager.submit(OrderRequest("AAPL", Side.BUY, 1)).client_order_id
    stored = manager.ids.last
    restarted = ClientOrderIds("paper", last=stored)
    assert first == "paper-1"
    assert restarted.next() == "paper-2"


def test_broker_rejects_an_uncovered_sell_when_no_risk_hook_ran() -> None:
    _, broker, manager = desk(MONDAY_NOON, risk=False)
    broker.on_price("AAPL", Decimal(100))
    order = manager.submit(OrderRequest("AAPL", Side.SELL, 1))
    assert order.status is OrderStatus.REJECTED
    assert "holds 0" in order.status_reason


def test_time_in_force_defaults_to_day() -> None:
    assert OrderRequest("AAPL", Side.BUY, 1).time_in_force is TimeInForce.DAY


def test_a_restored_broker_carries_on_where_the_saved_one_stopped() -> None:
    clock, broker, manager = desk(MONDAY_NOON, risk=False)
    broker.on_price("AAPL", Decimal(100))
    broker.on_price("MSFT", Decimal(300))
    manager.submit(OrderRequest("AAPL", Side.BUY, 10))
    resting = manager.submit(
        OrderRequest("AAPL", Side.BUY, 5, limit_price=Decimal(90), time_in_force=TimeInForce.GTC)
    )
    rejected = manager.submit(OrderRequest("MSFT", Side.SELL, 1))
    assert rejected.status is OrderStatus.REJECTED
    state, executions = broker.state(), broker.unsaved_executions()
    broker.mark_saved()
    assert broker.unsaved_executions() == []
    assert "executions" not in state  # executions are appended elsewhere, not rewritten
    assert state["clock"] == MONDAY_NOON.isoformat()

    again = PaperBroker("paper", clock, hours=CALENDAR)
    again.restore(state, executions)
    assert again.cash == broker.cash == Decimal("10000") - Decimal("1000.5") - 1
    assert again.positions() == {"AAPL": Decimal(10)}
    assert [o.client_order_id for o in again.open_orders()] == [resting.client_order_id]
    assert list(again.executions_since()) == executions
    # ids the venue has seen stay refused, filled or not
    for seen in (resting, rejected):
        with pytest.raises(BrokerError, match="duplicate"):
            again.submit(replace(seen, status=OrderStatus.SUBMITTED))
    # the resting limit still fills on a later bar, with the next execution id
    clock.advance_to(TUESDAY_OPEN)
    again.on_bar("AAPL", bar("89", "91", "88", "90"))
    (fill,) = again.unsaved_executions()
    assert fill.fill_id == "paper-x2"
    assert fill.price == Decimal(89)  # opened below the limit
