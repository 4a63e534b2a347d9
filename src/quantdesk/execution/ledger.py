"""The Decimal ledger: cash, positions, lots and P&L keyed by (account, strategy, instrument).

Money and quantities are :class:`~decimal.Decimal` end to end, so a year of daily trades sums
exactly. Positions are kept as FIFO lots; the average cost is that of the open lots and realised
P&L is booked lot by lot when a position is reduced (commissions are kept apart, see
:attr:`Book.commissions`). A fill books into the ledger of ``fill.account`` / ``fill.strategy``;
a fill already booked (same execution id) is ignored.

Strategy ``""`` is an account's unallocated book. The account's figures are the sums of its
strategies' books — the invariant the per-strategy sub-ledgers keep. A netted broker order
registered with :meth:`Ledger.allocate` books each of its fills split between the strategies
that wanted it (:func:`quantdesk.execution.attribution.split_fill`), never to the order's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from quantdesk.core.errors import QuantdeskError
from quantdesk.execution.attribution import Allocation, split_fill
from quantdesk.execution.events import ZERO, Fill


class LedgerError(QuantdeskError, ValueError):
    """A ledger operation is invalid (negative deposit, unknown book, …)."""


@dataclass(frozen=True, slots=True)
class Lot:
    """Shares opened together at one price (negative quantity for a short lot)."""

    quantity: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class Position:
    """One instrument in one book. ``quantity`` in shares (negative when short)."""

    symbol: str
    quantity: Decimal
    average_cost: Decimal | None
    realised_pnl: Decimal
    lots: tuple[Lot, ...] = ()

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        """P&L of the open lots marked at ``mark`` (currency)."""
        return sum((lot.quantity * (mark - lot.price) for lot in self.lots), ZERO)

    def market_value(self, mark: Decimal) -> Decimal:
        return self.quantity * mark


@dataclass(slots=True)
class _Holding:
    lots: list[Lot] = field(default_factory=list)
    realised: Decimal = ZERO

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)


@dataclass(slots=True)
class Book:
    """The mutable state of one (account, strategy) book; read it through :class:`Ledger`."""

    cash: Decimal = ZERO
    deposits: Decimal = ZERO
    commissions: Decimal = ZERO
    holdings: dict[str, _Holding] = field(default_factory=dict)


class Ledger:
    """Cash, positions and P&L for many accounts and strategies."""

    def __init__(self) -> None:
        self._books: dict[tuple[str, str], Book] = {}
        self._booked: set[tuple[str, str]] = set()
        self._allocations: dict[tuple[str, str], Allocation] = {}

    # ---- writes ------------------------------------------------------------------------------
    def deposit(self, account: str, amount: Decimal, strategy: str = "") -> None:
        """Add ``amount`` (> 0, currency) of cash to a book (a cash flow, not a return)."""
        if not amount.is_finite() or not amount > ZERO:
            raise LedgerError(f"deposit into {account!r}/{strategy!r} must be > 0, got {amount}")
        book = self._book(account, strategy)
        book.cash += amount
        book.deposits += amount

    def withdraw(self, account: str, amount: Decimal, strategy: str = "") -> None:
        """Take ``amount`` (> 0) of cash out of a book; never more than its cash."""
        if not amount.is_finite() or not amount > ZERO:
            raise LedgerError(f"withdrawal from {account!r}/{strategy!r} must be > 0, got {amount}")
        book = self._book(account, strategy)
        if amount > book.cash:
            raise LedgerError(
                f"withdrawal of {amount} from {account!r}/{strategy!r} exceeds its cash {book.cash}"
            )
        book.cash -= amount
        book.deposits -= amount

    def transfer(self, account: str, amount: Decimal, source: str, target: str) -> None:
        """Move cash between two strategy books of one account (an allocation change)."""
        self.withdraw(account, amount, source)
        self.deposit(account, amount, target)

    def allocate(self, account: str, allocation: Allocation) -> None:
        """Attribute later fills of ``allocation``'s order to the strategies that wanted it."""
        self._allocations[(account, allocation.client_order_id)] = allocation

    def allocation(self, account: str, client_order_id: str) -> Allocation | None:
        return self._allocations.get((account, client_order_id))

    def book(self, fill: Fill) -> bool:
        """Book ``fill`` into its account/strategy (split between the strategies of its order's
        allocation, if any); False if that execution was booked already."""
        key = (fill.account, str(fill.fill_id))
        if key in self._booked:
            return False
        self._booked.add(key)
        allocation = self._allocations.get((fill.account, str(fill.client_order_id)))
        if allocation is not None:
            for part in split_fill(fill, allocation):
                self._book_one(part)
            return True
        self._book_one(fill)
        return True

    def _book_one(self, fill: Fill) -> None:
        book = self._book(fill.account, fill.strategy)
        book.cash += fill.cash_change
        book.commissions += fill.commission
        holding = book.holdings.setdefault(fill.symbol, _Holding())
        _trade(holding, fill.side.sign * fill.quantity, fill.price)

    # ---- reads -------------------------------------------------------------------------------
    def accounts(self) -> tuple[str, ...]:
        return tuple(sorted({account for account, _ in self._books}))

    def strategies(self, account: str) -> tuple[str, ...]:
        return tuple(sorted(strategy for acc, strategy in self._books if acc == account))

    def cash(self, account: str, strategy: str | None = None) -> Decimal:
        """Cash of one book, or of the whole account when ``strategy`` is ``None``."""
        return sum((book.cash for book in self._select(account, strategy)), ZERO)

    def commissions(self, account: str, strategy: str | None = None) -> Decimal:
        return sum((book.commissions for book in self._select(account, strategy)), ZERO)

    def deposits(self, account: str, strategy: str | None = None) -> Decimal:
        """Net cash deposited (deposits − withdrawals)."""
        return sum((book.deposits for book in self._select(account, strategy)), ZERO)

    def position(self, account: str, strategy: str, symbol: str) -> Position:
        book = self._books.get((account, strategy))
        holding = book.holdings.get(symbol) if book is not None else None
        if holding is None:
            return Position(symbol, ZERO, None, ZERO)
        return _position(symbol, holding)

    def positions(self, account: str, strategy: str | None = None) -> dict[str, Decimal]:
        """Shares by symbol (flat symbols omitted), of one book or summed over the account."""
        out: dict[str, Decimal] = {}
        for book in self._select(account, strategy):
            for symbol, holding in book.holdings.items():
                out[symbol] = out.get(symbol, ZERO) + holding.quantity
        return {symbol: q for symbol, q in sorted(out.items()) if q != ZERO}

    def realised_pnl(self, account: str, strategy: str | None = None) -> Decimal:
        """Realised trading P&L before commissions."""
        return sum(
            (
                h.realised
                for book in self._select(account, strategy)
                for h in book.holdings.values()
            ),
            ZERO,
        )

    def unrealised_pnl(
        self, account: str, marks: Mapping[str, Decimal], strategy: str | None = None
    ) -> Decimal:
        total = ZERO
        for book in self._select(account, strategy):
            for symbol, holding in book.holdings.items():
                if holding.lots:
                    total += _position(symbol, holding).unrealised_pnl(_mark(marks, symbol))
        return total

    def equity(
        self, account: str, marks: Mapping[str, Decimal], strategy: str | None = None
    ) -> Decimal:
        """Cash plus positions marked at ``marks`` (currency)."""
        value = self.cash(account, strategy)
        for symbol, quantity in self.positions(account, strategy).items():
            value += quantity * _mark(marks, symbol)
        return value

    # ---- internals ---------------------------------------------------------------------------
    def _book(self, account: str, strategy: str) -> Book:
        book = self._books.get((account, strategy))
        if book is None:
            book = self._books[(account, strategy)] = Book()
        return book

    def _select(self, account: str, strategy: str | None) -> Iterator[Book]:
        if strategy is not None:
            book = self._books.get((account, strategy))
            if book is not None:
                yield book
            return
        for (acc, _), book in self._books.items():
            if acc == account:
                yield book


