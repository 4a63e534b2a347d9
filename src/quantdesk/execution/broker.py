"""The broker port: what every broker adapter (simulated, paper, IBKR, …) provides.

A broker serves one account. Requests (submit, cancel, modify) return at once; what the broker
does with them arrives as :mod:`order events <quantdesk.execution.events>` delivered to every
listener registered with :meth:`Broker.subscribe`, in the order they happened. Reads (open
orders, positions, account, executions) are what reconciliation compares with our store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from quantdesk.core.errors import QuantdeskError
from quantdesk.execution.events import Fill, OrderEvent
from quantdesk.execution.orders import Order

EventListener = Callable[[OrderEvent], None]
"""Receives each order event a broker emits."""


class BrokerError(QuantdeskError):
    """A broker refused a request outright (unknown order id, not connected, …)."""


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """A broker's view of one account at ``at``: cash and positions (shares by symbol)."""

    account: str
    at: datetime
    cash: Decimal
    positions: Mapping[str, Decimal] = field(default_factory=dict)


@runtime_checkable
class Broker(Protocol):
    """One account at one broker. Money and quantities are :class:`~decimal.Decimal`."""

    @property
    def account_id(self) -> str: ...

    def subscribe(self, listener: EventListener) -> None:
        """Deliver every later order event to ``listener``."""
        ...

    def submit(self, order: Order) -> None:
        """Send ``order`` (status SUBMITTED, client order id unique in this account)."""
        ...

    def cancel(self, client_order_id: str) -> None:
        """Ask to cancel a working order; the answer comes as an event."""
        ...

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        """Ask to change a working order (``None`` keeps a value); the answer is an event."""
        ...

    def open_orders(self) -> Sequence[Order]:
        """Orders the broker still works, as the broker sees them."""
        ...

    def positions(self) -> Mapping[str, Decimal]:
        """Shares held by symbol (negative when short), flat symbols omitted."""
        ...

    def account(self) -> AccountSnapshot: ...

    def executions_since(self, since: datetime | None = None) -> Sequence[Fill]:
        """Executions at or after ``since`` (all when ``None``), oldest first."""
        ...


__all__ = ["AccountSnapshot", "Broker", "BrokerError", "EventListener"]
