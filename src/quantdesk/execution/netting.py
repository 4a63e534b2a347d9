"""Per-strategy sub-ledgers sharing one account, netted into one broker order flow.

Each strategy has its own book in the :class:`~quantdesk.execution.ledger.Ledger` (cash
allocation, positions, lots, P&L) under the shared account. :meth:`NettingDesk.submit` takes a
batch of market intents and, per instrument:

1. **crosses** opposite intents internally at the instrument's latest price — no commission, no
   slippage, never sent to the broker: buyers get their crossed shares, sellers give theirs,
   each booked as an internal fill (execution id ``f"{cross_id}/{side}/{strategy}"``, the cross
   id taken from the account's client-order-id sequence so it is unique across restarts);
2. sends the **net** remainder (if any) as one broker order through the account's
   :class:`~quantdesk.execution.manager.OrderManager`, registered with the ledger as an
   :class:`~quantdesk.execution.attribution.Allocation` before the broker sees it;
3. so every broker fill of that order is **attributed** back to the strategies that wanted it
   by the ledger itself (:func:`~quantdesk.execution.attribution.split_fill`: pro rata to the
   shares each wanted, exact remainders), including fills adopted later by reconciliation.

Hence, always: the sum of the strategy books equals the broker's account (positions and cash,
given the same deposits), and every broker fill is fully attributed. A batch is checked as a
whole first (no shorting in a sub-ledger unless allowed; enough cash in each buyer's book at the
latest price plus slippage and one commission per intent, its sales in the batch counted at the
price less slippage and commission): one bad intent refuses the batch and nothing is booked or
sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Side
from quantdesk.execution.attribution import (
    CASH_QUANTUM,
    SHARE_QUANTUM,
    Allocation,
    pro_rata,
    split_fill,
)
from quantdesk.execution.costs import CostModel
from quantdesk.execution.events import ZERO, Fill, OrderEvent, OrderFilled
from quantdesk.execution.manager import OrderManager, OrderRequest, to_decimal
from quantdesk.execution.orders import Order, TimeInForce
from quantdesk.execution.risk import PreTradeRejected


@dataclass(frozen=True, slots=True)
class Intent:
    """A strategy wants to trade ``quantity`` (> 0) shares of ``symbol`` at market."""

    strategy: str
    symbol: str
    side: Side
    quantity: Decimal | float | int | str


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch did: internal crosses (fills booked, never sent) and broker orders sent."""

    crosses: tuple[Fill, ...]
    orders: tuple[Order, ...]
    allocations: tuple[Allocation, ...] = ()


