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
"""

from quantdesk.core.enums import Side
from quantdesk.execution.broker import AccountSnapshot, Broker, BrokerError, EventListener
from quantdesk.execution.costs import CostModel, FillTiming
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
from quantdesk.execution.ledger import Ledger, LedgerError, Lot, Position
from quantdesk.execution.manager import OrderManager, OrderRequest, to_decimal
from quantdesk.execution.orders import (
    ORDER_TRANSITIONS,
    InvalidTransition,
    Order,
    OrderStatus,
    OrderType,
    TimeInForce,
    replay,
)
from quantdesk.execution.risk import BasicRiskChecks, PreTradeCheck, PreTradeRejected, RiskChecks

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
