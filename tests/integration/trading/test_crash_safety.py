"""Crash safety: SIGKILL the trading process at random points while it rebalances, restart,
reconcile, and check that nothing was lost or counted twice.

Each cycle forks a child that rebalances the paper portfolio in a loop (batches of orders through
the order manager and the paper broker, saved broker-first), kills it with SIGKILL after a random
delay, then reconciles from a fresh session. After every cycle positions and cash equal the
broker's; at the end every broker order and execution is stored exactly once and the order event
log replays to the stored order states. ``QUANTDESK_CRASH_KILLS`` sets the kills per backend
(default 100: 200 over SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import paper as paper_repo
from quantdesk.services import Services, build_services

KILLS = int(os.environ.get("QUANTDESK_CRASH_KILLS", "100"))
TARGETS = (
    {"AAA": 0.5, "BBB": 0.3},
    {"BBB": 0.2, "CCC": 0.6},
    {"AAA": 0.9},
    {"AAA": 0.2, "BBB": 0.2, "CCC": 0.2},
)
DAY = datetime(2024, 3, 1, 21, 0, tzinfo=UTC)


def _services(url: str, data_dir: Path) -> Services:
    return build_services(
        Settings(data_dir=data_dir, database_url=url),
        clock=SimulatedClock(DAY),
        database=Database(url, auto_upgrade=False),
    )


def _child(url: str, data_dir: Path, seed: int) -> None:
    try:
        services = _services(url, data_dir)
        rng = random.Random(seed)
        while True:
            services.trading.rebalance(
                "core", targets=TARGETS[rng.randrange(len(TARGETS))], execute=True
            )
    except BaseException:  # the parent reports any way the child died other than SIGKILL
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the harness forks the trading process")
def test_kill_9_during_rebalances_loses_and_duplicates_nothing(
    trading_services: Services, tmp_path: Path
) -> None:
    url = trading_services.database.url
    trading_services.clock.advance_to(DAY)
    trading_services.trading.create_portfolio("core", Decimal(100_000))
    trading_services.database.dispose()  # no pooled connection crosses a fork
    rng = random.Random(20240301)
    killed = adopted = 0
    for cycle in range(KILLS):
        pid = os.fork()
        if pid == 0:
            _child(url, tmp_path / "child", cycle)
        time.sleep(rng.uniform(0.02, 0.3))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), f"cycle {cycle}: the child died on its own ({status})"
        killed += 1
        parent = _services(url, tmp_path / "parent")
        report = parent.trading.reconcile("core")
        assert report.clean, f"cycle {cycle}: {report.discrepancies}"
        adopted += len(report.adopted_fills)
        parent.close()
    assert killed == KILLS
    print(f"{killed} kills, {adopted} fills adopted after a crash")

    final = _services(url, tmp_path / "final")
    with final.database.read() as connection:
        state, venue_fills = paper_repo.load(connection, "paper-core")
        stored = orders_repo.load_orders(connection, "paper-core")
        fills = orders_repo.executions(connection, "paper-core")
        cached = orders_repo.cached_status(connection, "paper-core")
    assert state is not None
    broker_fills = [str(f.fill_id) for f in venue_fills]
    assert sorted(str(f.fill_id) for f in fills) == sorted(broker_fills)  # none lost, none twice
    broker_orders = {str(f.client_order_id) for f in venue_fills}
    assert broker_orders <= {s.order.client_order_id for s in stored}
    assert {s.order.client_order_id: str(s.order.status) for s in stored} == cached
    assert stored, "the children never traded between the kills"
    if KILLS >= 100:  # with this many kills some land between the broker's save and ours
        assert adopted > 0
    value = final.trading.value("core")
    assert value.cash == Decimal(state["cash"])  # type: ignore[index, arg-type]
    final.close()
