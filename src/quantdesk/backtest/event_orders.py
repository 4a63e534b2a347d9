"""The event engine's order manager.

:class:`BacktestOrders` is the engine's order intake: it names the order (deterministic client
order ids from the strategy name), builds the :class:`~quantdesk.execution.orders.Order`, records
it and hands it to the :class:`~quantdesk.backtest.event_broker.SimulatedBroker`; it also sends
the attached stop-loss / take-profit exits the broker finds hit.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from quantdesk.backtest.event_broker import SimulatedBroker, Working, exact
from quantdesk.backtest.event_ledger import ArrayLedger
from quantdesk.backtest.event_recorder import Recorder
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.core.errors import NotFoundError
from quantdesk.core.ids import ClientOrderIds
from quantdesk.execution.costs import CostModel
from quantdesk.execution.orders import Order, OrderType, TimeInForce


class BacktestOrders:
    """Order intake of one event-driven run (quantities in shares, prices in currency)."""

    def __init__(
        self,
        broker: SimulatedBroker,
        ledger: ArrayLedger,
        recorder: Recorder,
        clock: SimulatedClock,
        strategy_name: str,
        costs: CostModel,
    ) -> None:
        self.broker = broker
        self.ledger = ledger
        self.recorder = recorder
        self.clock = clock
        self.costs = costs
        self.strategy = strategy_name
        self.ids = ClientOrderIds(strategy_name)
        self.columns = {symbol: j for j, symbol in enumerate(broker.symbols)}

    def column(self, symbol: str) -> int:
        try:
            return self.columns[symbol]
        except KeyError:
            raise NotFoundError(f"symbol {symbol!r} is not in the backtest panel") from None

    def submit(
        self,
        side: Side,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> str:
        j = self.column(symbol)
        i = self.broker.i
        order_type = (
            OrderType.LIMIT
            if limit_price is not None
            else OrderType.STOP
            if stop_price is not None
            else OrderType.MARKET
        )
        order = Order(
            client_order_id=self.ids.next(),
            symbol=symbol,
            side=side,
            quantity=exact(quantity),
            order_type=order_type,
            time_in_force=TimeInForce(time_in_force),
            limit_price=_decimal(limit_price),
            stop_price=_decimal(stop_price),
            stop_loss=_decimal(stop_loss),
            take_profit=_decimal(take_profit),
            strategy=self.strategy,
            tag=tag,
            created_at=self.clock.now(),
        ).submit()
        level = limit_price if limit_price is not None else stop_price
        buy = side is Side.BUY
        item = Working(
            order,
            j,
            buy,
            float(quantity),
            np.nan if level is None else level,
            i,
            self.ledger.equity(i),
        )
        decision = float(self.ledger.marks[i, j]) if level is None else float(level)
        self.recorder.order_sent(
            order, (i, j, buy, float(quantity), decision, order.client_order_id)
        )
        has_exits = stop_loss is not None or take_profit is not None
        self.broker.submit(item, (stop_loss, take_profit) if has_exits else None)
        return order.client_order_id

    def order_delta(self, symbol: str, delta: float, price: float, closes: bool) -> str | None:
        """Trade ``delta`` shares unless it is zero or under the cost model's thresholds (a
        full close is never skipped)."""
        if delta == 0.0:
            return None
        if not closes and self.costs.is_below_threshold(
            delta * price, self.ledger.equity(self.broker.i)
        ):
            return None
        side = Side.BUY if delta > 0 else Side.SELL
        return self.submit(side, symbol, abs(delta))

    def check_exits(self) -> None:
        """Send and fill the attached stop-loss / take-profit exits this bar reaches."""
        broker = self.broker
        for j in list(broker.exits):
            hit = broker.exit_hit(j)
            if hit is None:
                continue
            level, is_stop = hit
            held = self.ledger.positions[j]
            self.submit(
                Side.SELL if held > 0 else Side.BUY,
                broker.symbols[j],
                abs(held),
                limit_price=None if is_stop else level,
                stop_price=level if is_stop else None,
                tag="stop_loss" if is_stop else "take_profit",
            )
            broker.execute(broker.new.pop(), level, slipped=is_stop)
            del broker.exits[j]


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else exact(value)


__all__ = ["BacktestOrders"]
