"""Order events: an order's state is the fold of its events; illegal ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quantdesk.core.enums import Side
from quantdesk.execution import (
    Fill,
    InvalidTransition,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderError,
    OrderExpired,
    OrderFilled,
    OrderModifyRequested,
    OrderRejected,
    OrderReplaced,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    replay,
)

NOW = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
S = OrderStatus


def new(quantity: str = "10") -> Order:
    return Order(
        "acct-1", "AAPL", Side.BUY, Decimal(quantity), OrderType.LIMIT, limit_price=Decimal(100)
    )


def filled(execution: str, quantity: str, price: str = "99.5") -> OrderFilled:
    fill = Fill(
        execution, "acct-1", "AAPL", Side.BUY, Decimal(quantity), Decimal(price), Decimal(1), NOW
    )
    return OrderFilled("acct-1", NOW, fill)


def test_a_full_lifecycle_replays_to_the_same_state_as_applying_one_by_one() -> None:
    events = [
        OrderSubmitted("acct-1", NOW),
        OrderAccepted("acct-1", NOW, venue_order_id="V-77"),
        filled("x1", "4"),
        OrderModifyRequested("acct-1", NOW, limit_price=Decimal(101)),
        OrderReplaced("acct-1", NOW, limit_price=Decimal(101)),
        filled("x2", "6", "100.5"),
    ]
    order = new()
    statuses = []
    for event in events:
        order = order.apply(event)
        statuses.append(order.status)
    assert statuses == [
        S.SUBMITTED,
        S.ACCEPTED,
        S.PARTIALLY_FILLED,
        S.PENDING_REPLACE,
        S.PARTIALLY_FILLED,
        S.FILLED,
    ]
    assert order.venue_order_id == "V-77"
    assert order.limit_price == Decimal(101)
    assert order.average_fill_price == (Decimal(4) * Decimal("99.5") + 6 * Decimal("100.5")) / 10
    assert replay(new(), events) == order


def test_a_redelivered_execution_is_ignored() -> None:
    order = replay(new(), [OrderSubmitted("acct-1", NOW), filled("x1", "4")])
    again = order.apply(filled("x1", "4"))
    assert again == order
    assert again.filled_quantity == Decimal(4)


def test_cancel_goes_through_pending_cancel_and_a_refused_cancel_keeps_it_working() -> None:
    order = replay(new(), [OrderSubmitted("acct-1", NOW), OrderAccepted("acct-1", NOW)])
    pending = order.apply(OrderCancelRequested("acct-1", NOW))
    assert pending.status is S.PENDING_CANCEL
    assert pending.status.is_working
    assert pending.apply(OrderCancelRejected("acct-1", NOW, "too late")).status is S.ACCEPTED
    assert pending.apply(OrderCancelled("acct-1", NOW)).status is S.CANCELLED


@pytest.mark.parametrize(
    "event",
    [
        OrderAccepted("acct-1", NOW),
        OrderExpired("acct-1", NOW),
        OrderReplaced("acct-1", NOW, quantity=Decimal(5)),
        OrderRejected("acct-1", NOW, "late"),
    ],
)
def test_events_after_a_fill_completes_the_order_are_rejected(event: object) -> None:
    done = replay(new(), [OrderSubmitted("acct-1", NOW), filled("x1", "10")])
    with pytest.raises(InvalidTransition, match="acct-1"):
        done.apply(event)  # type: ignore[arg-type]


def test_an_event_for_another_order_is_refused() -> None:
    with pytest.raises(OrderError, match="'acct-2' applied to order 'acct-1'"):
        new().apply(OrderSubmitted("acct-2", NOW))


def test_a_replace_below_the_filled_quantity_is_refused() -> None:
    order = replay(
        new(),
        [
            OrderSubmitted("acct-1", NOW),
            filled("x1", "6"),
            OrderModifyRequested("acct-1", NOW, quantity=Decimal(4)),
        ],
    )
    with pytest.raises(OrderError, match="below the 6 already filled"):
        order.apply(OrderReplaced("acct-1", NOW, quantity=Decimal(4)))


def test_nan_quantity_and_prices_are_refused_naming_the_field() -> None:
    with pytest.raises(OrderError, match="quantity must be > 0"):
        Order("a-1", "AAPL", Side.BUY, Decimal("NaN"))
    with pytest.raises(OrderError, match="limit_price must be > 0"):
        Order("a-1", "AAPL", Side.BUY, Decimal(1), OrderType.LIMIT, limit_price=Decimal("NaN"))