def _mark(marks: Mapping[str, Decimal], symbol: str) -> Decimal:
    try:
        return marks[symbol]
    except KeyError:
        raise LedgerError(f"no mark price for symbol {symbol!r}") from None


def _position(symbol: str, holding: _Holding) -> Position:
    quantity = holding.quantity
    lots = tuple(holding.lots)
    cost = sum((lot.quantity * lot.price for lot in lots), ZERO)
    average = cost / quantity if quantity != ZERO else None
    return Position(symbol, quantity, average, holding.realised, lots)


def _trade(holding: _Holding, signed: Decimal, price: Decimal) -> None:
    """Apply ``signed`` shares at ``price``: close opposite lots FIFO, open the rest."""
    lots = holding.lots
    while signed != ZERO and lots and (lots[0].quantity > ZERO) != (signed > ZERO):
        lot = lots[0]
        closed = min(abs(signed), abs(lot.quantity))
        direction = Decimal(1) if lot.quantity > ZERO else Decimal(-1)
        holding.realised += closed * direction * (price - lot.price)
        remaining = lot.quantity - direction * closed
        if remaining == ZERO:
            lots.pop(0)
        else:
            lots[0] = Lot(remaining, lot.price)
        signed += direction * closed
    if signed != ZERO:
        lots.append(Lot(signed, price))


__all__ = ["Book", "Ledger", "LedgerError", "Lot", "Position"]
