"""Moving cash and holdings between two strategy books of one portfolio (``portfolio transfer``):
nothing reaches the broker, the portfolio's cash, positions, equity and time-weighted return
are those of a twin portfolio without the transfer, the books sum to the portfolio every day,
and for the books the transfer is a flow out of one and into the other. A refused or failed
transfer writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.core.errors import NotFoundError
from quantdesk.db.repositories import paper as paper_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.tables import CashFlow, InternalCross, PositionRow
from quantdesk.services import Services
from quantdesk.services.trading_types import OrderSpec, TradingError

DAY_2_CLOSE = Decimal("100.1")  # AAA's close on 3 January 2024 (100.00 on the 2nd)


def _day(clock: SimulatedClock, iso: str) -> None:
    clock.advance_to(datetime.fromisoformat(iso).replace(hour=21, tzinfo=UTC))


def _rows(services: Services) -> tuple[int, int, int]:
    with services.database.read() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (CashFlow, InternalCross, PositionRow)
        )


def _venue(services: Services, name: str) -> object:
    account = services.trading.get_portfolio(name).account
    with services.database.read() as connection:
        state, fills = paper_repo.load(connection, account)
    return state, [f.fill_id for f in fills]


@pytest.fixture
def twins(trading_services: Services, clock: SimulatedClock) -> Services:
    """Portfolios ``core`` and ``twin``, alike: 50,000 deposited, 100 AAA bought on 2 January
    (both in the unallocated book), that day's snapshot taken."""
    trading = trading_services.trading
    for name in ("core", "twin"):
        trading.create_portfolio(name, Decimal(50_000))
        trading.submit_orders(name, [OrderSpec("AAA", Side.BUY, 100)])
        trading.snapshot(name)
    return trading_services


def test_a_transfer_moves_book_figures_not_the_portfolio(
    twins: Services, clock: SimulatedClock
) -> None:
    trading = twins.trading
    _day(clock, "2024-01-03")
    before, venue = trading.value("core"), _venue(twins, "core")
    orders = trading.list_orders("core")

    moved = trading.transfer("core", "unallocated", "rsi", symbol="AAA", quantity="60")
    assert (moved.source, moved.target, moved.symbol, moved.quantity) == ("", "rsi", "AAA", 60)
    assert (moved.price, moved.priced_on) == (DAY_2_CLOSE, date(2024, 1, 3))
    assert moved.value == 60 * DAY_2_CLOSE
    assert moved.cross_id is not None
    assert moved.cross_id.endswith("-cross")
    paid = trading.transfer("core", "unallocated", "rsi", cash="2000")
    assert (paid.value, paid.symbol) == (Decimal(2000), None)
    unallocated, rsi = paid.books
    assert (unallocated.strategy, rsi.strategy) == ("", "rsi")
    assert rsi.cash == Decimal(2000)  # the shares came in kind: the book paid nothing for them
    assert rsi.net_deposits == Decimal(2000) + 60 * DAY_2_CLOSE

    after = trading.value("core")
    for figure in ("cash", "market_value", "equity", "net_deposits", "commissions"):
        assert getattr(after, figure) == getattr(before, figure), figure
    held = {(p.strategy, p.symbol): (p.quantity, p.average_cost) for p in after.positions}
    assert held[("rsi", "AAA")] == (60, DAY_2_CLOSE)  # its cost: the close it came at
    assert held[("", "AAA")][0] == 40
    assert trading.list_orders("core") == orders  # nothing was sent
    assert _venue(twins, "core") == venue
    assert trading.reconcile("core").clean


def test_the_portfolio_return_is_its_twins_and_the_books_sum_to_it_every_day(
    twins: Services, clock: SimulatedClock
) -> None:
    trading = twins.trading
    _day(clock, "2024-01-03")
    trading.transfer("core", "unallocated", "rsi", symbol="AAA", quantity="60")
    trading.transfer("core", "unallocated", "rsi", cash="2000")
    for day in ("2024-01-03", "2024-01-04", "2024-01-05"):
        _day(clock, day)
        for name in ("core", "twin"):
            trading.snapshot(name)

    core, twin = trading.history("core"), trading.history("twin")
    assert [s.equity for s in core.snapshots] == [s.equity for s in twin.snapshots]
    assert [s.net_flows for s in core.snapshots] == [Decimal(50_000), 0, 0, 0]  # no flow
    assert core.returns == twin.returns
    assert core.time_weighted_return == twin.time_weighted_return

    with twins.database.read() as connection:
        record = trading_repo.get_portfolio(connection, "core")
        assert record is not None
        books = trading_repo.book_snapshots(connection, record.id)
    by_day: dict[date, Decimal] = {}
    for book in books:
        by_day[book.date] = by_day.get(book.date, Decimal(0)) + book.equity
    assert by_day == {s.date: s.equity for s in core.snapshots}
    flows = {(b.strategy, b.date): b.net_flows for b in books if b.date == date(2024, 1, 3)}
    value = 60 * DAY_2_CLOSE + 2000
    assert flows == {("", date(2024, 1, 3)): -value, ("rsi", date(2024, 1, 3)): value}
    # rsi's return: from what it received (its first day gains nothing) to its value on the 5th
    (rsi,) = [p for p in trading.book_performance("core") if p.strategy == "rsi"]
    rsi_equity = [b.equity for b in books if b.strategy == "rsi"]
    assert rsi_equity[0] == value
    assert rsi.time_weighted_return == pytest.approx(float(rsi_equity[-1] / value - 1), abs=1e-12)


