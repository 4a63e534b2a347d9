"""A replay continued after an interruption equals the uninterrupted replay (issue 8): it picks
up after the last processed session and never sends a session's batch twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete

from quantdesk.core.clock import SimulatedClock
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.tables import PortfolioSnapshot
from quantdesk.services import Services, build_services
from quantdesk.services.trading_session import PortfolioSession

START, END = date(2024, 2, 1), date(2024, 2, 29)
PARAMS = {"lookback": 10, "skip": 2, "top_fraction": 0.67, "frequency": "weekly"}


def _run(services: Services, portfolio: str, end: date) -> None:
    """One run of the trading process: its own clock, starting before the window."""
    process = build_services(
        services.settings,
        clock=SimulatedClock(datetime(2024, 1, 31, 21, tzinfo=UTC)),
        database=services.database,
    )
    process.trading.resume_strategy(portfolio, "momentum-12-1", START, end, PARAMS, "AAA,BBB,CCC")


def _state(services: Services, portfolio: str) -> tuple[object, ...]:
    value = services.trading.value(portfolio)
    orders = [
        (o.symbol, o.side, o.quantity, o.status, o.average_fill_price, o.created_at)
        for o in services.trading.list_orders(portfolio)
    ]
    history = services.trading.history(portfolio).snapshots
    return (value.cash, value.positions, orders, history)


def test_a_replay_cut_anywhere_continues_to_the_uninterrupted_result(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    clock.advance_to(datetime(2024, 1, 31, 21, tzinfo=UTC))
    for name in ("whole", "cut", "in-flight"):
        trading.create_portfolio(name, Decimal(100_000), strategy="momentum-12-1")
    _run(trading_services, "whole", END)
    expected = _state(trading_services, "whole")
    assert len(expected[3]) == 20  # type: ignore[arg-type] # sessions, one snapshot each
    assert expected[2]

    # stopped after a whole session: continue from the next one
    _run(trading_services, "cut", date(2024, 2, 14))
    _run(trading_services, "cut", END)
    assert _state(trading_services, "cut") == expected

    # stopped inside a rebalance session (Friday 9 Feb: its batch sent, no snapshot yet)
    _run(trading_services, "in-flight", date(2024, 2, 12))
    orders_before = len(trading.list_orders("in-flight"))
    sent = [o.created_at for o in trading.list_orders("in-flight")]
    assert date(2024, 2, 9) in {at.date() for at in sent if at is not None}
    record = trading._record("in-flight")
    with trading_services.database.transaction() as connection:
        connection.execute(
            delete(PortfolioSnapshot).where(
                PortfolioSnapshot.portfolio_id == record.id,
                PortfolioSnapshot.date >= date(2024, 2, 9),
            )
        )
    _run(trading_services, "in-flight", date(2024, 2, 9))  # only the snapshot is taken
    assert len(trading.list_orders("in-flight")) == orders_before
    _run(trading_services, "in-flight", END)
    assert _state(trading_services, "in-flight") == expected
    # a finished window is left as it is
    _run(trading_services, "in-flight", END)
    assert _state(trading_services, "in-flight") == expected


class _KilledError(Exception):
    """Stands for a SIGKILL right after a batch's save."""


def test_a_replay_killed_after_a_batch_is_saved_continues_to_the_uninterrupted_result(
    trading_services: Services, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    trading = trading_services.trading
    clock.advance_to(datetime(2024, 1, 31, 21, tzinfo=UTC))
    for name in ("whole", "killed"):
        trading.create_portfolio(name, Decimal(100_000), strategy="momentum-12-1")
    _run(trading_services, "whole", END)
    expected = _state(trading_services, "whole")
    sessions = [s.date for s in expected[3]]  # type: ignore[attr-defined]

    saves: list[tuple[date, date | None]] = []  # (the batch's session, last stored snapshot)
    original = PortfolioSession.save

    def save_then_die_on_the_second_batch(session: PortfolioSession) -> None:
        with session.db.read() as connection:
            shots = trading_repo.snapshots(connection, session.portfolio.id)
        saves.append((session.clock.now().date(), shots[-1].date if shots else None))
        original(session)  # the broker's book and our records are stored
        if len(saves) == 2:
            raise _KilledError

    monkeypatch.setattr(PortfolioSession, "save", save_then_die_on_the_second_batch)
    with pytest.raises(_KilledError):
        _run(trading_services, "killed", END)
    monkeypatch.undo()
    day, last = saves[-1]
    # every session before the batch's was stored before the batch; the batch's own was not
    assert last == sessions[sessions.index(day) - 1]
    assert day > saves[0][0]
    _run(trading_services, "killed", END)
    assert _state(trading_services, "killed") == expected
