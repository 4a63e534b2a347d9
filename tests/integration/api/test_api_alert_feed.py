"""Alerts stored by another process (``quantdesk trade run``, a command-line reconcile) reach
the running server's event stream within a poll (about a second); alerts of the server's own
services are pushed at once and only once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from test_api_events import listen, wait_for_subscriber

from quantdesk.config import Settings
from quantdesk.db.database import Database
from quantdesk.services import Services, build_services
from quantdesk.services.alert_feed import AlertFeed
from quantdesk.services.alerts import AlertKind, AlertView, NewAlert, Severity
from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from api_support import ApiHarness


def alert(key: str) -> NewAlert:
    return NewAlert(AlertKind.RECONCILE_DIFFERENCE, Severity.CRITICAL, f"look at {key}", key=key)


@pytest.fixture
def other_process(services: Services, tmp_path: Path) -> Iterator[Services]:
    """A second services container on the same database, as ``quantdesk trade run`` builds."""
    database = Database(services.database.url)
    other = build_services(
        Settings(data_dir=tmp_path / "other", database_url=database.url),
        clock=services.clock,
        database=database,
    )
    yield other
    other.close()
    database.dispose()


def test_an_alert_stored_by_another_process_reaches_the_event_stream(
    harness: ApiHarness, other_process: Services
) -> None:
    found: list[dict[str, object]] = []
    thread = listen(harness.as_role(Role.VIEWER), "topics=alert&limit=2", found)
    wait_for_subscriber(harness)
    own = harness.services.alerts.raise_alert(alert("here"))
    started = time.monotonic()
    foreign = other_process.alerts.raise_alert(alert("there"))
    assert own is not None
    assert foreign is not None
    thread.join(timeout=15)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), found
    # the server's own alert once (the poll skips it), then the other process's
    assert [event["data"]["id"] for event in found] == [own.id, foreign.id]  # type: ignore[index]
    assert found[1]["data"]["message"] == "look at there"  # type: ignore[index]
    assert elapsed < 5


def test_the_feed_publishes_an_alert_the_poll_read_first_once(services: Services) -> None:
    heard: list[AlertView] = []
    feed = AlertFeed(services.alerts, heard.append, interval_seconds=3600)
    feed.start()
    try:
        stored = services.alerts.raise_alert(alert("race"))  # no listener: the poll wins
        assert stored is not None
        assert feed.poll_once() == 1
        feed.raised(stored)  # the listener, late
        assert feed.poll_once() == 0
        services.alerts.add_listener(feed.raised)
        second = services.alerts.raise_alert(alert("listener first"))
        assert feed.poll_once() == 0
    finally:
        feed.stop()
    assert [a.id for a in heard] == [stored.id, second.id]  # type: ignore[union-attr]
