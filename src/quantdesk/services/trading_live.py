"""Running a strategy on a paper portfolio on the live clock: one decision per session.

A session's decision time is 21:00 UTC of that session (the portfolio's ``decision_time`` setting
moves it; 21:00 is after the New York close all year, when
the day's bar can be in the database). :func:`live_step` acts on the latest session whose
decision time the clock has passed, once: it loads the strategy's history up to that session,
lets the strategy decide on its last bar exactly as a replay would (same runner, same rules,
same book — the strategy's own: :mod:`.trading_runner`, :mod:`.trading_replay`) and stores the
orders, fills and the session's snapshot, dated that session even when the step runs after
midnight UTC. Allocation strategies learn from the calendar whether the session ends their
rebalance period (a replay learns it from the next bar, which live trading does not have).

**Done** is per strategy book: the book's ``last_session`` mark (on ``strategy_allocations``),
stored with the session's snapshot in one transaction after the batch reached the paper venue's
saved book. A step on a session up to the mark does nothing, so a second call (a cron job run
twice, a restart) sends nothing twice, while another strategy stepping the same portfolio, or a
snapshot taken by hand after the decision time, does not make the session look done. A replay
marks the sessions it stores too. A crash between the batch and the snapshot leaves the session
unmarked: the next step finds the book's orders sent since the decision time (reconciliation
adopts what the venue took), sends nothing and takes the session's snapshot and mark. Books
from before the mark existed got their portfolio's newest snapshot date as their mark (migration
0013: the old rule, "the portfolio has a snapshot for the session"), so an upgrade trades no
session twice.

``quantdesk trade run STRATEGY --portfolio P`` loops: a step, then a wait until the next decision
time on the clock it was given; ``--once`` takes one step (for cron users).

After a step the strategy's book gets the rebalance check (its weights against the targets in
force): drift above the portfolio's ``drift_threshold`` raises the ``drift`` alert a
``rebalance`` check raises (one open alert per portfolio). Replays over history raise none:
alerts are about the portfolio as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from quantdesk.data.calendar import TradingCalendar
from quantdesk.data.panel import Panel
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.execution import CostModel
from quantdesk.services import trading_alerts, trading_orders
from quantdesk.services.portfolio_admin import disabled_message, disabled_strategies
from quantdesk.services.portfolio_settings import stored_settings
from quantdesk.services.trading_replay import strategy_inputs
from quantdesk.services.trading_runner import SESSION_CLOSE_UTC

if TYPE_CHECKING:
    from quantdesk.services.trading import TradingService
    from quantdesk.services.trading_runner import PaperRunner


@dataclass(frozen=True, slots=True)
class LiveStep:
    """What one live step did.

    ``session`` is the session acted on (``None`` when there was nothing to do, ``note`` says
    why); ``next_decision`` the moment (UTC) the next step is due.
    """

    portfolio: str
    strategy: str
    session: date | None
    orders: int
    equity: Decimal | None
    next_decision: datetime
    note: str


def decision_time(session: date, at: time = SESSION_CLOSE_UTC) -> datetime:
    """When a strategy decides on ``session``: ``at`` (UTC; by default 21:00, the portfolio's
    ``decision_time`` setting otherwise) of that session."""
    return datetime.combine(session, at, tzinfo=UTC)


def live_step(
    service: TradingService,
    name: str,
    strategy: str,
    params: dict[str, Any],
    universe: str | None,
    *,
    costs: CostModel | None = None,
    fractional: bool = True,
) -> LiveStep:
    """Act on the latest session whose decision time has passed, unless done already."""
    from quantdesk.services.trading_replay import portfolio_runner

    now = service._clock.now()
    record = service._record(name)
    # apisvc: the portfolio's schedule setting (Settings page) moves the decision time
    at = stored_settings(service._db, record.id, name).effective_decision_time
    calendar = TradingCalendar("XNYS", start=now.date() - timedelta(days=30))
    session = _latest_decided_session(calendar, now, at)
    following = calendar.next_session(session)
    next_decision = decision_time(following, at)
    # apisvc: a disabled strategy book sends nothing (checked every step: enabling it resumes)
    if strategy in disabled_strategies(service._db, record.id):
        return LiveStep(
            name, strategy, None, 0, None, next_decision, disabled_message(name, strategy)
        )
    with service._db.read() as connection:
        mark = trading_repo.last_session(connection, record.id, strategy)
    if mark is not None and mark >= session:
        note = f"{session} was acted on already; next decision {next_decision:%Y-%m-%d %H:%M} UTC"
        return LiveStep(name, strategy, None, 0, None, next_decision, note)
    costs = costs if costs is not None else service.costs
    panel, runnable = strategy_inputs(
        service, strategy, None, session, params, universe, costs, next_session=following
    )
    last = _last_date(panel)
    if last != session:
        note = f"no bar for {session} yet (the data ends {last}): update the data, then run again"
        return LiveStep(name, strategy, None, 0, None, decision_time(session, at), note)
    runner = portfolio_runner(service, name, strategy, panel, runnable, costs, fractional)
    # a step that crashed after its batch reached the venue, before its snapshot: the batch
    # is not sent again, the session only gets its snapshot and mark
    in_flight = _batch_sent(runner, strategy, decision_time(session, at))
    runner.start()
    sent = runner.step(len(panel.dates) - 1, final=in_flight)
    runner.save()
    _check_drift(service, runner, strategy, costs)
    equity = runner.session_equity()
    note = f"{sent} order(s) sent on {session}"
    if in_flight:
        note = f"{session}'s orders were sent before an interruption; its snapshot is taken now"
    return LiveStep(name, strategy, session, sent, equity, next_decision, note)


def _batch_sent(runner: PaperRunner, strategy: str, since: datetime) -> bool:
    """Whether the book has orders from ``since`` (the session's decision time) on: a step's
    batch that reached the venue (reconciliation adopts what the venue took) without the
    session being marked done. No step of an earlier session sends after this moment: the
    clock had passed it, so this session was the latest decided."""
    return any(
        order.strategy == strategy and order.created_at is not None and order.created_at >= since
        for order in runner.session.manager.orders.values()
    )


def _check_drift(
    service: TradingService, runner: PaperRunner, strategy: str, costs: CostModel
) -> None:
    """After the step, the rebalance check on the strategy's book against the targets in force
    (allocation strategies: a signal strategy has no target weights), raising the same
    ``drift`` alert as ``rebalance`` does above the portfolio's threshold."""
    targets = runner.current_targets()
    if targets is None:
        return
    session = runner.session
    source = f"strategy:{strategy}"
    result = trading_orders.rebalance(session, targets, source, 0.0, False, costs, strategy)
    trading_alerts.drift_checked(service._alerts, service._db, session.portfolio.id, result)


def _latest_decided_session(calendar: TradingCalendar, now: datetime, at: time) -> date:
    day = now.date()
    session = day if calendar.is_session(day) else calendar.previous_session(day)
    if decision_time(session, at) > now:
        session = calendar.previous_session(session)
    return session


def _last_date(panel: Panel) -> date:
    return date.fromisoformat(str(np.datetime_as_string(panel.dates[-1], unit="D")))


__all__ = ["LiveStep", "decision_time", "live_step"]