def test_all_of_a_holding_moves_by_default_and_back(twins: Services) -> None:
    trading = twins.trading
    trading.transfer("core", "", "rsi", symbol="AAA")
    assert [(p.strategy, p.quantity) for p in trading.positions("core")] == [("rsi", 100)]
    trading.transfer("core", "rsi", "unallocated", symbol="AAA")
    assert [(p.strategy, p.quantity) for p in trading.positions("core")] == [("", 100)]
    assert trading.reconcile("core").clean


@pytest.mark.parametrize(
    ("source", "target", "what", "error", "message"),
    [
        (
            "unallocated", "rsi", {"cash": "50000"}, TradingError,
            "the unallocated book of portfolio 'core' has 39,994.00 USD cash; "
            "cannot transfer 50,000.00",
        ),
        (
            "", "rsi", {"symbol": "AAA", "quantity": "101"}, TradingError,
            "the unallocated book of portfolio 'core' holds 100 AAA; cannot transfer 101",
        ),
        ("", "rsi", {"symbol": "BBB"}, TradingError, "holds no BBB"),
        ("", "rsi", {"cash": "0"}, TradingError, "must be > 0"),
        ("", "", {"cash": "1"}, TradingError, "two different books"),
        (
            "nosuch", "", {"cash": "1"}, NotFoundError,
            "portfolio 'core' has no book 'nosuch' (its books: unallocated)",
        ),
        ("", "nosuch", {"cash": "1"}, NotFoundError, "no strategy is registered under that"),
        ("", "rsi", {"cash": "1", "symbol": "AAA"}, TradingError, "exactly one of cash or symbol"),
    ],
)  # fmt: skip
def test_a_refused_transfer_writes_nothing(
    twins: Services,
    source: str,
    target: str,
    what: dict[str, str],
    error: type[Exception],
    message: str,
) -> None:
    rows, value = _rows(twins), twins.trading.value("core")
    with pytest.raises(error) as refused:
        twins.trading.transfer("core", source, target, **what)  # type: ignore[arg-type]
    assert message in str(refused.value)
    assert _rows(twins) == rows
    assert twins.trading.value("core") == value


def test_an_unknown_portfolio_is_named(twins: Services) -> None:
    with pytest.raises(NotFoundError, match="unknown portfolio 'nope'; known: core, twin"):
        twins.trading.transfer("nope", "", "rsi", cash="1")


def test_a_transfer_that_fails_half_way_writes_nothing(
    twins: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, value = _rows(twins), twins.trading.value("core")
    calls: list[Decimal] = []
    real = trading_repo.insert_cash_flow

    def second_fails(*args: object, **kwargs: object) -> None:
        calls.append(Decimal(0))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trading_repo, "insert_cash_flow", second_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        twins.trading.transfer("core", "", "rsi", symbol="AAA")
    monkeypatch.undo()
    assert _rows(twins) == rows  # no cross, no flow, the positions cache as it was
    assert twins.trading.value("core") == value
    assert twins.trading.reconcile("core").clean


def test_a_fractional_holding_whose_value_needs_more_places_than_stored_moves_whole(
    trading_services: Services, clock: SimulatedClock
) -> None:
    """1.1234567891 shares × 100.1 has eleven decimal places, money is stored with ten: the
    books' flows are rounded so neither book's cash goes below zero and the account's cash
    stays the broker's to the last place."""
    trading = trading_services.trading
    trading.create_portfolio("frac", Decimal(1_000))
    trading.submit_orders("frac", [OrderSpec("AAA", Side.BUY, "1.1234567891")])
    _day(clock, "2024-01-03")
    cash = trading.value("frac").cash
    moved = trading.transfer("frac", "", "rsi", symbol="AAA")
    assert moved.quantity == Decimal("1.1234567891")
    assert moved.value == Decimal("112.4580245890")  # 112.45802458891 rounded up
    after = trading.value("frac")  # replayed from the stored rows
    assert after.cash == cash
    books = {b.strategy: b for b in after.books}
    assert books["rsi"].cash == Decimal("0.00000000009")
    assert books[""].cash == cash - Decimal("0.00000000009")
    assert [(p.strategy, p.quantity) for p in after.positions] == [("rsi", moved.quantity)]
    assert trading.reconcile("frac").clean


def test_shares_an_open_sell_order_of_the_book_needs_stay(twins: Services) -> None:
    trading = twins.trading
    trading.submit_orders("core", [OrderSpec("AAA", Side.SELL, 30, limit_price=500)])  # rests
    with pytest.raises(TradingError) as refused:
        trading.transfer("core", "", "rsi", symbol="AAA")
    assert str(refused.value) == (
        "the unallocated book of portfolio 'core' holds 100 AAA (30 of them wanted by its open "
        "sell orders); cannot transfer 100"
    )
    moved = trading.transfer("core", "", "rsi", symbol="AAA", quantity="70")
    assert moved.quantity == 70
