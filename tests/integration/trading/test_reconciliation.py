"""Reconciliation adopts what the broker did while we were down, once, and flags the rest."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.enums import Side
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.execution import OrderRequest
from quantdesk.services import Services
from quantdesk.services.trading_session import PortfolioSession, PriceBook


def _session(services: Services) -> PortfolioSession:
    trading = services.trading
    return PortfolioSession(
        services.database,
        services.clock,
        trading._record("core"),
        PriceBook(services.data, services.clock),
        trading.costs,
    )


def test_fills_done_while_we_were_down_are_adopted_exactly_once(trading_services: Services) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    # a process sends an order; the broker fills and saves its book; the process dies before
    # saving its own records
    crashed = _session(trading_services)
    crashed.manager.submit(OrderRequest("AAA", Side.BUY, 10))
    with trading_services.database.transaction() as connection:
        crashed.save_venue(connection)
    assert trading.list_orders("core") == []

    first = trading.reconcile("core")
    assert first.adopted_orders == ("paper-core-1",)
    assert first.adopted_fills == ("paper-core-x1",)
    assert first.clean
    second = trading.reconcile("core")
    assert (second.adopted_orders, second.adopted_fills) == ((), ())
    (position,) = trading.positions("core")
    assert position.quantity == Decimal(10)  # not 20: never double-counted
    with trading_services.database.read() as connection:
        assert len(orders_repo.executions(connection, "paper-core")) == 1
    # the next id does not reuse the adopted one
    from quantdesk.services.trading_types import OrderSpec

    (order,) = trading.submit_orders("core", [OrderSpec("BBB", Side.BUY, 1)])
    assert order.client_order_id == "paper-core-2"


def test_a_position_the_broker_does_not_hold_is_flagged_not_overwritten(
    trading_services: Services,
) -> None:
    from quantdesk.services.trading_types import OrderSpec

    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 10)])
    # someone sold at the venue without us (state edited at the broker)
    session = _session(trading_services)
    session.broker._holdings["AAA"] = Decimal(4)
    with trading_services.database.transaction() as connection:
        session.save_venue(connection)
    report = trading.reconcile("core")
    assert [(d.kind, d.subject, d.ours, d.broker) for d in report.discrepancies] == [
        ("position", "AAA", "10", "4")
    ]
    assert trading.positions("core")[0].quantity == Decimal(10)
