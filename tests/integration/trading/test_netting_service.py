"""Several strategy books of one portfolio rebalanced as one netted batch (issue 8, netting in
the service): opposite trades cross internally, only the net reaches the broker, fills are
attributed to the books, the books sum to the account — and all of it survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import paper as paper_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.repositories import trading_netting as netting_repo
from quantdesk.services import Services, build_services
from quantdesk.services.trading_session import PortfolioSession
from quantdesk.services.trading_types import PortfolioValue, TradingError


def _books(value: PortfolioValue) -> dict[str, tuple[Decimal, dict[str, Decimal]]]:
    out: dict[str, tuple[Decimal, dict[str, Decimal]]] = {
        b.strategy: (b.cash, {}) for b in value.books
    }
    for p in value.positions:
        out[p.strategy][1][p.symbol] = p.quantity
    return out


def _two_books(trading_services: Services) -> None:
    trading = trading_services.trading
    trading.create_portfolio("multi", Decimal(0))
    trading.deposit("multi", Decimal(10_000), "alpha")
    trading.deposit("multi", Decimal(10_000), "beta")


def test_opposite_trades_of_two_books_cross_and_only_the_net_reaches_the_broker(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    _two_books(trading_services)
    first = trading.rebalance_books(
        "multi", targets={"alpha": {"AAA": 0.5}, "beta": {"BBB": 0.5}}, execute=True
    )
    assert first.crosses == ()
    assert sorted((o.symbol, o.side, o.quantity) for o in first.orders) == [
        ("AAA", "buy", Decimal(49)),  # 5,000 / 100.05 → 49 whole shares
        ("BBB", "buy", Decimal(99)),  # 5,000 / 50.025 → 99
    ]
    clock.advance_to(datetime(2024, 1, 3, 21, tzinfo=UTC))
    second = trading.rebalance_books(
        "multi", targets={"alpha": {}, "beta": {"AAA": 0.4, "BBB": 0.5}}, execute=True
    )
    # alpha sells its 49 AAA, beta buys some: those shares cross inside the account
    alpha_plan, beta_plan = second.books  # in the order the targets named them
    assert [(t.symbol, t.side, t.quantity) for t in alpha_plan.trades] == [
        ("AAA", "sell", Decimal(49))
    ]
    (bought,) = [t.quantity for t in beta_plan.trades if t.symbol == "AAA"]
    assert 0 < bought < 49
    crossed = {(c.strategy, c.side): c.quantity for c in second.crosses}
    assert crossed == {("beta", "buy"): bought, ("alpha", "sell"): bought}
    assert len({c.cross_id for c in second.crosses}) == 1
    # only the rest of alpha's sale goes to the broker, as one order
    assert [(o.symbol, o.side, o.quantity) for o in second.orders] == [("AAA", "sell", 49 - bought)]
    value = trading.value("multi")
    books = _books(value)
    assert books["alpha"][1] == {}
    assert books["beta"][1] == {"AAA": bought, "BBB": Decimal(99)}
    # the books sum to the account, and the account to the broker
    assert sum(b.cash for b in value.books) == value.cash
    assert sum(b.commissions for b in value.books) == value.commissions
    assert trading.reconcile("multi").clean
    # the cross is priced at the close, without commission: alpha's sale of crossed shares
    # and beta's purchase of them cancel in cash
    with trading_services.database.read() as connection:
        crosses = netting_repo.crosses(connection, "paper-multi")
    assert {f.price for f in crosses} == {crosses[0].price}
    assert sum(f.cash_change for f in crosses) == 0


def test_books_survive_a_restart_and_every_fill_is_attributed(
    trading_services: Services, clock: SimulatedClock, tmp_path: Path
) -> None:
    trading = trading_services.trading
    _two_books(trading_services)
    trading.rebalance_books(
        "multi", targets={"alpha": {"AAA": 0.3, "CCC": 0.3}, "beta": {"AAA": 0.6}}, execute=True
    )
    first = trading.value("multi")
    # the day's snapshot holds the account's shares: both books' AAA together
    trading.snapshot("multi")
    with trading_services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, "multi")
        assert record is not None
        (stored,) = trading_repo.snapshots(connection, record.id)
    held = sum(p.quantity for p in first.positions if p.symbol == "AAA")
    assert {p.strategy for p in first.positions if p.symbol == "AAA"} == {"alpha", "beta"}
    assert stored.positions["AAA"][0] == str(held)  # type: ignore[index]
    clock.advance_to(datetime(2024, 1, 4, 21, tzinfo=UTC))
    trading.rebalance_books(
        "multi", targets={"alpha": {"AAA": 0.6}, "beta": {"CCC": 0.5}}, execute=True
    )
    before = trading.value("multi")
    # a netted order's fills are stored as the broker reported them and split when read:
    # every stored broker fill is attributed in full, shares and commission
    with trading_services.database.read() as connection:
        raw = orders_repo.broker_executions(connection, "paper-multi")
        booked = orders_repo.executions(connection, "paper-multi")
        state, venue_fills = paper_repo.load(connection, "paper-multi")
    assert state is not None
    assert sorted(str(f.fill_id) for f in raw) == sorted(str(f.fill_id) for f in venue_fills)
    for fill in raw:
        parts = [f for f in booked if str(f.fill_id).startswith(f"{fill.fill_id}/")]
        assert sum(p.quantity for p in parts) == fill.quantity
        assert sum(p.commission for p in parts) == fill.commission
        assert {p.strategy for p in parts} <= {"alpha", "beta"}
    trading_services.database.dispose()

    url = trading_services.database.url
    restarted = build_services(
        Settings(data_dir=tmp_path / "restart", database_url=url),
        clock=SimulatedClock(clock.now()),
        database=Database(url, auto_upgrade=False),
    )
    after = restarted.trading.value("multi")
    assert after.books == before.books
    assert after.positions == before.positions
    assert _books(after)["alpha"][1].keys() == {"AAA"}
    assert restarted.trading.reconcile("multi").clean
    restarted.close()


def test_a_book_that_cannot_pay_refuses_the_whole_batch(trading_services: Services) -> None:
    trading = trading_services.trading
    _two_books(trading_services)
    with pytest.raises(TradingError, match="give exactly one"):
        trading.rebalance_books("multi")
    with pytest.raises(TradingError, match="one word"):
        trading.rebalance_books("multi", targets={"al pha": {"AAA": 0.5}})
    plan = trading.rebalance_books("multi", targets={"alpha": {"AAA": 0.5}, "beta": {"BBB": 1}})
    assert not plan.executed
    assert [len(b.trades) for b in plan.books] == [1, 1]
    assert trading.list_orders("multi") == []


def test_netted_fills_adopted_after_a_crash_go_to_the_books_that_wanted_them(
    trading_services: Services, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    trading = trading_services.trading
    _two_books(trading_services)
    trading.create_portfolio("calm", Decimal(0))  # the same batch without a crash
    trading.deposit("calm", Decimal(10_000), "alpha")
    trading.deposit("calm", Decimal(10_000), "beta")
    first = {"alpha": {"AAA": 0.5}, "beta": {"AAA": 0.3, "BBB": 0.5}}
    second = {"alpha": {"BBB": 0.4}, "beta": {"AAA": 0.6}}
    for name in ("multi", "calm"):
        trading.rebalance_books(name, targets=first, execute=True)
    clock.advance_to(datetime(2024, 1, 3, 21, tzinfo=UTC))
    trading.rebalance_books("calm", targets=second, execute=True)

    def crash(self: PortfolioSession) -> None:
        raise KeyboardInterrupt("killed after the broker saved, before our records")

    # the process dies after the broker's book is saved and before our orders and fills are
    with monkeypatch.context() as patch:
        patch.setattr(PortfolioSession, "save_records", crash)
        with pytest.raises(KeyboardInterrupt):
            trading.rebalance_books("multi", targets=second, execute=True)
    report = trading.reconcile("multi")  # a fresh session: what the broker did is adopted
    assert report.adopted_fills
    assert report.clean
    calm, crashed = trading.value("calm"), trading.value("multi")
    assert _books(crashed) == _books(calm)
    assert [(b.strategy, b.cash, b.commissions) for b in crashed.books] == [
        (b.strategy, b.cash, b.commissions) for b in calm.books
    ]


def test_a_book_with_nothing_to_spend_is_refused_not_planned_as_nothing(
    trading_services: Services,
) -> None:
    """An empty book's orders could only be trimmed to nothing: the batch used to report a
    plan of no trades for it (and trade the others) without saying why."""
    trading = trading_services.trading
    _two_books(trading_services)
    with pytest.raises(TradingError) as refused:
        trading.rebalance_books(
            "multi", targets={"alpha": {"AAA": 0.5}, "gamma": {"BBB": 0.5}}, execute=True
        )
    assert str(refused.value) == (
        "book gamma of portfolio 'multi' has no cash or positions to trade: fund it with "
        "'quantdesk portfolio deposit multi AMOUNT --strategy gamma'"
    )
    with pytest.raises(TradingError, match=r"^the unallocated book of portfolio 'multi' has no "):
        trading.rebalance_books("multi", targets={"": {"AAA": 0.5}})
    assert trading.list_orders("multi") == []
    # selling out of (or staying out of) an empty book asks for nothing to be spent
    assert trading.rebalance_books("multi", targets={"alpha": {"AAA": 0.5}, "gamma": {}}).books
