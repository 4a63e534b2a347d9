"""Crash safety: SIGKILL the trading process at random points while it rebalances or replays a
strategy, restart, reconcile, continue — and check that nothing was lost or counted twice.

Each cycle forks a child from the warm test process (a fresh database connection, everything
imported), lets it trade, kills it with SIGKILL after a random delay, then reconciles from a
fresh session. After every kill positions and cash equal the broker's. At the end every broker
execution is stored exactly once, every order the broker saw is stored, and the order event log
replays to the stored order states.

* Rebalances: the child rebalances the unallocated book, or two strategy books netted as one
  batch (crosses inside the account, the net to the broker), in a loop.
* Replays: the child runs — or, after a kill, continues — ``momentum-12-1`` replayed over three
  months of history; when a replay completes, its portfolio must equal an uninterrupted replay of
  the same window (orders, fills, positions, cash and every daily snapshot), and the next round
  starts on a new portfolio.

``QUANTDESK_CRASH_KILLS`` sets the kills per backend, half for each kind (default 100: 200 over
SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import paper as paper_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.services import Services, build_services

KILLS = int(os.environ.get("QUANTDESK_CRASH_KILLS", "100"))
REBALANCE_KILLS = KILLS // 2
REPLAY_KILLS = KILLS - REBALANCE_KILLS
TARGETS = (
    {"AAA": 0.5, "BBB": 0.3},
    {"BBB": 0.2, "CCC": 0.6},
    {"AAA": 0.9},
    {"AAA": 0.2, "BBB": 0.2, "CCC": 0.2},
)
DAY = datetime(2024, 3, 1, 21, 0, tzinfo=UTC)
REPLAY_START, REPLAY_END = date(2024, 2, 1), date(2024, 4, 30)
REPLAY_PARAMS = {"lookback": 10, "skip": 2, "top_fraction": 0.67, "frequency": "weekly"}
UNIVERSE = "AAA,BBB,CCC"
STRATEGY = "momentum-12-1"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the harness forks the trader")


def _services(url: str, data_dir: Path, now: datetime = DAY) -> Services:
    return build_services(
        Settings(data_dir=data_dir, database_url=url),
        clock=SimulatedClock(now),
        database=Database(url, auto_upgrade=False),
    )


def _in_child(work: Callable[[], None]) -> None:
    """Run ``work`` in the forked child; exit 0 when it is done, 3 (with the trace) on error."""
    try:
        work()
    except BaseException:  # the parent reports any way the child died other than SIGKILL
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)
    os._exit(0)


def _kill_after(pid: int, delay: float) -> bool:
    """SIGKILL ``pid`` after ``delay`` seconds; False if it had finished (exit 0) by then."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WIFEXITED(status), f"the child died on its own ({status})"
            assert os.WEXITSTATUS(status) == 0, f"the child failed ({status})"
            return False
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status):  # it finished between the last look and the kill
        assert os.WEXITSTATUS(status) == 0, f"the child died on its own ({status})"
        return False
    assert os.WIFSIGNALED(status), f"the child died on its own ({status})"
    return True


def _reconcile_clean(url: str, data_dir: Path, portfolio: str) -> int:
    """Restart and reconcile; the books must equal the broker's. Returns fills adopted."""
    parent = _services(url, data_dir)
    report = parent.trading.reconcile(portfolio)
    assert report.clean, report.discrepancies
    parent.close()
    return len(report.adopted_fills)


def _check_stores(url: str, data_dir: Path, portfolio: str) -> None:
    """Every broker execution stored once, every broker order stored, the log replays to the
    stored states, and our cash is the broker's."""
    final = _services(url, data_dir, datetime(2024, 6, 28, 21, tzinfo=UTC))
    account = f"paper-{portfolio}"
    with final.database.read() as connection:
        state, venue_fills = paper_repo.load(connection, account)
        stored = orders_repo.load_orders(connection, account)
        fills = orders_repo.broker_executions(connection, account)
        cached = orders_repo.cached_status(connection, account)
    assert state is not None
    broker_fills = [str(f.fill_id) for f in venue_fills]
    assert sorted(str(f.fill_id) for f in fills) == sorted(broker_fills)  # none lost, none twice
    broker_orders = {str(f.client_order_id) for f in venue_fills}
    assert broker_orders <= {s.order.client_order_id for s in stored}
    assert {s.order.client_order_id: str(s.order.status) for s in stored} == cached
    assert stored, "the children never traded between the kills"
    value = final.trading.value(portfolio)
    assert value.cash == Decimal(state["cash"])  # type: ignore[index, arg-type]
    assert sum(b.cash for b in value.books) == value.cash
    final.close()


