"""A remote update runs the real adapter on recorded responses and lands in the database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.db.database import Database
from quantdesk.services import build_services

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "recorded" / "alpha_vantage"
API_KEY = "DEMO-KEY-never-shown"


def alpha_vantage(request: httpx.Request) -> httpx.Response:
    function = request.url.params["function"]
    name = {"TIME_SERIES_DAILY_ADJUSTED": "daily_adjusted_ibm", "EARNINGS": "earnings_ibm"}
    return httpx.Response(200, content=(RECORDED / f"{name[function]}.json").read_bytes())


def test_alpha_vantage_update_stores_bars_and_earnings(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database.url,
        alphavantage_api_key=SecretStr(API_KEY),
    )
    clock = SimulatedClock(datetime(2024, 1, 8, 12, tzinfo=UTC))
    services = build_services(settings, clock=clock, database=database)
    client = httpx.Client(transport=httpx.MockTransport(alpha_vantage))

    report = services.reference.update_from_source(
        "alpha_vantage", ["IBM"], date(2023, 12, 1), date(2024, 1, 5), client=client
    )

    assert report.inserted == 5
    latest = services.data.get_latest_bar("IBM")
    assert (latest["close"], latest["adj_close"]) == (160.86, 156.9217)
    earnings = services.reference.get_earnings(["IBM"])
    row = earnings.loc[earnings["report_date"] == "2024-01-24"].iloc[0]
    assert (row["eps"], row["eps_estimate"], row["release_time"]) == (3.87, 3.78, "post")
    again = services.reference.update_from_source(
        "alpha_vantage", ["IBM"], date(2023, 12, 1), date(2024, 1, 5), client=client
    )
    assert (again.inserted, again.updated) == (0, 0)
    assert API_KEY not in repr(settings)
    assert API_KEY not in caplog.text
    cached = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert cached
    assert API_KEY not in cached
