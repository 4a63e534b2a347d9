"""Fixtures for the remote-source tests: a recorded server, a simulated clock, a cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from recorded_http import RecordedServer

from quantdesk.core.clock import SimulatedClock
from quantdesk.data.sources.http import CachedHttp, FetchCache


@pytest.fixture
def server() -> RecordedServer:
    return RecordedServer()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2024, 1, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def cache(tmp_path: Path, clock: SimulatedClock) -> FetchCache:
    return FetchCache(tmp_path / "cache", clock)


@pytest.fixture
def http(
    server: RecordedServer, cache: FetchCache, clock: SimulatedClock, sleeps: list[float]
) -> Iterator[CachedHttp]:
    with httpx.Client(transport=httpx.MockTransport(server.handle)) as client:
        yield CachedHttp(client, cache, clock, sleep=sleeps.append)
