"""Kill -9 at random points of schema creation and of imports: the database is usable after
every kill and holds the state before or after the interrupted step, nothing in between.

Defaults: 20 kills during schema creation and 30 during imports, 50 per backend (about a minute
per backend on a loaded 2-core machine); ``QUANTDESK_KILLS=N`` runs N of each.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.services.data import DataService

_KILLS = os.environ.get("QUANTDESK_KILLS")
SCHEMA_KILLS = int(_KILLS or 20)
IMPORT_KILLS = int(_KILLS or 30)
SYMBOLS = ("KILA", "KILB", "KILC")
DAYS = 250


def timed_run(children: Any, work: Callable[[], object]) -> float:
    """How long ``work`` takes in a child, uninterrupted (it must succeed)."""
    started = time.perf_counter()
    assert children.status(children.start(work)) == 0
    return time.perf_counter() - started


def kill_at_random(children: Any, work: Callable[[], object], within: float) -> None:
    pid = children.start(work)
    time.sleep(random.uniform(0, within))
    os.kill(pid, signal.SIGKILL)
    assert children.status(pid) in {0, -signal.SIGKILL}


def test_killed_schema_creation_leaves_a_usable_database(
    new_database: Callable[[], str], children: Any, schema_state: Callable[[str], str]
) -> None:
    duration = timed_run(children, lambda: Database(new_database()).dispose())
    states = []
    for _ in range(SCHEMA_KILLS):
        url = new_database()
        kill_at_random(children, lambda url=url: Database(url).dispose(), duration * 1.2)
        states.append(schema_state(url))
        Database(url).dispose()  # the next command finds a usable database ...
        assert schema_state(url) == "complete"  # ... and completes the schema
    assert set(states) <= {"empty", "complete"}, states
    assert "empty" in states, "no kill landed before the schema was committed"


def bars_file(folder: Path, version: int) -> Path:
    """Version ``version`` of a file: one more day than the last, every close changed."""
    dates = pd.bdate_range("2000-01-03", periods=DAYS + version).strftime("%Y-%m-%d")
    close = 100.0 + version
    frame = pd.DataFrame(
        [(d, s, close) for s in SYMBOLS for d in dates], columns=["date", "symbol", "close"]
    )
    path = folder / f"bars{version}.csv"
    frame.to_csv(path, index=False)
    return path


def stored(database: Database) -> tuple[int, frozenset[float], int]:
    """(bars, distinct closes, imports logged) for the harness symbols."""
    with database.read() as connection:
        bars = connection.exec_driver_sql("SELECT count(*), count(DISTINCT close) FROM bars")
        count, _ = bars.one()
        closes = {r[0] for r in connection.exec_driver_sql("SELECT DISTINCT close FROM bars")}
        logged = connection.exec_driver_sql("SELECT count(*) FROM fetch_log").scalar_one()
    return int(count), frozenset(closes), int(logged)


def test_killed_imports_are_all_or_nothing(
    database: Database, children: Any, tmp_path: Path
) -> None:
    clock = SimulatedClock(datetime(2024, 1, 2, 21, 0, tzinfo=UTC))

    def importer(path: Path) -> Callable[[], object]:
        def run() -> None:
            child = Database(database.url)
            DataService(child, clock).import_files([path])
            child.dispose()

        return run

    database.engine.dispose()  # no pooled connection crosses the fork
    duration = timed_run(children, importer(bars_file(tmp_path, 0)))
    state = (DAYS * len(SYMBOLS), frozenset({100.0}), 1)
    assert stored(database) == state
    outcomes = []
    for version in range(1, IMPORT_KILLS + 1):
        path = bars_file(tmp_path, version)
        database.engine.dispose()
        kill_at_random(children, importer(path), duration * 1.2)
        after = ((DAYS + version) * len(SYMBOLS), frozenset({100.0 + version}), state[2] + 1)
        now = stored(database)
        assert now in {state, after}, f"kill {version}: half-written import {now}"
        outcomes.append(now == after)
        if now == state:  # the next import of the same file succeeds
            assert children.status(children.start(importer(path))) == 0
            assert stored(database) == after
        state = after
    assert not all(outcomes), "no kill landed before an import committed"