def test_kill_9_during_rebalances_loses_and_duplicates_nothing(
    trading_services: Services, tmp_path: Path
) -> None:
    url = trading_services.database.url
    trading_services.clock.advance_to(DAY)
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(100_000))
    trading.deposit("core", Decimal(50_000), "alpha")
    trading.deposit("core", Decimal(50_000), "beta")
    trading_services.database.dispose()  # no pooled connection crosses a fork

    def rebalance_forever(seed: int) -> None:
        services = _services(url, tmp_path / "child")
        rng = random.Random(seed)
        while True:
            if rng.random() < 0.5:
                services.trading.rebalance(
                    "core", targets=TARGETS[rng.randrange(len(TARGETS))], execute=True
                )
            else:  # two books netted: opposite wishes cross, the net goes to the broker
                books = {"alpha": TARGETS[rng.randrange(4)], "beta": TARGETS[rng.randrange(4)]}
                services.trading.rebalance_books("core", targets=books, execute=True)

    rng = random.Random(20240301)
    adopted = 0
    watcher = Database(url, auto_upgrade=False)
    for cycle in range(REBALANCE_KILLS):
        watcher.dispose()  # no pooled connection crosses a fork
        stored = _orders(watcher, "paper-core")
        pid = os.fork()
        if pid == 0:
            _in_child(lambda: rebalance_forever(cycle))  # noqa: B023 - runs in the child now
        # most kills land while batches are flowing (after the child's next stored batch, so a
        # loaded machine cannot starve it), the rest anywhere — start-up, reconciliation, …
        if rng.random() < 0.7:
            assert _wait_for_growth(partial(_orders, watcher, "paper-core"), stored, pid)
        assert _kill_after(pid, rng.uniform(0.0, 0.15)), f"cycle {cycle}: the loop ended"
        adopted += _reconcile_clean(url, tmp_path / "parent", "core")
    watcher.dispose()
    print(f"{REBALANCE_KILLS} kills during rebalances, {adopted} fills adopted after a crash")
    _check_stores(url, tmp_path / "final", "core")
    if REBALANCE_KILLS >= 100:  # with this many kills some land between the broker's save and ours
        assert adopted > 0


def _snapshots(database: Database, portfolio: str) -> int:
    with database.read() as connection:
        record = trading_repo.get_portfolio(connection, portfolio)
        assert record is not None
        return len(trading_repo.snapshots(connection, record.id))


def _orders(database: Database, account: str) -> int:
    with database.read() as connection:
        return len(orders_repo.cached_status(connection, account))


def _wait_for_growth(count: Callable[[], int], done: int, pid: int) -> bool:
    """Wait until ``count()`` exceeds ``done`` (the child made progress); False if the child
    finished first."""
    while count() <= done:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            assert os.WIFEXITED(status), f"the child died on its own ({status})"
            assert os.WEXITSTATUS(status) == 0, f"the child failed ({status})"
            return False
        time.sleep(0.01)
    return True


def _replay_state(services: Services, portfolio: str) -> dict[str, object]:
    """What an interrupted and an uninterrupted replay must agree on (ids by sequence)."""
    value = services.trading.value(portfolio)
    orders = [
        (
            o.client_order_id.rsplit("-", 1)[1],
            o.symbol,
            o.side,
            o.quantity,
            o.status,
            o.filled_quantity,
            o.average_fill_price,
        )
        for o in services.trading.list_orders(portfolio)
    ]
    history = services.trading.history(portfolio)
    return {
        "orders": orders,
        "positions": [(p.strategy, p.symbol, p.quantity, p.average_cost) for p in value.positions],
        "cash": value.cash,
        "commissions": value.commissions,
        "snapshots": [(s.date, s.cash, s.equity) for s in history.snapshots],
    }


def test_kill_9_during_replays_resumes_to_the_uninterrupted_result(
    trading_services: Services, tmp_path: Path
) -> None:
    url = trading_services.database.url
    opening = datetime(2024, 1, 31, 21, tzinfo=UTC)
    reference = _services(url, tmp_path / "reference", opening)
    reference.trading.create_portfolio("reference", Decimal(100_000), strategy=STRATEGY)
    reference.trading.resume_strategy(
        "reference", STRATEGY, REPLAY_START, REPLAY_END, REPLAY_PARAMS, UNIVERSE
    )
    expected = _replay_state(reference, "reference")
    assert len(expected["snapshots"]) == 62  # type: ignore[arg-type] # sessions Feb–Apr 2024
    assert expected["orders"]
    reference.close()
    trading_services.database.dispose()

    def continue_replay(portfolio: str) -> None:
        services = _services(url, tmp_path / "child", opening)
        services.trading.resume_strategy(
            portfolio, STRATEGY, REPLAY_START, REPLAY_END, REPLAY_PARAMS, UNIVERSE
        )

    rng = random.Random(20240131)
    kills = adopted = rounds = 0
    watcher = Database(url, auto_upgrade=False)
    while kills < REPLAY_KILLS:
        rounds += 1
        portfolio = f"replay{rounds}"
        opener = _services(url, tmp_path / "parent", opening)
        opener.trading.create_portfolio(portfolio, Decimal(100_000), strategy=STRATEGY)
        opener.close()
        while True:
            watcher.dispose()  # no pooled connection crosses a fork
            done = _snapshots(watcher, portfolio)
            pid = os.fork()
            if pid == 0:
                _in_child(lambda: continue_replay(portfolio))  # noqa: B023 - runs in the child now
            # most kills land while sessions are being processed (after the child's next
            # snapshot), the rest anywhere — in start-up, reconciliation, the targets
            grown = partial(_snapshots, watcher, portfolio)
            if rng.random() < 0.75 and not _wait_for_growth(grown, done, pid):
                break  # the replay completed
            if not _kill_after(pid, rng.uniform(0.0, 0.15)):
                break
            kills += 1
            adopted += _reconcile_clean(url, tmp_path / "parent", portfolio)
            if kills == REPLAY_KILLS:
                break
        # continue to the end (nothing left to do when the child completed it)
        last = _services(url, tmp_path / "parent", opening)
        last.trading.resume_strategy(
            portfolio, STRATEGY, REPLAY_START, REPLAY_END, REPLAY_PARAMS, UNIVERSE
        )
        assert _replay_state(last, portfolio) == expected, f"round {rounds} differs"
        last.close()
        _check_stores(url, tmp_path / "final", portfolio)
    watcher.dispose()
    print(f"{kills} kills during {rounds} replays, {adopted} fills adopted after a crash")
    assert kills == REPLAY_KILLS
