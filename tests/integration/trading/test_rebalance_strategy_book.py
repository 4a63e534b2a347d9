"""``rebalance --strategy X`` (one strategy) traded the unallocated book to X's targets: it
trades book X against X's own cash and positions now, as ``trade run X`` and a rebalance of
several strategies do; an empty book X is refused as ``trade run`` refuses it. Hand-given
targets and signals still trade the unallocated book."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.services import Services, trading_replay
from quantdesk.services.trading_types import TradingError

BOOK = "momentum-12-1"


@pytest.fixture
def core(trading_services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """Portfolio ``core``: 50,000 unallocated, 10,000 in book momentum-12-1, whose latest
    targets are 50 % AAA (close 100.00)."""
    monkeypatch.setattr(trading_replay, "latest_targets", lambda *_: {"AAA": 0.5})
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(50_000))
    trading.deposit("core", Decimal(10_000), BOOK)
    return trading_services


def test_a_strategy_rebalance_trades_the_strategys_own_book(core: Services) -> None:
    trading = core.trading
    plan = trading.rebalance("core", strategy=BOOK)
    assert plan.strategy == BOOK
    (trade,) = plan.trades
    # half of the book's 10,000, not of the portfolio's 60,000
    assert (trade.symbol, str(trade.side), trade.quantity) == ("AAA", "buy", Decimal(49))

    done = trading.rebalance("core", strategy=BOOK, execute=True)
    assert done.executed
    assert {o.strategy for o in done.orders} == {BOOK}
    books = {b.strategy: b for b in trading.value("core").books}
    assert books[""].cash == Decimal(50_000)  # the unallocated book is untouched
    assert books[""].positions == 0
    assert books[BOOK].positions == 1
    assert books[BOOK].cash < Decimal(10_000 - 4_900)
    (position,) = trading.positions("core")
    assert (position.strategy, position.symbol, position.quantity) == (BOOK, "AAA", 49)

    again = trading.rebalance("core", strategy=BOOK)
    assert again.trades == ()  # the book is at its targets: its own weight is 49 %
    (row,) = again.drift
    assert row.current_weight == pytest.approx(0.49, abs=0.001)


def test_an_empty_strategy_book_is_refused_as_trade_run_refuses_it(core: Services) -> None:
    trading = core.trading
    with pytest.raises(TradingError) as refused:
        trading.rebalance("core", strategy="rsi", execute=True)
    assert str(refused.value) == (
        "book rsi of portfolio 'core' has no cash or positions to trade: fund it with "
        "'quantdesk portfolio deposit core AMOUNT --strategy rsi'"
    )
    assert trading.list_orders("core") == []
    assert trading.positions("core") == []


def test_hand_given_targets_still_trade_the_unallocated_book(core: Services) -> None:
    trading = core.trading
    done = trading.rebalance("core", targets={"AAA": 0.5}, execute=True)
    assert done.strategy == ""
    assert {(o.strategy, o.quantity) for o in done.orders} == {("", Decimal(249))}
    books = {b.strategy: b for b in trading.value("core").books}
    assert books[BOOK].cash == Decimal(10_000)
    assert books[BOOK].positions == 0
