"""Kill -9 at random points of three more write paths: storing computed scores, a live trading
step's end-of-session writes, and a deposit with the snapshot that counts it. After every kill the
database holds the state before or after each interrupted transaction, nothing in between, and
the next run completes (without sending a trading batch twice).

Each path is timed on a few uninterrupted runs, noting when its first write statement ran and
how many write statements and commits it sends. A third of the kills land anywhere in the run, a
third in the time after the child's first write statement (the computing before it writes
nothing, so a kill there proves little), and a third just before a random one of its write
statements and commits (the child kills itself: the gap between two transactions is too short
for a timer to hit often). Defaults: 12 kills per path, 36 per backend (about half a minute per
backend on a loaded 2-core machine); ``QUANTDESK_KILLS=N`` runs N of each.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.data.calendar import TradingCalendar
from quantdesk.db.database import Database
from quantdesk.services import Services, build_services

KILLS = int(os.environ.get("QUANTDESK_KILLS") or 12)
WRITES = ("INSERT", "UPDATE", "DELETE", "COPY")
ZERO = Decimal(0)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the harness forks its children")


# -- the harness -------------------------------------------------------------------------------
class Window:
    """Where to kill a child's work, from a few uninterrupted runs (the median: a loaded machine
    makes the odd one slow): how long it takes, how much of that comes after its first write
    statement (the computing before it writes nothing), and how many write statements and commits
    it sends. ``timed(run)`` prepares run ``run`` in the parent and returns the child's work."""

    def __init__(
        self, children: Any, timed: Callable[[int], Callable[[], object]], runs: int = 3
    ) -> None:
        timings = []
        for run in range(runs):
            started = time.perf_counter()
            pid, reading = _start_instrumented(children, timed(run), None)
            with os.fdopen(reading, "rb") as told:
                assert told.read(1) == b"w", "the timed run wrote nothing"
                wrote = time.perf_counter()
                assert children.status(pid) == 0
                ended = time.perf_counter()
                points = int(told.read())
            timings.append((ended - started, ended - wrote, points))
        self.duration, self.writing, self.points = sorted(timings)[runs // 2]

    def kill(self, children: Any, work: Callable[[], object], kill: int) -> None:
        """SIGKILL a child doing ``work``, in turn: at a random moment of the whole run; at a
        random moment after its first write statement (timed from that statement: a slow start
        on a loaded machine does not push every kill past the commit); or just before a random one
        of its write statements and commits (the child kills itself there: no timer hits the gap
        between two transactions as surely)."""
        pid, reading = _start_instrumented(
            children, work, random.randint(1, self.points + 1) if kill % 3 == 2 else None
        )  # kill_at points + 1: the run completes
        with os.fdopen(reading, "rb") as told:  # open until the child ends: it writes to it
            if kill % 3 == 0:
                time.sleep(random.uniform(0, self.duration * 1.2))
            elif kill % 3 == 1:
                told.read(1)  # b"": it ended without writing
                time.sleep(random.uniform(0, self.writing * 1.2))
            if kill % 3 != 2:
                os.kill(pid, signal.SIGKILL)
            assert children.status(pid) in {0, -signal.SIGKILL}


def _start_instrumented(
    children: Any, work: Callable[[], object], kill_at: int | None
) -> tuple[int, int]:
    """Start ``work`` in a child that counts its write statements and the commits from the
    first write on: it writes ``w`` to a pipe at its first write statement, and their number when
    it completes; with ``kill_at``, it SIGKILLs itself just before the ``kill_at``-th. Returns
    the child's pid and the pipe's reading end."""
    reading, writing = os.pipe()

    def run() -> None:
        os.close(reading)
        points = [0]

        def seen(statement: str) -> None:
            if not points[0]:
                if not statement.lstrip()[:6].upper().startswith(WRITES):
                    return  # before the first write: reads and read-only commits
                os.write(writing, b"w")
            elif not statement.lstrip()[:6].upper().startswith((*WRITES, "COMMIT")):
                return  # a read: killing before it is killing before the next write
            points[0] += 1
            if points[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        # in the child only: every statement SQLAlchemy sends, and every commit
        event.listen(Engine, "before_cursor_execute", lambda *a: seen(a[2]))
        event.listen(Engine, "commit", lambda *_: seen("COMMIT"))
        work()
        os.write(writing, str(points[0]).encode())

    pid = children.start(run)
    os.close(writing)
    return pid, reading


def _services(url: str, data_dir: Path, now: datetime) -> Services:
    return build_services(
        Settings(data_dir=data_dir, database_url=url),
        clock=SimulatedClock(now),
        database=Database(url, auto_upgrade=False),
    )


def _in_services(
    url: str, data_dir: Path, now: datetime, work: Callable[[Services], object]
) -> Callable[[], None]:
    """``work`` on services of its own (a child's: no connection crosses the fork)."""

    def run() -> None:
        services = _services(url, data_dir, now)
        try:
            work(services)
        finally:
            services.close()

    return run


@pytest.fixture
def url(database: Database) -> Iterator[str]:
    """The migrated database's URL; the parent holds no pooled connection when it forks."""
    database.engine.dispose()
    yield database.url
    database.engine.dispose()


def _rows(url: str, sql: str, **params: object) -> list[tuple[Any, ...]]:
    database = Database(url, auto_upgrade=False)
    try:
        with database.read() as connection:
            return [tuple(r) for r in connection.execute(text(sql), params).all()]
    finally:
        database.dispose()


def _sessions(start: date, end: date) -> list[date]:
    return [d.date() for d in TradingCalendar("XNYS").sessions(start, end)]


def _bars_file(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    frame = pd.DataFrame(rows, columns=["date", "symbol", "close"])
    frame = frame.assign(open=frame["close"], high=frame["close"], low=frame["close"])
    frame.assign(volume=1_000_000).to_csv(path, index=False)
    return path


# -- 1. storing computed scores ----------------------------------------------------------------
SCORE_SYMBOLS = tuple(f"KS{a}{b}" for a in "ABCDEFGHIJ" for b in "ABCDEFGHIJKL")  # 120
SCORE_DAYS = _sessions(date(2019, 1, 2), date(2024, 6, 28))  # 54 month ends scored
SCORED_AT = datetime(2024, 6, 28, 22, 0, tzinfo=UTC)


def _score_history(folder: Path) -> Path:
    closes = 50.0 * np.exp(
        np.cumsum(
            np.random.default_rng(7).normal(0, 0.02, (len(SCORE_DAYS), len(SCORE_SYMBOLS))), 0
        )
    )
    rows = [
        (day.isoformat(), symbol, round(float(closes[i, j]), 2))
        for j, symbol in enumerate(SCORE_SYMBOLS)
        for i, day in enumerate(SCORE_DAYS)
    ]
    return _bars_file(folder / "history.csv", rows)


def _data_change(folder: Path, version: int) -> Path:
    """New closes for a few symbols: over the last 800 sessions on even versions (most stored
    score rows change), over the last month on odd ones (a few rows change: SQLite rewrites
    only those)."""
    generator = np.random.default_rng(version)
    symbols = generator.choice(SCORE_SYMBOLS, 4, replace=False)
    days = SCORE_DAYS[-800:] if version % 2 == 0 else SCORE_DAYS[-21:]
    steps = generator.normal(0, 0.03, (len(days), len(symbols)))
    closes = 50.0 * np.exp(np.cumsum(steps, 0))
    rows = [
        (day.isoformat(), str(symbol), round(float(closes[i, j]), 2))
        for j, symbol in enumerate(symbols)
        for i, day in enumerate(days)
    ]
    return _bars_file(folder / f"change{version}.csv", rows)


def _score_dump(url: str) -> tuple[int, int, str]:
    """(rows, dates, a hash of every stored score row in key order)."""
    rows = _rows(
        url,
        "SELECT score_set, CAST(date AS TEXT), instrument_id, universe, score, rank, sector_rank, "
        "weight_coverage, CAST(components AS TEXT) FROM factor_scores ORDER BY 1, 2, 3",
    )
    # PostgreSQL keeps NaN where SQLite stores NULL: one spelling for both
    plain = [tuple(None if isinstance(v, float) and np.isnan(v) else v for v in r) for r in rows]
    digest = hashlib.sha256(repr(plain).encode()).hexdigest()
    return len(rows), len({r[1] for r in rows}), digest


def test_a_killed_score_recompute_leaves_the_old_or_the_new_set(
    url: str, children: Any, tmp_path: Path
) -> None:
    import quantdesk.factors  # noqa: F401  (imported once here, not in every child)

    def recompute(services: Services) -> None:  # what `quantdesk scores --compute` does
        snapshot = services.research.current_scores(compute=True)
        assert snapshot.computed is not None

    def scores_in_child() -> Callable[[], None]:
        return _in_services(url, tmp_path / "data", SCORED_AT, recompute)

    def import_in_parent(path: Path) -> None:
        services = _services(url, tmp_path / "data", SCORED_AT)
        services.data.import_files([path])
        services.close()

    import_in_parent(_score_history(tmp_path))
    # computed here first: the children start warm (what a run costs, not a first import)
    warm = _services(url, tmp_path / "data", SCORED_AT)
    recompute(warm)
    warm.close()

    def timed(run: int) -> Callable[[], None]:
        import_in_parent(_data_change(tmp_path, 1000 + run))
        return scores_in_child()

    window = Window(children, timed)
    old = _score_dump(url)
    assert old[:2] == (54 * len(SCORE_SYMBOLS), 54)  # the first year has no 12-month history
    outcomes = []
    for version in range(1, KILLS + 1):
        import_in_parent(_data_change(tmp_path, version))
        window.kill(children, scores_in_child(), version)
        killed = _score_dump(url)
        assert children.status(children.start(scores_in_child())) == 0  # the next run completes
        new = _score_dump(url)
        assert new != old, f"version {version} changed no stored score"
        assert new[:2] == old[:2]
        assert killed in {old, new}, f"kill {version}: a half-stored score set {killed}"
        outcomes.append(killed == new)
        old = new
    assert not all(outcomes), "no kill landed before the scores were committed"


# -- 2. a live trading step --------------------------------------------------------------------
TRADED = {"AAA": (100.0, 0.001), "BBB": (50.0, -0.0005), "CCC": (20.0, 0.002)}  # start, growth
LEAP_DAY = date(2024, 2, 29)  # a month end: momentum buys AAA and CCC
DECIDED = datetime(2024, 2, 29, 21, 0, tzinfo=UTC)
MOMENTUM = "momentum-12-1"
MOMENTUM_PARAMS = {"lookback": 10, "skip": 2, "top_fraction": 0.67, "frequency": "monthly"}


def _trading_bars(folder: Path) -> Path:
    days = _sessions(date(2024, 1, 2), date(2024, 6, 28))
    rows = [
        (day.isoformat(), symbol, round(start * float(np.exp(growth * i)), 2))
        for symbol, (start, growth) in TRADED.items()
        for i, day in enumerate(days)
    ]
    return _bars_file(folder / "traded.csv", rows)


def _new_portfolio(url: str, data_dir: Path, name: str) -> None:
    """Cash in the unallocated book and in the momentum book: the snapshot has two books."""
    services = _services(url, data_dir, DECIDED - timedelta(hours=2))
    services.trading.create_portfolio(name, Decimal(10_000))
    services.trading.deposit(name, Decimal(100_000), MOMENTUM)
    services.close()


def _step(services: Services, name: str) -> Any:
    return services.trading.strategy_step(name, MOMENTUM, MOMENTUM_PARAMS, "AAA,BBB,CCC")


def _portfolio(url: str, name: str) -> tuple[int, str]:
    ((pid, account),) = _rows(url, "SELECT id, account_id FROM portfolios WHERE name = :n", n=name)
    return int(pid), str(account)


def _step_state(url: str, name: str) -> tuple[str, bool, bool]:
    """(how far the step got, has the session's snapshot, has the book's mark)."""
    pid, account = _portfolio(url, name)
    venue = _rows(url, "SELECT count(*) FROM paper_executions WHERE account_id = :a", a=account)
    ours = _rows(url, "SELECT count(*) FROM trading_orders WHERE portfolio_id = :p", p=pid)
    shot = _rows(
        url, "SELECT count(*) FROM portfolio_snapshots WHERE portfolio_id = :p AND date = :d",
        p=pid, d=LEAP_DAY,
    )  # fmt: skip
    (mark,) = _rows(
        url,
        "SELECT CAST(last_session AS TEXT) FROM strategy_allocations "
        "WHERE portfolio_id = :p AND strategy = :s",
        p=pid, s=MOMENTUM,
    )  # fmt: skip
    stage = (
        "snapshot" if shot[0][0] else "records" if ours[0][0] else "venue" if venue[0][0] else ""
    )
    return stage or "nothing", bool(shot[0][0]), mark[0] == LEAP_DAY.isoformat()


def _check_step_stored(url: str, name: str) -> None:
    """The batch stored once (each order and each fill once, the venue's fills ours) and the
    snapshot's books summing to the portfolio."""
    pid, account = _portfolio(url, name)
    orders = _rows(
        url,
        "SELECT client_order_id, symbol, side FROM trading_orders WHERE portfolio_id = :p",
        p=pid,
    )
    assert len({o[0] for o in orders}) == len(orders), orders  # no client order id twice
    assert sorted((o[1], o[2]) for o in orders) == [("AAA", "buy"), ("CCC", "buy")]
    fills = _rows(
        url,
        "SELECT o.client_order_id, e.execution_id FROM executions e "
        "JOIN trading_orders o ON o.id = e.order_id WHERE e.portfolio_id = :p",
        p=pid,
    )
    venue = _rows(
        url,
        "SELECT client_order_id, execution_id FROM paper_executions WHERE account_id = :a",
        a=account,
    )
    assert sorted(Counter(f[0] for f in fills).values()) == [1, 1], fills
    assert sorted(fills) == sorted(venue)
    (equity,) = _rows(
        url, "SELECT equity FROM portfolio_snapshots WHERE portfolio_id = :p AND date = :d",
        p=pid, d=LEAP_DAY,
    )  # fmt: skip
    books = _rows(
        url, "SELECT strategy, equity FROM book_snapshots WHERE portfolio_id = :p AND date = :d",
        p=pid, d=LEAP_DAY,
    )  # fmt: skip
    assert {b[0] for b in books} == {"", MOMENTUM}
    assert _cents(sum((Decimal(str(b[1])) for b in books), ZERO)) == _cents(equity[0])


def _cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_a_killed_live_step_stores_its_snapshot_with_its_mark_and_sends_once(
    url: str, children: Any, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    services = _services(url, data_dir, DECIDED)
    services.data.import_files([_trading_bars(tmp_path)])
    services.close()

    def step_in_child(name: str) -> Callable[[], None]:
        return _in_services(url, data_dir, DECIDED, lambda s: _step(s, name))

    _new_portfolio(url, data_dir, "warm")  # stepped here first: the children start warm
    warm = _services(url, data_dir, DECIDED)
    assert _step(warm, "warm").orders == 2
    warm.close()

    def timed(run: int) -> Callable[[], None]:
        _new_portfolio(url, data_dir, f"timed{run}")
        return step_in_child(f"timed{run}")

    window = Window(children, timed)
    for run in range(3):
        assert _step_state(url, f"timed{run}") == ("snapshot", True, True)
        _check_step_stored(url, f"timed{run}")
    stages = []
    for kill in range(1, KILLS + 1):
        name = f"killed{kill}"
        _new_portfolio(url, data_dir, name)
        window.kill(children, step_in_child(name), kill)
        stage, has_snapshot, has_mark = _step_state(url, name)
        assert has_snapshot == has_mark, f"kill {kill} ({stage}): snapshot without mark or back"
        stages.append(stage)
        # the cron job runs again: the step is finished, its batch not sent twice
        rerun = _services(url, data_dir, DECIDED + timedelta(minutes=5))
        again = _step(rerun, name)
        assert again.session == (None if has_mark else LEAP_DAY), again.note
        assert again.orders == (2 if stage == "nothing" else 0), (stage, again.note)
        value = rerun.trading.value(name).equity
        assert _step(rerun, name).session is None  # done now
        rerun.close()
        assert _step_state(url, name) == ("snapshot", True, True)
        _check_step_stored(url, name)
        (stored,) = _rows(
            url,
            "SELECT s.equity FROM portfolio_snapshots s JOIN portfolios p ON p.id = "
            "s.portfolio_id WHERE p.name = :n",
            n=name,
        )
        assert _cents(stored[0]) == _cents(value)
    assert set(stages) != {"snapshot"}, "no kill landed before the snapshot was committed"


# -- 3. a deposit and the snapshot that counts it ----------------------------------------------
def _flows_state(url: str, name: str) -> tuple[int, Decimal, Decimal, Decimal]:
    """(cash flows, their sum, the venue's cash, the flows counted by stored snapshots)."""
    pid, account = _portfolio(url, name)
    amounts = _rows(url, "SELECT amount FROM cash_flows WHERE portfolio_id = :p", p=pid)
    flows = [Decimal(str(r[0])) for r in amounts]
    (state,) = _rows(url, "SELECT state FROM paper_broker_state WHERE account_id = :a", a=account)
    document = state[0] if isinstance(state[0], dict) else json.loads(state[0])
    counted = _rows(url, "SELECT net_flows FROM portfolio_snapshots WHERE portfolio_id = :p", p=pid)
    return (
        len(flows),
        sum(flows, ZERO),
        Decimal(document["cash"]),
        sum((Decimal(str(r[0])) for r in counted), ZERO),
    )


def _check_books_sum(url: str, name: str) -> None:
    """Each stored snapshot's books sum to it: in value and in the flows they count."""
    rows = _rows(
        url,
        "SELECT s.date, s.equity, b.strategy, b.equity, b.net_flows, s.net_flows "
        "FROM portfolio_snapshots s JOIN portfolios p ON p.id = s.portfolio_id "
        "JOIN book_snapshots b ON b.portfolio_id = s.portfolio_id AND b.date = s.date "
        "WHERE p.name = :n",
        n=name,
    )
    days: dict[object, list[tuple[Any, ...]]] = {}
    for row in rows:
        days.setdefault(row[0], []).append(row)
    for day, books in days.items():
        assert _cents(sum((Decimal(str(b[3])) for b in books), ZERO)) == _cents(books[0][1]), day
        assert _cents(sum((Decimal(str(b[4])) for b in books), ZERO)) == _cents(books[0][5]), day


def test_a_killed_deposit_is_all_or_nothing_and_counted_by_one_snapshot(
    url: str, children: Any, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    services = _services(url, data_dir, datetime(2024, 1, 31, 21, 0, tzinfo=UTC))
    services.data.import_files([_trading_bars(tmp_path)])
    services.trading.create_portfolio("core", Decimal(10_000))
    services.close()
    days = _sessions(date(2024, 2, 1), date(2024, 6, 28))

    def deposit_and_snapshot(amount: Decimal, book: str) -> Callable[[Services], None]:
        def run(services: Services) -> None:
            services.trading.deposit("core", amount, book)
            services.trading.snapshot("core")

        return run

    def at(kill: int) -> datetime:
        """A session a kill's deposit is made on (a later one for each kill while there are
        sessions enough), ten seconds later for each kill: the clock never goes back."""
        day = days[kill * (len(days) - 1) // (KILLS + 1)]
        return datetime.combine(day, DECIDED.timetz()) + timedelta(seconds=10 * kill)

    warm = _services(url, data_dir, at(0))  # done here first: the children start warm
    deposit_and_snapshot(Decimal(1), "")(warm)
    warm.close()
    window = Window(
        children,
        lambda _: _in_services(url, data_dir, at(0), deposit_and_snapshot(Decimal(1), "")),
    )
    before = _flows_state(url, "core")
    assert before[1] == before[2] == before[3] == Decimal(10_004)
    lost = 0
    for kill in range(1, KILLS + 1):
        amount, book = Decimal(1000 + kill), ("" if kill % 2 else MOMENTUM)
        work = _in_services(url, data_dir, at(kill), deposit_and_snapshot(amount, book))
        window.kill(children, work, kill)
        count, total, venue, counted = _flows_state(url, "core")
        assert (count, total) in {before[:2], (before[0] + 1, before[1] + amount)}, kill
        assert venue == total, f"kill {kill}: the venue's cash {venue} is not the flows' {total}"
        assert counted in {before[3], total}, f"kill {kill}: snapshots counted {counted}"
        _check_books_sum(url, "core")
        # the user sees the deposit missing (or not yet in a snapshot) and completes it
        services = _services(url, data_dir, at(kill) + timedelta(seconds=5))
        if count == before[0]:
            lost += 1
            services.trading.deposit("core", amount, book)
        services.trading.snapshot("core")
        services.close()
        before = _flows_state(url, "core")
        assert before[1] == before[2] == before[3], f"kill {kill}: {before}"
        _check_books_sum(url, "core")
    assert before[0] == KILLS + 5
    assert lost, "no kill landed before a deposit was committed"
