"""Execution: orders, their events and state machine, costs, the broker port, the order manager,
the pre-trade risk hook and the Decimal ledger. Pure domain: no numba, no pandas, no database,
and never an import of :mod:`quantdesk.backtest` (a layer test enforces it).

Public API (stable; extended, never renamed):

* ids and side: :mod:`quantdesk.core.ids` (``AccountId``, ``StrategyId``, ``InstrumentId``,
  ``ClientOrderId``, ``ClientOrderIds``) and :class:`quantdesk.core.enums.Side`;
* orders (:mod:`.orders`): :class:`Order`, :class:`OrderStatus`, :data:`ORDER_TRANSITIONS`,
  :class:`OrderType`, :class:`TimeInForce`, :class:`InvalidTransition`, :func:`replay`;
* events (:mod:`.events`): :class:`Fill` and the order events (``OrderSubmitted``,
  ``OrderAccepted``, ``OrderRejected``, ``OrderFilled``, ``OrderCancelRequested``,
  ``OrderCancelRejected``, ``OrderCancelled``, ``OrderExpired``, ``OrderModifyRequested``,
  ``OrderModifyRejected``, ``OrderReplaced``), each with a stored ``kind`` (:class:`EventKind`);
* costs (:mod:`.costs`): :class:`CostModel`, :class:`FillTiming`;
* fill rules on a bar (:mod:`.matching`);
* the broker port (:mod:`.broker`): :class:`Broker`, :class:`AccountSnapshot`;
* the order manager (:mod:`.manager`): :class:`OrderManager`, :class:`OrderRequest`;
* the pre-trade hook (:mod:`.risk`): :class:`PreTradeCheck`, :class:`BasicRiskChecks`,
  :class:`RiskChecks`, :class:`PreTradeRejected`;
* the ledger (:mod:`.ledger`): :class:`Ledger`, :class:`Position`, :class:`Lot`;
* targets → trades (:mod:`.targets`): the one rule the backtest and the live trade list share;
* per-strategy sub-ledgers (:mod:`.netting`) and the paper broker (:mod:`.brokers.paper`).

Names load on first use (PEP 562): the backtest's cost model does not import the order
manager, the ledger and the broker port with it (issue 11).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.core.enums import (
        Side,
    )
    from quantdesk.execution.broker import (
        AccountSnapshot,
        Broker,
        BrokerError,
        EventListener,
    )
    from quantdesk.execution.costs import (
        CostModel,
        FillTiming,
    )
    from quantdesk.execution.events import (
        EventKind,
        Fill,
        OrderAccepted,
        OrderCancelled,
        OrderCancelRejected,
        OrderCancelRequested,
        OrderError,
        OrderEvent,
        OrderExpired,
        OrderFilled,
        OrderModifyRejected,
        OrderModifyRequested,
        OrderRejected,
        OrderReplaced,
        OrderSubmitted,
    )
    from quantdesk.execution.ledger import (
        Ledger,
        LedgerError,
        Lot,
        Position,
    )
    from quantdesk.execution.manager import (
        OrderManager,
        OrderRequest,
        to_decimal,
    )
    from quantdesk.execution.orders import (
        ORDER_TRANSITIONS,
        InvalidTransition,
        Order,
        OrderStatus,
        OrderType,
        TimeInForce,
        replay,
    )
    from quantdesk.execution.risk import (
        BasicRiskChecks,
        PreTradeCheck,
        PreTradeRejected,
        RiskChecks,
    )

_EXPORTS = {
    "AccountSnapshot": "quantdesk.execution.broker",
    "BasicRiskChecks": "quantdesk.execution.risk",
    "Broker": "quantdesk.execution.broker",
    "BrokerError": "quantdesk.execution.broker",
    "CostModel": "quantdesk.execution.costs",
    "EventKind": "quantdesk.execution.events",
    "EventListener": "quantdesk.execution.broker",
    "Fill": "quantdesk.execution.events",
    "FillTiming": "quantdesk.execution.costs",
    "InvalidTransition": "quantdesk.execution.orders",
    "Ledger": "quantdesk.execution.ledger",
    "LedgerError": "quantdesk.execution.ledger",
    "Lot": "quantdesk.execution.ledger",
    "ORDER_TRANSITIONS": "quantdesk.execution.orders",
    "Order": "quantdesk.execution.orders",
    "OrderAccepted": "quantdesk.execution.events",
    "OrderCancelRejected": "quantdesk.execution.events",
    "OrderCancelRequested": "quantdesk.execution.events",
    "OrderCancelled": "quantdesk.execution.events",
    "OrderError": "quantdesk.execution.events",
    "OrderEvent": "quantdesk.execution.events",
    "OrderExpired": "quantdesk.execution.events",
    "OrderFilled": "quantdesk.execution.events",
    "OrderManager": "quantdesk.execution.manager",
    "OrderModifyRejected": "quantdesk.execution.events",
    "OrderModifyRequested": "quantdesk.execution.events",
    "OrderRejected": "quantdesk.execution.events",
    "OrderReplaced": "quantdesk.execution.events",
    "OrderRequest": "quantdesk.execution.manager",
    "OrderStatus": "quantdesk.execution.orders",
    "OrderSubmitted": "quantdesk.execution.events",
    "OrderType": "quantdesk.execution.orders",
    "Position": "quantdesk.execution.ledger",
    "PreTradeCheck": "quantdesk.execution.risk",
    "PreTradeRejected": "quantdesk.execution.risk",
    "RiskChecks": "quantdesk.execution.risk",
    "Side": "quantdesk.core.enums",
    "TimeInForce": "quantdesk.execution.orders",
    "replay": "quantdesk.execution.orders",
    "to_decimal": "quantdesk.execution.manager",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quantdesk.execution' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ORDER_TRANSITIONS",
    "AccountSnapshot",
    "BasicRiskChecks",
    "Broker",
    "BrokerError",
    "CostModel",
    "EventKind",
    "EventListener",
    "Fill",
    "FillTiming",
    "InvalidTransition",
    "Ledger",
    "LedgerError",
    "Lot",
    "Order",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCancelRequested",
    "OrderCancelled",
    "OrderError",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderManager",
    "OrderModifyRejected",
    "OrderModifyRequested",
    "OrderRejected",
    "OrderReplaced",
    "OrderRequest",
    "OrderStatus",
    "OrderSubmitted",
    "OrderType",
    "Position",
    "PreTradeCheck",
    "PreTradeRejected",
    "RiskChecks",
    "Side",
    "TimeInForce",
    "replay",
    "to_decimal",
]
