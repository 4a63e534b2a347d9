"""Decimal ledger: lots, average cost, realised/unrealised P&L, books per strategy."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quantdesk.core.enums import Side
from quantdesk.execution import Fill, Ledger, LedgerError

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def fill(
    n: int, side: Side, quantity: str, price: str, commission: str = "1", strategy: str = "s"
) -> Fill:
    return Fill(
        f"x{n}",
        f"o{n}",
        "AAPL",
        side,
        Decimal(quantity),
        Decimal(price),
        Decimal(commission),
        NOW,
        account="acct",
        strategy=strategy,
    )


def test_lots_average_cost_and_realised_pnl_hand_worked() -> None:
    ledger = Ledger()
    ledger.deposit("acct", Decimal(10_000), "s")
    ledger.book(fill(1, Side.BUY, "10", "100"))
    ledger.book(fill(2, Side.BUY, "10", "110"))
    position = ledger.position("acct", "s", "AAPL")
    assert position.average_cost == Decimal(105)
    ledger.book(fill(3, Side.SELL, "15", "120"))
    position = ledger.position("acct", "s", "AAPL")
    # FIFO: 10 @ 100 and 5 @ 110 closed at 120 → 200 + 50
    assert position.realised_pnl == Decimal(250)
    assert position.quantity == Decimal(5)
    assert position.average_cost == Decimal(110)
    assert position.unrealised_pnl(Decimal(100)) == Decimal(-50)
    assert ledger.cash("acct") == Decimal(10_000) - 1000 - 1100 + 1800 - 3
    assert ledger.equity("acct", {"AAPL": Decimal(100)}) == ledger.cash("acct") + 500


def test_a_sell_through_zero_opens_a_short_lot_at_the_fill_price() -> None:
    ledger = Ledger()
    ledger.book(fill(1, Side.BUY, "5", "100", "0"))
    ledger.book(fill(2, Side.SELL, "8", "90", "0"))
    position = ledger.position("acct", "s", "AAPL")
    assert position.quantity == Decimal(-3)
    assert position.realised_pnl == Decimal(-50)
    assert position.average_cost == Decimal(90)
    assert position.unrealised_pnl(Decimal(80)) == Decimal(30)


def test_the_same_execution_is_booked_once() -> None:
    ledger = Ledger()
    assert ledger.book(fill(1, Side.BUY, "1", "10"))
    assert not ledger.book(fill(1, Side.BUY, "1", "10"))
    assert ledger.positions("acct") == {"AAPL": Decimal(1)}


def test_account_figures_are_the_sums_of_the_strategy_books() -> None:
    ledger = Ledger()
    ledger.deposit("acct", Decimal(500), "a")
    ledger.deposit("acct", Decimal(700), "b")
    ledger.book(fill(1, Side.BUY, "2", "100", strategy="a"))
    ledger.book(fill(2, Side.BUY, "3", "100", strategy="b"))
    assert ledger.positions("acct") == {"AAPL": Decimal(5)}
    assert ledger.cash("acct") == ledger.cash("acct", "a") + ledger.cash("acct", "b")
    ledger.transfer("acct", Decimal(50), "b", "a")
    assert ledger.cash("acct", "a") == Decimal(500 - 201 + 50)


def test_bad_cash_flows_are_refused_naming_the_book() -> None:
    ledger = Ledger()
    with pytest.raises(LedgerError, match="deposit into 'acct'/'s' must be > 0"):
        ledger.deposit("acct", Decimal("NaN"), "s")
    ledger.deposit("acct", Decimal(10), "s")
    with pytest.raises(LedgerError, match="exceeds its cash 10"):
        ledger.withdraw("acct", Decimal(11), "s")
    ledger.book(fill(1, Side.BUY, "0.01", "100", "0"))
    with pytest.raises(LedgerError, match="no mark price for symbol 'AAPL'"):
        ledger.equity("acct", {})


def test_a_year_of_daily_trades_leaves_no_float_drift() -> None:
    """252 days of cent-priced, fractional-share trades: Decimal cash is exact to the cent
    fraction, where the same sums in float drift."""
    rng = random.Random(7)
    ledger = Ledger()
    ledger.deposit("acct", Decimal("1000000.00"), "s")
    cash_float = 1_000_000.00
    expected = Decimal("1000000.00")
    held = Decimal(0)
    for day in range(252):
        price = Decimal(rng.randint(9_000, 11_000)) / 100  # cents
        quantity = Decimal(rng.randint(1, 5_000)) / 1000  # 0.001 shares
        side = Side.BUY if held < 50 or rng.random() < 0.5 else Side.SELL
        commission = Decimal("0.35")
        ledger.book(fill(day, side, str(quantity), str(price), str(commission)))
        change = -side.sign * quantity * price - commission
        expected += change
        cash_float += -side.sign * float(quantity) * float(price) - float(commission)
        held += side.sign * quantity
    assert ledger.cash("acct") == expected  # exact, to the last digit
    assert ledger.positions("acct") == {"AAPL": held}
    assert ledger.cash("acct") == expected.quantize(Decimal("0.00001"))  # no hidden digits
    assert Decimal(repr(cash_float)) != expected  # what float arithmetic would have kept
