"""Per-strategy sub-ledgers sharing one account, netted into one broker order flow.

Each strategy has its own book in the :class:`~quantdesk.execution.ledger.Ledger` (cash
allocation, positions, lots, P&L) under the shared account. :meth:`NettingDesk.submit` takes a
batch of market intents and, per instrument:

1. **crosses** opposite intents internally at the instrument's latest price — no commission, no
   slippage, never sent to the broker: buyers get their crossed shares, sellers give theirs,
   each booked as an internal fill;
2. sends the **net** remainder (if any) as one broker order through the account's
   :class:`~quantdesk.execution.manager.OrderManager`;
3. **attributes** every broker fill of that order back to the strategies that wanted it, pro
   rata to the shares each still wanted (commission likewise). Allocations are rounded to
   :data:`SHARE_QUANTUM` and the last strategy takes the remainder, so the parts always sum
   exactly to the fill.

Hence, always: the sum of the strategy books equals the broker's account (positions and cash,
given the same deposits), and every broker fill is fully attributed. A batch is checked as a
whole first (no shorting in a sub-ledger unless allowed; enough cash in each buyer's book at the
latest price plus slippage and one commission): one bad intent refuses the batch and nothing is
booked or sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Side
from quantdesk.execution.costs import CostModel
from quantdesk.execution.events import ZERO, Fill, OrderEvent, OrderFilled
from quantdesk.execution.ledger import Ledger
from quantdesk.execution.manager import OrderManager, OrderRequest, to_decimal
from quantdesk.execution.orders import Order, TimeInForce
from quantdesk.execution.risk import PreTradeRejected

SHARE_QUANTUM = Decimal("1e-9")
"""Attributed share quantities are multiples of this (the remainder goes to the last strategy)."""
CASH_QUANTUM = Decimal("1e-10")
"""Attributed commissions are multiples of this (the remainder goes to the last strategy)."""


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


@dataclass(slots=True)
class _Parent:
    """A broker order and the shares each strategy still wants from it."""

    wants: list[tuple[str, Decimal]]
    total: Decimal
    attributed: list[Fill] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


class NettingDesk:
    """Strategies of one account: sub-ledgers, internal crosses, netted broker orders."""

    def __init__(
        self,
        manager: OrderManager,
        ledger: Ledger,
        clock: Clock,
        *,
        prices: Callable[[str], Decimal | None],
        costs: CostModel,
        allow_short: bool = False,
    ) -> None:
        self.manager = manager
        self.account = manager.account
        self.ledger = ledger
        self.clock = clock
        self.costs = costs
        self.allow_short = allow_short
        self._prices = prices
        self._parents: dict[str, _Parent] = {}
        self._crosses = 0
        self.broker_fills: list[Fill] = []
        self.attributions: list[Fill] = []
        # registered after the manager, so the order already holds the fill when we see it
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
        for symbol, wants in by_symbol.items():
            order = self._net(symbol, wants, crosses)
            if order is not None:
                orders.append(order)
        return BatchResult(tuple(crosses), tuple(orders))

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
                if side is Side.SELL:
                    key = (strategy, symbol)
                    sold[key] = sold.get(key, ZERO) + quantity
                    continue
                fill = self.costs.decimal_fill_price(Side.BUY, price)
                cost = quantity * fill + self.costs.decimal_commission(quantity, fill)
                spend[strategy] = spend.get(strategy, ZERO) + cost
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
            if needed > cash:
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
            self._crosses += 1
            left_buys = self._cross(symbol, Side.BUY, buys, crossed, price, crosses)
            left_sells = self._cross(symbol, Side.SELL, sells, crossed, price, crosses)
        else:
            left_buys, left_sells = buys, sells
        side, rest = (Side.BUY, left_buys) if bought > sold else (Side.SELL, left_sells)
        rest = [(s, q) for s, q in rest if q > ZERO]
        total = _total(rest)
        if total == ZERO:
            return None
        request = OrderRequest(symbol, side, total, time_in_force=TimeInForce.GTC, tag="netted")

        def register(order: Order) -> None:
            self._parents[order.client_order_id] = _Parent(rest, total)

        return self.manager.submit(request, before_send=register)

    def _cross(
        self,
        symbol: str,
        side: Side,
        wants: list[tuple[str, Decimal]],
        crossed: Decimal,
        price: Decimal,
        crosses: list[Fill],
    ) -> list[tuple[str, Decimal]]:
        """Book ``crossed`` shares of ``side`` among ``wants`` pro rata; returns what is left."""
        parts = _pro_rata(crossed, wants, SHARE_QUANTUM)
        now = self.clock.now()
        left = []
        for (strategy, wanted), part in zip(wants, parts, strict=True):
            if part > ZERO:
                fill = Fill(
                    fill_id=f"{self.account}-cross{self._crosses}-{side}-{strategy}",
                    client_order_id=f"{self.account}-cross{self._crosses}",
                    symbol=symbol,
                    side=side,
                    quantity=part,
                    price=price,
                    commission=ZERO,
                    filled_at=now,
                    account=self.account,
                    strategy=strategy,
                )
                self.ledger.book(fill)
                crosses.append(fill)
            left.append((strategy, wanted - part))
        return left

    def _on_event(self, event: OrderEvent) -> None:
        if not isinstance(event, OrderFilled):
            return
        parent = self._parents.get(event.client_order_id)
        if parent is None:
            return
        fill = event.fill
        if fill.fill_id in parent.seen:
            return  # a re-delivered execution
        parent.seen.add(fill.fill_id)
        quantities = _pro_rata(fill.quantity, parent.wants, SHARE_QUANTUM)
        weights = [(strategy, q) for (strategy, _), q in zip(parent.wants, quantities, strict=True)]
        commissions = _pro_rata(fill.commission, weights, CASH_QUANTUM)
        self.broker_fills.append(fill)
        for (strategy, quantity), commission in zip(weights, commissions, strict=True):
            if quantity == ZERO:
                continue
            part = Fill(
                fill_id=f"{fill.fill_id}/{strategy}",
                client_order_id=fill.client_order_id,
                symbol=fill.symbol,
                side=fill.side,
                quantity=quantity,
                price=fill.price,
                commission=commission,
                filled_at=fill.filled_at,
                account=self.account,
                strategy=strategy,
            )
            self.ledger.book(part)
            parent.attributed.append(part)
            self.attributions.append(part)


def _merge(wants: Iterable[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """One entry per strategy (first-seen order), quantities summed."""
    merged: dict[str, Decimal] = {}
    for strategy, quantity in wants:
        merged[strategy] = merged.get(strategy, ZERO) + quantity
    return list(merged.items())


def _total(wants: Sequence[tuple[str, Decimal]]) -> Decimal:
    return sum((q for _, q in wants), ZERO)


def _pro_rata(
    amount: Decimal, weights: Sequence[tuple[str, Decimal]], quantum: Decimal
) -> list[Decimal]:
    """``amount`` split in proportion to the weights, each rounded down to ``quantum``; the last
    positive weight takes the remainder, so the parts sum to ``amount`` exactly."""
    total = _total(weights)
    parts = [ZERO] * len(weights)
    if total == ZERO:
        return parts
    last = max(k for k, (_, w) in enumerate(weights) if w > ZERO)
    given = ZERO
    for k, (_, weight) in enumerate(weights):
        if k == last:
            parts[k] = amount - given
            break
        share = (amount * weight / total).quantize(quantum, rounding=ROUND_DOWN)
        parts[k] = share
        given += share
    return parts


__all__ = ["CASH_QUANTUM", "SHARE_QUANTUM", "BatchResult", "Intent", "NettingDesk"]
