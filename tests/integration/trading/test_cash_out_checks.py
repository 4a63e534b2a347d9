"""Cash leaving a book (a withdrawal, a transfer to another book) is checked against the book's
cash as it is when the write happens, less what its open buy orders hold back: another writer
between loading the books and writing (another process, another API request) cannot make two
withdrawals both pass against the same cash, and an order resting at the broker keeps the cash
it may still need."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from quantdesk.core.enums import Side
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.services import Services
from quantdesk.services.trading import CURRENT_BOOK_TRIES, TradingService
from quantdesk.services.trading_types import OrderSpec, PortfolioChangedError, TradingError


def _flows(services: Services, name: str) -> list[Decimal]:
    with services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, name)
        assert record is not None
        return [flow.amount for flow in trading_repo.cash_flows(connection, record.id)]


def _after_each_load(
    monkeypatch: pytest.MonkeyPatch, trading: TradingService, write: Callable[[], Any], times: int
) -> list[int]:
    """Run ``write`` (another writer) right after each of the next ``times`` loads of a
    portfolio's books, between the load and the write that was checked against it."""
    loads: list[int] = []
    writing: list[bool] = []
    load = TradingService._session

    def interfered(self: TradingService, name: str, **kwargs: Any) -> Any:
        session = load(self, name, **kwargs)
        if len(loads) < times and not writing:  # not the other writer's own load
            loads.append(1)
            writing.append(True)
            try:
                write()
            finally:
                writing.clear()
        return session

    monkeypatch.setattr(TradingService, "_session", interfered)
    return loads


def test_a_withdrawal_that_another_writer_made_too_large_is_refused_on_the_current_cash(
    trading_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(1_000))
    _after_each_load(monkeypatch, trading, lambda: trading.deposit("core", Decimal(-600)), 1)
    with pytest.raises(TradingError) as refused:
        trading.deposit("core", Decimal(-600))
    assert str(refused.value) == (
        "the unallocated book of portfolio 'core' has 400.00 USD cash; cannot withdraw 600.00"
    )
    value = trading.value("core")  # replayed from the stored flows
    assert (value.cash, value.net_deposits) == (Decimal(400), Decimal(400))


def test_a_transfer_that_another_writer_made_too_large_is_refused_on_the_current_cash(
    trading_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(1_000))
    _after_each_load(
        monkeypatch, trading, lambda: trading.transfer("core", "", "rsi", cash="700"), 1
    )
    with pytest.raises(TradingError, match=r"has 300\.00 USD cash; cannot transfer 700\.00$"):
        trading.transfer("core", "", "momentum-12-1", cash="700")
    books = {b.strategy: b.cash for b in trading.value("core").books}
    assert books == {"": Decimal(300), "rsi": Decimal(700)}


def test_a_deposit_between_load_and_write_is_kept_and_the_write_done_on_the_new_books(
    trading_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(1_000))
    loads = _after_each_load(monkeypatch, trading, lambda: trading.deposit("core", 500), 1)
    assert trading.deposit("core", Decimal(-1_200)).cash == Decimal(300)
    assert len(loads) == 1  # the withdrawal ran twice: once refused as stale, once on 1,500
    assert _flows(trading_services, "core") == [1_000, 500, -1_200]


def test_books_that_keep_changing_give_up_after_a_few_tries_and_write_nothing_of_their_own(
    trading_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(1_000))
    _after_each_load(monkeypatch, trading, lambda: trading.deposit("core", 1), CURRENT_BOOK_TRIES)
    with pytest.raises(PortfolioChangedError) as gave_up:
        trading.deposit("core", Decimal(-100))
    assert str(gave_up.value) == (
        "portfolio 'core' changed while this request ran (another process or request wrote to "
        f"it); nothing was written; tried {CURRENT_BOOK_TRIES} times, other writers kept "
        "changing it: try again"
    )
    assert _flows(trading_services, "core") == [1_000] + [1] * CURRENT_BOOK_TRIES


def test_concurrent_withdrawals_never_take_more_than_the_book_has(
    trading_services: Services,
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(1_000))

    def withdraw(_: int) -> str:
        try:
            trading.deposit("core", Decimal(-200))
        except TradingError as error:
            return str(error)
        return "done"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(withdraw, range(8)))
    done = outcomes.count("done")
    assert 1 <= done <= 5
    refused = [o for o in outcomes if o != "done"]
    assert all("cannot withdraw 200.00" in o or "changed while" in o for o in refused)
    assert _flows(trading_services, "core") == [1_000] + [-200] * done
    assert trading.value("core").cash == 1_000 - 200 * done >= 0


def test_cash_an_open_buy_order_holds_back_cannot_be_withdrawn_or_transferred(
    trading_services: Services,
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 40, limit_price=50)])  # rests
    (order,) = trading.list_orders("core")
    assert order.status == "accepted"
    with pytest.raises(TradingError) as refused:
        trading.deposit("core", Decimal(-8_001))
    assert str(refused.value) == (
        "the unallocated book of portfolio 'core' has 10,000.00 USD cash (2,000.00 of it "
        "reserved by open buy orders); cannot withdraw 8,001.00"
    )
    with pytest.raises(TradingError, match=r"\(2,000\.00 of it reserved .*cannot transfer 9,000"):
        trading.transfer("core", "", "rsi", cash="9000")
    assert trading.deposit("core", Decimal(-8_000)).cash == Decimal(2_000)
    trading.cancel_order("core", order.client_order_id)
    assert trading.deposit("core", Decimal(-2_000)).cash == 0


def test_a_write_committed_while_the_books_are_being_read_is_not_missed(
    trading_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The books are read in several statements; a withdrawal committed between reading the
    cash flows and the end of the load must still make this withdrawal re-check its cash. (On
    PostgreSQL each statement sees what was committed before it; SQLite reads one snapshot.)"""
    from quantdesk.services import trading_session

    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(1_000))
    load_venue = trading_session.paper_repo.load  # read after the cash flows
    done: list[bool] = []

    def venue_then_another_withdrawal(connection: Any, account: str) -> Any:
        venue = load_venue(connection, account)
        if not done:
            done.append(True)
            trading.deposit("core", Decimal(-600))
        return venue

    monkeypatch.setattr(trading_session.paper_repo, "load", venue_then_another_withdrawal)
    with pytest.raises(TradingError, match=r"has 400\.00 USD cash; cannot withdraw 600\.00$"):
        trading.deposit("core", Decimal(-600))
    assert _flows(trading_services, "core") == [1_000, -600]
