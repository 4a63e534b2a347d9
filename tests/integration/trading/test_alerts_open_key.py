"""One open alert per key is a guarantee of the database (a partial unique index), not of a
read-then-insert: two processes raising the same condition at once store one alert."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.db.tables import Alert
from quantdesk.services.alerts import AlertKind, AlertService, AlertView, NewAlert, Severity

AT = datetime(2024, 6, 3, 15, tzinfo=UTC)


def new_alert(key: str) -> NewAlert:
    return NewAlert(AlertKind.JOB_FAILED, Severity.WARNING, f"job {key} failed", key=key)


def open_count(database: Database, key: str) -> int:
    with database.read() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(Alert)
                .where(Alert.key == key, Alert.acknowledged_at.is_(None))
            ).scalar_one()
        )


def row(key: str) -> dict[str, object]:
    return {"kind": "job_failed", "severity": "info", "message": "m", "key": key, "created_at": AT}


def test_the_database_refuses_a_second_open_alert_with_the_same_key(database: Database) -> None:
    with database.transaction() as connection:
        connection.execute(insert(Alert), [row("job:1")])
    with pytest.raises(IntegrityError), database.transaction() as connection:
        connection.execute(insert(Alert), [row("job:1")])
    assert open_count(database, "job:1") == 1


def test_an_acknowledged_alert_does_not_block_a_new_one(database: Database) -> None:
    with database.transaction() as connection:
        connection.execute(insert(Alert), [{**row("job:1"), "acknowledged_at": AT}] * 2)
        connection.execute(insert(Alert), [row("job:1")])
    assert open_count(database, "job:1") == 1


def test_simultaneous_raises_of_one_key_store_one_open_alert(database: Database) -> None:
    """Each of two services (two processes' worth: separate engines) raises every key at the
    same moment; per key one raise returns the alert, the other ``None``."""
    other = Database(database.url)
    services = [AlertService(d, SimulatedClock(AT)) for d in (database, other)]
    heard: list[AlertView] = []
    for service in services:
        service.add_listener(heard.append)
    keys = [f"race:{i}" for i in range(25)]
    barrier = threading.Barrier(2)
    results: dict[int, list[AlertView | None]] = {0: [], 1: []}
    failures: list[BaseException] = []

    def raise_all(which: int) -> None:
        try:
            for key in keys:
                barrier.wait(timeout=30)
                results[which].append(services[which].raise_alert(new_alert(key)))
        except BaseException as failure:  # reported by the test thread
            failures.append(failure)
            barrier.abort()

    threads = [threading.Thread(target=raise_all, args=(i,)) for i in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        other.dispose()
    assert failures == []
    for index, key in enumerate(keys):
        assert open_count(database, key) == 1, key
        stored = [results[0][index], results[1][index]]
        assert sum(view is not None for view in stored) == 1, (key, stored)
    assert sorted(view.id for view in heard) == sorted(
        view.id for view in results[0] + results[1] if view is not None
    )
