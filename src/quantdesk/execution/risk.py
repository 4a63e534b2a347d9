"""The pre-trade risk hook: every order passes it before it reaches a broker.

A check is any callable object with ``check(order, view)`` that raises
:class:`PreTradeRejected` (one line naming the order, symbol and field) or returns ``None``.
:class:`BasicRiskChecks` is today's set: the instrument is known and priced, the order's prices
are sane, no short selling unless allowed, enough cash (commission and slippage included, after
the cash already reserved by open buys) and a minimum trade size. The risk engine plugs further
checks in through :class:`RiskChecks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from quantdesk.core.enums import Side
from quantdesk.execution.costs import CostModel
from quantdesk.execution.events import ZERO, OrderError
from quantdesk.execution.orders import Order, OrderType


class PreTradeRejected(OrderError):  # noqa: N818 - reads as the outcome, like InvalidTransition
    """An order failed a pre-trade check; nothing was sent or written."""


class RiskView(Protocol):
    """What a pre-trade check may read about the account the order trades in."""

    def price(self, symbol: str) -> Decimal | None:
        """Latest price of ``symbol``; ``None`` when the instrument is unknown or unpriced."""
        ...

    def available_cash(self, strategy: str) -> Decimal:
        """Cash of the strategy's book minus what its open buy orders reserve."""
        ...

    def available_position(self, strategy: str, symbol: str) -> Decimal:
        """Shares held in the strategy's book minus what its open sell orders reserve."""
        ...


class PreTradeCheck(Protocol):
    def check(self, order: Order, view: RiskView) -> None: ...


@dataclass(frozen=True, slots=True)
class RiskChecks:
    """Several checks run in order; the first refusal wins."""

    checks: Sequence[PreTradeCheck]

    def check(self, order: Order, view: RiskView) -> None:
        for check in self.checks:
            check.check(order, view)


@dataclass(frozen=True, slots=True)
class BasicRiskChecks:
    """Known instrument, no shorting unless ``allow_short``, enough cash, minimum trade value.

    ``min_trade_value`` is in currency (orders below it are refused); ``costs`` prices the
    commission and slippage a buy must be able to pay.
    """

    costs: CostModel = field(default_factory=CostModel)
    allow_short: bool = False
    min_trade_value: Decimal = ZERO

    def check(self, order: Order, view: RiskView) -> None:
        name = f"order {order.client_order_id!r} ({order.side} {order.quantity} {order.symbol})"
        price = view.price(order.symbol)
        if price is None:
            raise PreTradeRejected(f"{name}: unknown or unpriced symbol {order.symbol!r}")
        reference = order.limit_price if order.order_type is OrderType.LIMIT else None
        reference = reference or order.stop_price or price
        notional = order.quantity * reference
        if notional < self.min_trade_value:
            raise PreTradeRejected(
                f"{name}: notional {notional:.2f} is below the minimum trade value "
                f"{self.min_trade_value}"
            )
        if order.side is Side.SELL:
            held = view.available_position(order.strategy, order.symbol)
            if not self.allow_short and order.quantity > held:
                raise PreTradeRejected(
                    f"{name}: sells more than the {held} shares held (shorting is off)"
                )
            return
        fill = self.costs.decimal_fill_price(Side.BUY, reference)
        commission = self.costs.decimal_commission(order.quantity, fill)
        needed = order.quantity * fill + commission
        cash = view.available_cash(order.strategy)
        if needed > cash:
            raise PreTradeRejected(
                f"{name}: needs {needed:.2f} cash (commission and slippage included), "
                f"{cash:.2f} available"
            )


__all__ = ["BasicRiskChecks", "PreTradeCheck", "PreTradeRejected", "RiskChecks", "RiskView"]