class NettingDesk:
    """Strategies of one account: sub-ledgers, internal crosses, netted broker orders."""

    def __init__(
        self,
        manager: OrderManager,
        clock: Clock,
        *,
        prices: Callable[[str], Decimal | None],
        costs: CostModel,
        allow_short: bool = False,
    ) -> None:
        self.manager = manager
        self.account = manager.account
        self.ledger = manager.ledger
        self.clock = clock
        self.costs = costs
        self.allow_short = allow_short
        self._prices = prices
        self._allocations: dict[str, Allocation] = {}
        self._seen: set[str] = set()
        self.broker_fills: list[Fill] = []
        self.attributions: list[Fill] = []
        # the ledger attributes fills itself; this only keeps a record of what it did
        manager.broker.subscribe(self._on_event)

    def submit(self, intents: Iterable[Intent]) -> BatchResult:
        """Cross, net and send one batch (see the module docstring)."""
        batch = [self._parse(intent) for intent in intents]
        by_symbol: dict[str, list[tuple[str, Side, Decimal]]] = {}
        for strategy, symbol, side, quantity in batch:
            by_symbol.setdefault(symbol, []).append((strategy, side, quantity))
        self._check(by_symbol)
        crosses: list[Fill] = []
        orders: list[Order] = []
        allocations: list[Allocation] = []
        for symbol, wants in by_symbol.items():
            order = self._net(symbol, wants, crosses)
            if order is not None:
                orders.append(order)
                allocations.append(self._allocations[order.client_order_id])
        return BatchResult(tuple(crosses), tuple(orders), tuple(allocations))

    # ---- checks ------------------------------------------------------------------------------
    def _parse(self, intent: Intent) -> tuple[str, str, Side, Decimal]:
        what = f"intent of strategy {intent.strategy!r} for {intent.symbol!r}"
        quantity = to_decimal(intent.quantity, f"{what}: quantity")
        if not quantity > ZERO:
            raise PreTradeRejected(f"{what}: quantity must be > 0 shares, got {intent.quantity!r}")
        if self._prices(intent.symbol) is None:
            raise PreTradeRejected(f"{what}: unknown or unpriced symbol {intent.symbol!r}")
        return intent.strategy, intent.symbol, Side(intent.side), quantity

    def _check(self, by_symbol: dict[str, list[tuple[str, Side, Decimal]]]) -> None:
        spend: dict[str, Decimal] = {}
        sold: dict[tuple[str, str], Decimal] = {}
        for symbol, wants in by_symbol.items():
            price = self._prices(symbol)
            assert price is not None
            for strategy, side, quantity in wants:
                fill = self.costs.decimal_fill_price(side, price)
                commission = self.costs.decimal_commission(quantity, fill)
                if side is Side.SELL:
                    key = (strategy, symbol)
                    sold[key] = sold.get(key, ZERO) + quantity
                    # a sale in the batch pays for its buys (at the broker's worst price)
                    spend[strategy] = spend.get(strategy, ZERO) - (quantity * fill - commission)
                    continue
                spend[strategy] = spend.get(strategy, ZERO) + quantity * fill + commission
        if not self.allow_short:
            for (strategy, symbol), quantity in sold.items():
                held = self.ledger.position(self.account, strategy, symbol).quantity
                if quantity > held:
                    raise PreTradeRejected(
                        f"strategy {strategy!r} sells {quantity} {symbol} but holds {held} "
                        "(shorting is off); nothing was sent"
                    )
        for strategy, needed in spend.items():
            cash = self.ledger.cash(self.account, strategy)
            if needed > ZERO and needed > cash:
                raise PreTradeRejected(
                    f"strategy {strategy!r} needs {needed:.2f} cash for its buys, has "
                    f"{cash:.2f}; nothing was sent"
                )

    # ---- netting -----------------------------------------------------------------------------
    def _net(
        self, symbol: str, wants: Sequence[tuple[str, Side, Decimal]], crosses: list[Fill]
    ) -> Order | None:
        buys = _merge((s, q) for s, side, q in wants if side is Side.BUY)
        sells = _merge((s, q) for s, side, q in wants if side is Side.SELL)
        bought, sold = _total(buys), _total(sells)
        crossed = min(bought, sold)
        if crossed > ZERO:
            price = self._prices(symbol)
            assert price is not None
            cross_id = f"{self.manager.ids.next()}-cross"
            left_buys = self._cross(cross_id, symbol, Side.BUY, buys, crossed, price, crosses)
            left_sells = self._cross(cross_id, symbol, Side.SELL, sells, crossed, price, crosses)
        else:
            left_buys, left_sells = buys, sells
        side, rest = (Side.BUY, left_buys) if bought > sold else (Side.SELL, left_sells)
        rest = [(s, q) for s, q in rest if q > ZERO]
        total = _total(rest)
        if total == ZERO:
            return None
        request = OrderRequest(symbol, side, total, time_in_force=TimeInForce.GTC, tag="netted")

        def register(order: Order) -> None:
            allocation = Allocation(order.client_order_id, tuple(rest))
            self._allocations[order.client_order_id] = allocation
            self.ledger.allocate(self.account, allocation)

        return self.manager.submit(request, before_send=register)

    def _cross(
        self,
        cross_id: str,
        symbol: str,
        side: Side,
        wants: list[tuple[str, Decimal]],
        crossed: Decimal,
        price: Decimal,
        crosses: list[Fill],
    ) -> list[tuple[str, Decimal]]:
        """Book ``crossed`` shares of ``side`` among ``wants`` pro rata; returns what is left."""
        parts = pro_rata(crossed, wants, SHARE_QUANTUM)
        now = self.clock.now()
        left = []
        for (strategy, wanted), part in zip(wants, parts, strict=True):
            if part > ZERO:
                fill = cross_fill(cross_id, self.account, strategy, symbol, side, part, price, now)
                self.ledger.book(fill)
                crosses.append(fill)
            left.append((strategy, wanted - part))
        return left

    def _on_event(self, event: OrderEvent) -> None:
        if not isinstance(event, OrderFilled):
            return
        allocation = self._allocations.get(str(event.client_order_id))
        if allocation is None or event.fill.fill_id in self._seen:
            return  # not netted here, or a re-delivered execution
        self._seen.add(event.fill.fill_id)
        self.broker_fills.append(event.fill)
        self.attributions.extend(split_fill(event.fill, allocation))


def cross_fill(
    cross_id: str,
    account: str,
    strategy: str,
    symbol: str,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    at: datetime,
) -> Fill:
    """One book's side of internal cross ``cross_id`` (``f"{seq}-cross"`` from the account's
    client-order-id sequence): ``quantity`` shares at ``price``, no commission, never sent."""
    return Fill(
        fill_id=f"{cross_id}/{side}/{strategy}",
        client_order_id=cross_id,
        symbol=symbol,
        side=side,
        quantity=quantity,
        price=price,
        commission=ZERO,
        filled_at=at,
        account=account,
        strategy=strategy,
    )


def _merge(wants: Iterable[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """One entry per strategy (first-seen order), quantities summed."""
    merged: dict[str, Decimal] = {}
    for strategy, quantity in wants:
        merged[strategy] = merged.get(strategy, ZERO) + quantity
    return list(merged.items())


def _total(wants: Sequence[tuple[str, Decimal]]) -> Decimal:
    return sum((q for _, q in wants), ZERO)


__all__ = ["CASH_QUANTUM", "SHARE_QUANTUM", "BatchResult", "Intent", "NettingDesk", "cross_fill"]
