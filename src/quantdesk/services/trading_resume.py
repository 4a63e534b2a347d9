"""Continuing a replay that was interrupted (a crash, a kill -9, a closed terminal).

Every session of a replay gets a stored snapshot (:mod:`.trading_replay`): the sector-momentum
path stores it after each session; the strategy runner (:mod:`.trading_runner`) stores them in
batches, but every earlier session's before a batch reaches the broker's saved book and the
batch's own session's after it. So the last stored snapshot in the window is the last session
fully processed. The session after it may be *in flight*: its
batch can have reached the broker (the broker's book is saved before our records) without its
snapshot. Reconciliation — run when the session opens — adopts whatever the broker did, so after
it the stored orders say whether that session's batch was sent. A batch reaches the broker whole
or not at all (the broker's book is saved once per batch), hence:

* no snapshot after ``start`` → replay from ``start``;
* the next session has orders → its batch is done: value it without sending anything again (a
  strategy runner replays from it with ``first_sent``; sector-momentum takes its snapshot), then
  continue with the session after it;
* otherwise → replay from the next session (its batch never reached the broker).

The continued replay makes the same decisions as an uninterrupted one because a session's
targets depend only on data up to that session, never on where the replay started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from quantdesk.core.clock import SimulatedClock
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.repositories._utc import utc
from quantdesk.services import trading_book
from quantdesk.services.trading_session import PriceBook
from quantdesk.services.trading_types import ReplayResult, TradingError

if TYPE_CHECKING:
    from quantdesk.services.trading import TradingService

CLOSE = time(21, 0)
"""Sessions are processed at 21:00 UTC, after the New York close (as the replay does)."""


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a replay over a window continues: ``next_session`` (``None``: the window is done);
    ``finished_in_flight`` is the session whose batch was sent but whose snapshot was not taken
    (it gets its snapshot before the replay continues)."""

    next_session: date | None
    finished_in_flight: date | None
    last_snapshot: date | None


def resume_point(service: TradingService, name: str, sessions: list[date]) -> ResumePoint:
    """Where the replay of ``name`` over ``sessions`` continues (see module doc). Reconciles the
    portfolio first, so orders the broker took while we were down count."""
    if not sessions:
        return ResumePoint(None, None, None)
    service.reconcile(name)
    record = service._record(name)
    with service._db.read() as connection:
        shots = trading_repo.snapshots(connection, record.id, sessions[0], sessions[-1])
        stored = orders_repo.load_orders(connection, record.account_id, record.id)
    last = shots[-1].date if shots else None
    pending = [d for d in sessions if last is None or d > last]
    if not pending:
        return ResumePoint(None, None, last)
    candidate = pending[0]
    sent = any(
        s.order.created_at is not None and utc(s.order.created_at).date() == candidate
        for s in stored
    )
    if not sent:
        return ResumePoint(candidate, None, last)
    return ResumePoint(pending[1] if len(pending) > 1 else None, candidate, last)


def resume_replay(
    service: TradingService,
    name: str,
    strategy: str,
    start: date,
    end: date,
    params: dict[str, Any],
    universe: str | None,
    **options: Any,
) -> ReplayResult:
    """Run the replay of ``strategy`` on ``name`` over ``start``..``end``, or continue it from
    where an interrupted run stopped; a finished window is left as it is. ``options`` go to
    :func:`quantdesk.services.trading_replay.replay` unchanged."""
    from quantdesk.services.trading_replay import _sessions, replay

    if start > end:
        raise TradingError(f"replay start {start} is after its end {end}")
    clock = service._clock
    if not isinstance(clock, SimulatedClock):
        raise TradingError(
            "a replay needs a simulated clock (the service was built with a live one)"
        )
    sessions = _sessions(service, start, end)
    point = resume_point(service, name, sessions)
    if point.finished_in_flight is not None and strategy != "sector-momentum":
        # the runner values the session as the uninterrupted replay did (its panel's price
        # field), its strategy sees the session's bar, and nothing of it is sent again
        return replay(
            service,
            name,
            strategy,
            point.finished_in_flight,
            end,
            params,
            universe,
            first_sent=True,
            **options,
        )
    if point.finished_in_flight is not None:
        clock.advance_to(datetime.combine(point.finished_in_flight, CLOSE, tzinfo=UTC))
        session = service._session(name, reconcile_first=False, with_orders=False)
        assert isinstance(session.prices, PriceBook)
        trading_book.snapshot(session, session.prices)
    if point.next_session is None:
        equity = service.value(name).equity
        return ReplayResult(name, strategy, start, end, 0, 0, equity)
    return replay(service, name, strategy, point.next_session, end, params, universe, **options)


__all__ = ["ResumePoint", "resume_point", "resume_replay"]
