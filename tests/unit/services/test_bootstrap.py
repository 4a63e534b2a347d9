"""The composition root builds each service once, on first use (issue 11: a command imported
and built every service; ``backtest`` paid for trading, reports and research)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.services import build_services


def test_services_are_built_on_first_use_once_and_wired_to_each_other(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'q.sqlite'}")
    services = build_services(settings, clock=SimulatedClock(datetime(2024, 1, 2, tzinfo=UTC)))
    try:
        assert services._built == {}  # nothing built (nor its module imported) up front
        with ThreadPoolExecutor(max_workers=8) as pool:
            seen = list(pool.map(lambda _: services.trading, range(16)))
        assert all(service is seen[0] for service in seen)
        assert services.trading._backtest is services.backtest  # one instance, shared
        assert services.trading._research is services.research
        assert services.research._data is services.data is services.backtest._data
        assert "reports" not in services._built
    finally:
        services.close()


def test_closing_unused_services_opens_no_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'q.sqlite'}")
    build_services(settings).close()
    assert not (tmp_path / "q.sqlite").exists()
