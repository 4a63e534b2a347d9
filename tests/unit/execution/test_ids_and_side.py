"""Typed ids, deterministic client order ids and the one Side enum."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quantdesk.backtest import costs as backtest_costs
from quantdesk.backtest import orders as backtest_orders
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.core.ids import ClientOrderIds, InvalidIdError, account_id, client_order_id
from quantdesk.execution import Order, costs
from quantdesk.execution.broker import BrokerError
from quantdesk.execution.brokers.paper import PaperBroker
from quantdesk.portfolio.rebalance import TradeSide


def test_there_is_one_side_enum() -> None:
    assert backtest_orders.OrderSide is Side
    assert backtest_costs.Side is Side
    assert costs.Side is Side
    assert TradeSide is Side
    assert Side.BUY.sign == 1
    assert Side.SELL.opposite is Side.BUY


def test_client_order_ids_are_derived_from_account_and_a_persisted_sequence() -> None:
    account = account_id("paper-main")
    ids = ClientOrderIds(account)
    issued = [ids.next() for _ in range(3)]
    assert issued == ["paper-main-1", "paper-main-2", "paper-main-3"]
    # a restart resumes from the stored sequence and never reuses an id
    resumed = ClientOrderIds(account, last=ids.last)
    assert resumed.next() == client_order_id(account, 4)


@pytest.mark.parametrize("bad", ["", " ", "a b"])
def test_bad_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdError, match="account id must be a non-empty string"):
        account_id(bad)


def test_the_paper_broker_refuses_a_client_order_id_it_has_seen() -> None:
    clock = SimulatedClock(datetime(2024, 1, 8, 17, tzinfo=UTC))
    broker = PaperBroker("acct", clock, cash=Decimal(1000))
    order = Order("acct-1", "AAPL", Side.BUY, Decimal(1)).submit()
    broker.submit(order)
    with pytest.raises(BrokerError, match="duplicate order id 'acct-1'"):
        broker.submit(order)
