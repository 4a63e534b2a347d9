"""A live step marks its own strategy book's session as done, not the portfolio's: two
strategies stepping one portfolio each trade a session once, a snapshot taken by hand does not
make a session look done, a step that died between its batch and its snapshot is finished
without sending twice, and an upgraded portfolio does not trade a session again. A simulated
clock walks the synthetic bars (AAA rises, BBB falls, CCC rises fastest)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from quantdesk.core.clock import SimulatedClock
from quantdesk.services import Services
from quantdesk.services.trading_live import LiveStep
from quantdesk.services.trading_session import PortfolioSession

CROSSOVER, CROSSOVER_PARAMS = "ma-crossover", {"fast": 2, "slow": 5}
MOMENTUM = "momentum-12-1"
MOMENTUM_PARAMS = {"lookback": 10, "skip": 2, "top_fraction": 0.67, "frequency": "monthly"}
LEAP_DAY = date(2024, 2, 29)  # a month end: momentum rebalances, the crossover is long AAA


def _at(clock: SimulatedClock, iso: str) -> None:
    clock.advance_to(datetime.fromisoformat(iso).replace(tzinfo=UTC))


def _step(services: Services, strategy: str) -> LiveStep:
    if strategy == CROSSOVER:
        return services.trading.strategy_step("core", CROSSOVER, CROSSOVER_PARAMS, "AAA")
    return services.trading.strategy_step("core", MOMENTUM, MOMENTUM_PARAMS, "AAA,BBB,CCC")


def _orders_of(services: Services, strategy: str) -> list[tuple[str, str]]:
    orders = services.trading.list_orders("core")
    return [(o.symbol, o.side) for o in orders if o.strategy == strategy]


def _cents(amount: Decimal | None) -> Decimal:
    assert amount is not None
    return amount.quantize(Decimal("0.01"))  # stored snapshots keep 10 decimals on PostgreSQL


def _two_books(services: Services) -> None:
    services.trading.create_portfolio("core", Decimal(0))
    services.trading.deposit("core", Decimal(10_000), CROSSOVER)
    services.trading.deposit("core", Decimal(100_000), MOMENTUM)


def test_two_strategies_stepping_one_portfolio_each_trade_the_session_once(
    trading_services: Services, clock: SimulatedClock
) -> None:
    _two_books(trading_services)
    _at(clock, f"{LEAP_DAY}T21:00")
    first = _step(trading_services, CROSSOVER)
    second = _step(trading_services, MOMENTUM)  # the portfolio has the session's snapshot now
    assert (first.session, first.orders) == (LEAP_DAY, 1)
    assert (second.session, second.orders) == (LEAP_DAY, 2)
    assert _orders_of(trading_services, CROSSOVER) == [("AAA", "buy")]
    assert sorted(_orders_of(trading_services, MOMENTUM)) == [("AAA", "buy"), ("CCC", "buy")]
    # each a second time (both cron lines run twice): nothing is sent again
    for strategy in (CROSSOVER, MOMENTUM):
        again = _step(trading_services, strategy)
        assert (again.session, again.orders) == (None, 0)
        assert again.note.startswith(f"{LEAP_DAY} was acted on already")
    assert len(trading_services.trading.list_orders("core")) == 3
    history = trading_services.trading.history("core").snapshots
    assert [s.date for s in history] == [LEAP_DAY]
    assert _cents(history[0].equity) == _cents(second.equity)  # the last step valued both


def test_a_snapshot_taken_by_hand_after_the_decision_time_does_not_stop_the_step(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000), strategy=CROSSOVER)
    _at(clock, "2024-01-08T21:30")
    assert trading.snapshot("core").date == date(2024, 1, 8)  # portfolio snapshot P, by hand
    monday = _step(trading_services, CROSSOVER)
    assert (monday.session, monday.orders) == (date(2024, 1, 8), 1)
    assert _orders_of(trading_services, CROSSOVER) == [("AAA", "buy")]
    assert _step(trading_services, CROSSOVER).session is None
    assert len(trading.list_orders("core")) == 1


class _KilledError(Exception):
    """Stands for a SIGKILL between the batch reaching the venue and the session's snapshot."""


@pytest.mark.parametrize("lost", ["snapshot", "records and snapshot"])
def test_a_step_killed_after_its_batch_is_finished_without_sending_it_again(
    lost: str,
    trading_services: Services,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``snapshot``: our order records were stored, the snapshot was not; ``records and
    snapshot``: only the venue's book was saved (reconciliation adopts its orders)."""
    _two_books(trading_services)
    _at(clock, f"{LEAP_DAY}T21:00")
    original = PortfolioSession.save

    def die_after_the_batch(session: PortfolioSession) -> None:
        if lost == "snapshot":
            original(session)
        else:
            with session.db.transaction() as connection:
                session.save_venue(connection)
        raise _KilledError

    monkeypatch.setattr(PortfolioSession, "save", die_after_the_batch)
    with pytest.raises(_KilledError):
        _step(trading_services, MOMENTUM)
    monkeypatch.undo()
    assert trading_services.trading.history("core").snapshots == ()

    _at(clock, f"{LEAP_DAY}T21:05")  # the cron job runs again
    finished = _step(trading_services, MOMENTUM)
    assert (finished.session, finished.orders) == (LEAP_DAY, 0)
    assert "sent before an interruption" in finished.note
    assert sorted(_orders_of(trading_services, MOMENTUM)) == [("AAA", "buy"), ("CCC", "buy")]
    value = trading_services.trading.value("core")
    (shot,) = trading_services.trading.history("core").snapshots
    assert (shot.date, _cents(shot.equity)) == (LEAP_DAY, _cents(value.equity))
    assert _step(trading_services, MOMENTUM).session is None  # done now
    # the other strategy's step on the session is not held up by it
    assert _step(trading_services, CROSSOVER).orders == 1


def test_an_upgraded_portfolio_does_not_trade_a_session_again(
    trading_services: Services, clock: SimulatedClock
) -> None:
    """Before the per-book mark a session was done when the portfolio had a snapshot for it:
    the upgrade keeps that for the books it finds; a book funded after it trades."""
    from alembic import command

    from quantdesk.db.engine import alembic_config, upgrade

    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000), strategy=CROSSOVER)
    _at(clock, f"{LEAP_DAY}T21:00")
    assert _step(trading_services, CROSSOVER).orders == 1
    engine = trading_services.database.engine
    command.downgrade(alembic_config(engine), "0012")  # the step as the old version stored it
    upgrade(engine)
    trading.deposit("core", Decimal(100_000), MOMENTUM)

    again = _step(trading_services, CROSSOVER)
    assert (again.session, again.orders) == (None, 0)
    assert _orders_of(trading_services, CROSSOVER) == [("AAA", "buy")]
    assert _step(trading_services, MOMENTUM).orders == 2  # a new book has no session done
