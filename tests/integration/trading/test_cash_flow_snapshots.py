"""Every deposit and withdrawal is counted by exactly one snapshot (the first stored that sees
it), so time-weighted returns never take a cash flow for a gain or a loss — whether the
snapshot is taken by ``portfolio snapshot``, a replay or a live step. Cash-only books are flat:
each of their daily returns is exactly 0. 5–8 January 2024 is Friday to Monday."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.db.database import Database
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.services import Services
from quantdesk.services.trading_types import OrderSpec

ZERO = Decimal(0)


def _at(clock: SimulatedClock, iso: str) -> None:
    clock.advance_to(datetime.fromisoformat(iso).replace(tzinfo=UTC))


def _book_returns(services: Services, name: str) -> dict[str, float | None]:
    return {b.strategy: b.time_weighted_return for b in services.trading.book_performance(name)}


def test_a_weekend_deposit_is_a_flow_of_mondays_snapshot_not_a_gain(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    _at(clock, "2024-01-05T21:00")
    trading.create_portfolio("core", Decimal(10_000))
    trading.snapshot("core")  # Friday's, taken on Friday
    _at(clock, "2024-01-06T12:00")
    trading.deposit("core", Decimal(5_000))  # Saturday: no snapshot of Friday's sees it
    _at(clock, "2024-01-08T21:00")
    monday = trading.snapshot("core")
    assert (monday.date, monday.equity, monday.net_flows) == (
        date(2024, 1, 8),
        Decimal(15_000),
        Decimal(5_000),
    )
    history = trading.history("core")
    assert history.returns == (0.0, 0.0)
    assert history.time_weighted_return == 0.0


def test_a_withdrawal_between_snapshots_is_a_flow_not_a_loss(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    trading.snapshot("core")  # Tuesday 2 January
    _at(clock, "2024-01-03T15:00")
    trading.deposit("core", Decimal(-2_500))  # Wednesday, no snapshot that day
    _at(clock, "2024-01-04T21:00")
    thursday = trading.snapshot("core")
    assert (thursday.equity, thursday.net_flows) == (Decimal(7_500), Decimal(-2_500))
    assert trading.history("core").returns == (0.0, 0.0)


def test_a_deposit_into_one_book_between_snapshots_moves_no_books_return(
    trading_services: Services, clock: SimulatedClock
) -> None:
    """The unallocated book holds AAA (its return moves with AAA); ``trend`` holds cash. A
    deposit into ``trend`` between snapshots leaves both books' returns as in a twin portfolio
    without it."""
    trading = trading_services.trading
    for name in ("core", "twin"):
        trading.create_portfolio(name, Decimal(10_000))
        trading.deposit(name, Decimal(10_000), "trend")
        trading.submit_orders(name, [OrderSpec("AAA", Side.BUY, 50)])
        trading.snapshot(name)  # Tuesday 2 January
    _at(clock, "2024-01-03T15:00")
    trading.deposit("core", Decimal(5_000), "trend")  # no snapshot on Wednesday
    _at(clock, "2024-01-04T21:00")
    for name in ("core", "twin"):
        trading.snapshot(name)
    core, twin = _book_returns(trading_services, "core"), _book_returns(trading_services, "twin")
    assert core["trend"] == twin["trend"] == 0.0
    assert core[""] == twin[""] != 0.0
    with trading_services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, "core")
        assert record is not None
        thursday = trading_repo.book_snapshots(connection, record.id, start=date(2024, 1, 4))
    assert {b.strategy: b.net_flows for b in thursday} == {"": ZERO, "trend": Decimal(5_000)}


def test_a_retaken_snapshot_counts_the_flows_since_and_the_next_one_only_the_later_ones(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    _at(clock, "2024-01-05T21:00")
    trading.create_portfolio("core", Decimal(10_000))
    assert trading.snapshot("core").net_flows == Decimal(10_000)
    _at(clock, "2024-01-06T12:00")
    trading.deposit("core", Decimal(1_000))
    _at(clock, "2024-01-07T10:00")
    sunday = trading.snapshot("core")  # Friday's again: it now sees Saturday's deposit
    assert (sunday.date, sunday.net_flows) == (date(2024, 1, 5), Decimal(11_000))
    assert trading.snapshot("core").net_flows == Decimal(11_000)  # re-taken again: the same
    _at(clock, "2024-01-07T18:00")
    trading.deposit("core", Decimal(2_000))  # after Friday's last re-take
    _at(clock, "2024-01-08T21:00")
    monday = trading.snapshot("core")
    assert (monday.date, monday.net_flows) == (date(2024, 1, 8), Decimal(2_000))
    history = trading.history("core")
    assert [s.net_flows for s in history.snapshots] == [Decimal(11_000), Decimal(2_000)]
    assert history.returns == (0.0, 0.0)


def test_a_live_step_after_a_weekend_deposit_counts_it_once(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("live", Decimal(50_000))  # the unallocated book: cash only
    trading.deposit("live", Decimal(10_000), "ma-crossover")
    params = {"fast": 2, "slow": 5}
    _at(clock, "2024-01-05T22:00")
    friday = trading.strategy_step("live", "ma-crossover", params, "AAA")
    _at(clock, "2024-01-06T12:00")
    trading.deposit("live", Decimal(5_000))
    _at(clock, "2024-01-08T21:00")
    monday = trading.strategy_step("live", "ma-crossover", params, "AAA")
    assert monday.orders == 1
    history = trading.history("live")
    assert [s.net_flows for s in history.snapshots] == [Decimal(60_000), Decimal(5_000)]
    assert friday.equity is not None
    assert monday.equity is not None
    # Monday's return is the trade's cost and AAA's move on the book's 10,000, not the deposit
    assert history.returns[-1] == pytest.approx(
        float((monday.equity - Decimal(5_000)) / friday.equity - 1)
    )
    assert abs(history.returns[-1]) < 0.001
    assert _book_returns(trading_services, "live")[""] == 0.0


@pytest.mark.parametrize("snapshot_before_the_replay", [False, True])
def test_the_snapshots_net_flows_add_up_to_the_cash_flows_of_each_book(
    trading_services: Services, clock: SimulatedClock, snapshot_before_the_replay: bool
) -> None:
    """A replay (flows before its first bar), a weekend's withdrawal and deposit, a live step
    and a later ``portfolio snapshot``: every flow is counted, none twice."""
    trading = trading_services.trading
    _at(clock, "2024-01-31T21:00")
    trading.create_portfolio("sum", Decimal(100_000), strategy="momentum-12-1")
    trading.deposit("sum", Decimal(20_000), "idle")
    if snapshot_before_the_replay:
        trading.snapshot("sum")  # 31 January's counts them; the replay's first bar must not
    params = {"lookback": 10, "skip": 2, "top_fraction": 0.67, "frequency": "weekly"}
    universe = "AAA,BBB,CCC"
    start, end = date(2024, 2, 1), date(2024, 2, 9)
    trading.run_strategy("sum", "momentum-12-1", start, end, params, universe)
    _at(clock, "2024-02-10T12:00")  # Saturday
    trading.deposit("sum", Decimal(-5_000), "idle")
    trading.deposit("sum", Decimal(3_000), "momentum-12-1")
    _at(clock, "2024-02-12T21:00")
    assert trading.strategy_step("sum", "momentum-12-1", params, universe).session is not None
    _at(clock, "2024-02-13T10:00")
    trading.deposit("sum", Decimal(1_000), "idle")
    _at(clock, "2024-02-13T21:00")
    trading.snapshot("sum")

    with trading_services.database.read() as connection:
        record = trading_repo.get_portfolio(connection, "sum")
        assert record is not None
        flows = trading_repo.cash_flows(connection, record.id)
        shots = trading_repo.snapshots(connection, record.id)
        books = trading_repo.book_snapshots(connection, record.id)
    assert sum((s.net_flows for s in shots), ZERO) == sum((f.amount for f in flows), ZERO)
    for strategy in ("idle", "momentum-12-1"):
        counted = sum((b.net_flows for b in books if b.strategy == strategy), ZERO)
        assert counted == sum((f.amount for f in flows if f.strategy == strategy), ZERO)
    assert _book_returns(trading_services, "sum")["idle"] == 0.0
    # the replay's first day is measured against the money it started with, not skipped
    history = trading.history("sum")
    assert history.return_dates[0] == history.snapshots[0].date


def test_migration_0012_recounts_the_flows_stored_snapshots_missed(database: Database) -> None:
    """Snapshots stored by the old rule (flows from their own session to the clock's date):
    the deposit before the first snapshot's session and a weekend deposit after Friday's
    snapshot were counted by none; a weekend deposit valued in a re-taken Friday stays
    Friday's."""
    from alembic import command

    from quantdesk.db.engine import alembic_config, upgrade

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)

    command.downgrade(alembic_config(database.engine), "0011")
    try:
        with database.transaction() as connection:
            trading_repo.ensure_account(connection, "paper-old", "paper", at("2024-01-03"))
            record = trading_repo.insert_portfolio(
                connection, "old", "paper-old", "paper", None, at("2024-01-03")
            )
            for day, amount, book in (
                ("2024-01-03", 10_000, ""),  # before the first snapshot's session: missed
                ("2024-01-06", 1_000, ""),  # in the cash of Friday's, re-taken on Sunday
                ("2024-01-13", 500, "trend"),  # after Friday's (taken on Friday): missed
            ):
                trading_repo.insert_cash_flow(connection, record.id, Decimal(amount), at(day), book)
            old = {  # date: (equity, net flows as the old rule stored them)
                date(2024, 1, 4): (10_000, 0),
                date(2024, 1, 5): (11_000, 1_000),
                date(2024, 1, 12): (11_000, 0),
                date(2024, 1, 16): (11_500, 0),
            }
            trading_repo.upsert_snapshots(
                connection,
                record.id,
                [
                    trading_repo.SnapshotRecord(
                        day,
                        Decimal(e),
                        ZERO,
                        Decimal(e),
                        Decimal(f),
                        ZERO,
                        ZERO,
                        {},
                        books=_old_books(day, e, f),
                    )
                    for day, (e, f) in old.items()
                ],
            )
    finally:
        upgrade(database.engine)
    with database.read() as connection:
        shots = trading_repo.snapshots(connection, record.id)
        books = trading_repo.book_snapshots(connection, record.id)
    assert [s.net_flows for s in shots] == [Decimal(10_000), Decimal(1_000), ZERO, Decimal(500)]
    assert [(b.strategy, b.net_flows) for b in books] == [
        ("", Decimal(10_000)),
        ("", Decimal(1_000)),
        ("", ZERO),
        ("", ZERO),
        ("trend", Decimal(500)),
    ]


def _old_books(day: date, equity: int, flows: int) -> tuple[trading_repo.BookSnapshotRecord, ...]:
    """The unallocated book holds 11,000 from 5 January; ``trend`` its 500 from the 16th."""
    trend = 500 if day >= date(2024, 1, 16) else 0
    books = [("", equity - trend, flows)] + ([("trend", trend, 0)] if trend else [])
    return tuple(
        trading_repo.BookSnapshotRecord(
            name, day, Decimal(e), ZERO, Decimal(e), Decimal(f), ZERO, ZERO, {}
        )
        for name, e, f in books
    )
