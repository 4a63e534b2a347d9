"""Order model: the status state machine, fills, and the bar-level fill rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import product
from typing import Any

import pytest

from quantdesk.core.ids import ClientOrderIds
from quantdesk.execution.events import Fill, OrderError
from quantdesk.execution.matching import (
    ExitReason,
    attached_exit,
    participation_cap,
    trigger_price,
)
from quantdesk.execution.orders import (
    ORDER_TRANSITIONS,
    InvalidTransition,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
)

NOW = datetime(2024, 1, 2, 15, 30, tzinfo=UTC)
S = OrderStatus
# written out by hand from the spec: new → submitted → accepted → partially filled → filled;
# cancel and modify go through pending states; rejected / cancelled / expired end an order
EXPECTED_MOVES = {
    (S.NEW, S.SUBMITTED), (S.NEW, S.CANCELLED), (S.NEW, S.REJECTED),
    (S.SUBMITTED, S.ACCEPTED), (S.SUBMITTED, S.PARTIALLY_FILLED), (S.SUBMITTED, S.FILLED),
    (S.SUBMITTED, S.PENDING_CANCEL), (S.SUBMITTED, S.CANCELLED), (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.EXPIRED),
    (S.ACCEPTED, S.PARTIALLY_FILLED), (S.ACCEPTED, S.FILLED), (S.ACCEPTED, S.PENDING_CANCEL),
    (S.ACCEPTED, S.PENDING_REPLACE), (S.ACCEPTED, S.CANCELLED), (S.ACCEPTED, S.EXPIRED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED), (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.PENDING_CANCEL), (S.PARTIALLY_FILLED, S.PENDING_REPLACE),
    (S.PARTIALLY_FILLED, S.CANCELLED), (S.PARTIALLY_FILLED, S.EXPIRED),
    (S.PENDING_CANCEL, S.ACCEPTED), (S.PENDING_CANCEL, S.PARTIALLY_FILLED),
    (S.PENDING_CANCEL, S.FILLED), (S.PENDING_CANCEL, S.CANCELLED), (S.PENDING_CANCEL, S.EXPIRED),
    (S.PENDING_REPLACE, S.ACCEPTED), (S.PENDING_REPLACE, S.PARTIALLY_FILLED),
    (S.PENDING_REPLACE, S.FILLED), (S.PENDING_REPLACE, S.PENDING_CANCEL),
    (S.PENDING_REPLACE, S.CANCELLED), (S.PENDING_REPLACE, S.EXPIRED),
}  # fmt: skip


def order(quantity: str = "10", **kwargs: Any) -> Order:
    return Order("test-1", "AAPL", OrderSide.BUY, Decimal(quantity), **kwargs)


def fill(fill_id: str, quantity: str, price: str) -> Fill:
    return Fill(
        fill_id, "test-1", "AAPL", OrderSide.BUY, Decimal(quantity), Decimal(price), Decimal(1), NOW
    )


@pytest.mark.parametrize(("current", "target"), list(product(OrderStatus, OrderStatus)))
def test_transition_table_allows_exactly_the_specified_moves(
    current: OrderStatus, target: OrderStatus
) -> None:
    start = Order("test-1", "AAPL", OrderSide.BUY, Decimal(1), status=current)
    if (current, target) in EXPECTED_MOVES:
        assert start.transition(target).status is target
        assert start.status is current  # the original value is untouched
    else:
        with pytest.raises(InvalidTransition, match="test-1"):
            start.transition(target)


def test_terminal_statuses_are_the_ones_without_exits() -> None:
    terminal = {s for s in OrderStatus if s.is_terminal}
    assert terminal == {S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED}
    assert all(not ORDER_TRANSITIONS[s] for s in terminal)


def test_filled_order_cannot_be_cancelled_and_the_error_says_why() -> None:
    done = order().submit().apply_fill(fill("f1", "10", "100"))
    assert done.status is S.FILLED
    with pytest.raises(InvalidTransition, match="cannot go from filled to cancelled"):
        done.cancel()


def test_partial_fills_average_their_prices_and_duplicates_are_ignored() -> None:
    working = order().submit()
    half = working.apply_fill(fill("f1", "4", "100"))
    assert half.status is S.PARTIALLY_FILLED
    assert half.remaining_quantity == Decimal(6)
    assert half.apply_fill(fill("f1", "4", "100")) is half  # idempotent
    done = half.apply_fill(fill("f2", "6", "110"))
    assert done.status is S.FILLED
    assert done.average_fill_price == Decimal(106)  # (4·100 + 6·110) / 10
    with pytest.raises(OrderError, match="exceed"):
        half.apply_fill(fill("f3", "7", "100"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order_type": OrderType.LIMIT}, "limit_price"),
        ({"order_type": OrderType.STOP}, "stop_price"),
        ({"limit_price": Decimal(5)}, "limit_price"),
        ({"stop_loss": Decimal(-1)}, "stop_loss"),
    ],
)
def test_malformed_orders_are_refused_naming_the_field(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(OrderError, match=message):
        order(**kwargs)


def test_non_positive_quantity_is_refused() -> None:
    with pytest.raises(OrderError, match="quantity must be > 0"):
        order("0")


def test_client_order_ids_are_deterministic_per_prefix() -> None:
    first, second = ClientOrderIds("sma"), ClientOrderIds("sma")
    assert [first.next() for _ in range(3)] == ["sma-1", "sma-2", "sma-3"]
    assert second.next() == "sma-1"


def test_fill_cash_change_includes_commission() -> None:
    buy = fill("f1", "2", "50")
    assert buy.notional == Decimal(100)
    assert buy.cash_change == Decimal(-101)


@pytest.mark.parametrize(
    ("side", "kind", "level", "bar", "expected"),
    [
        # buy limit 99: touched inside the bar → the limit; gap below → the (better) open
        (OrderSide.BUY, OrderType.LIMIT, 99.0, (100.0, 101.0, 98.0), 99.0),
        (OrderSide.BUY, OrderType.LIMIT, 99.0, (97.0, 98.0, 96.0), 97.0),
        (OrderSide.BUY, OrderType.LIMIT, 99.0, (100.0, 101.0, 99.5), None),
        (OrderSide.SELL, OrderType.LIMIT, 101.0, (100.0, 102.0, 99.0), 101.0),
        (OrderSide.SELL, OrderType.LIMIT, 101.0, (103.0, 104.0, 102.0), 103.0),
        # stops: triggered at the level, or at the (worse) open after a gap through it
        (OrderSide.BUY, OrderType.STOP, 101.0, (100.0, 102.0, 99.0), 101.0),
        (OrderSide.BUY, OrderType.STOP, 101.0, (103.0, 104.0, 102.0), 103.0),
        (OrderSide.SELL, OrderType.STOP, 99.0, (100.0, 101.0, 98.0), 99.0),
        (OrderSide.SELL, OrderType.STOP, 99.0, (97.0, 98.0, 96.0), 97.0),
        (OrderSide.SELL, OrderType.STOP, 99.0, (100.0, 101.0, 99.5), None),
    ],
)
def test_limit_and_stop_prices_on_a_bar(
    side: OrderSide,
    kind: OrderType,
    level: float,
    bar: tuple[float, float, float],
    expected: float | None,
) -> None:
    open_, high, low = bar
    assert trigger_price(side, kind, level, open_=open_, high=high, low=low) == expected


def test_stop_loss_wins_when_both_exits_are_inside_one_bar() -> None:
    hit = attached_exit(True, 95.0, 105.0, open_=100.0, high=106.0, low=94.0)
    assert hit == (95.0, ExitReason.STOP_LOSS)
    short = attached_exit(False, 105.0, 95.0, open_=100.0, high=106.0, low=94.0)
    assert short == (105.0, ExitReason.STOP_LOSS)


def test_exits_gap_at_the_open_and_take_profit_alone() -> None:
    assert attached_exit(True, 95.0, 105.0, open_=90.0, high=96.0, low=89.0) == (
        90.0,
        ExitReason.STOP_LOSS,
    )
    assert attached_exit(True, 95.0, 105.0, open_=100.0, high=106.0, low=99.0) == (
        105.0,
        ExitReason.TAKE_PROFIT,
    )
    assert attached_exit(True, 95.0, 105.0, open_=100.0, high=104.0, low=96.0) is None


def test_participation_cap_limits_fills_to_a_fraction_of_volume() -> None:
    assert participation_cap(500.0, 1_000.0, None) == 500.0
    assert participation_cap(500.0, 1_000.0, 0.1) == 100.0
    with pytest.raises(OrderError, match="participation"):
        participation_cap(500.0, 1_000.0, 1.5)
