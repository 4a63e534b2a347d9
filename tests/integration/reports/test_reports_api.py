"""``/api/reports``: each format as an attachment, clean problems for bad input, viewers only."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from quantdesk.api import create_app
from quantdesk.api.context import build_web_services
from quantdesk.services.auth import Role

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="module")
def api(market: Any) -> Iterator[tuple[TestClient, str]]:
    """The app over the market, with one viewer (token returned) so anonymity is refused."""
    web = build_web_services(market.services, hasher=CHEAP_HASHER)
    web.auth.add_user("viewer1", "correct horse viewer", Role.VIEWER)
    token = web.auth.create_token("viewer1", "test").secret
    with TestClient(create_app(market.services, web=web)) as client:
        yield client, token


def test_each_format_is_an_attachment(market: Any, api: tuple[TestClient, str]) -> None:
    client, token = api
    headers = {"Authorization": f"Bearer {token}"}
    pdf = client.get(f"/api/reports/backtests/{market.run_id[:8]}?period=2023", headers=headers)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment;" in pdf.headers["content-disposition"]
    assert "Backtest report" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    xlsx = client.get(
        f"/api/reports/portfolios/{market.portfolio}",
        params={"period": "2023-Q4", "format": "xlsx"},
        headers=headers,
    )
    assert xlsx.status_code == 200, xlsx.text
    assert load_workbook(io.BytesIO(xlsx.content))["Summary"]["B3"].value == "2023-Q4"

    csv = client.get(
        "/api/reports/compare",
        params=[("run_id", market.run_id), ("run_id", market.other_run_id), ("format", "csv")],
        headers=headers,
    )
    assert csv.status_code == 200, csv.text
    names = zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    assert any(name.endswith("/correlation.csv") for name in names)


def test_bad_requests_are_problems_and_anonymous_is_refused(
    market: Any, api: tuple[TestClient, str]
) -> None:
    client, token = api
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/reports/backtests/{market.run_id}").status_code == 401
    bad_period = client.get(
        f"/api/reports/backtests/{market.run_id}?period=2023-13", headers=headers
    )
    assert bad_period.status_code == 422
    assert "month 13" in bad_period.json()["detail"]
    unknown = client.get("/api/reports/portfolios/nobody", headers=headers)
    assert unknown.status_code == 404
    bad_format = client.get(f"/api/reports/backtests/{market.run_id}?format=docx", headers=headers)
    assert bad_format.status_code == 422
    one_run = client.get(f"/api/reports/compare?run_id={market.run_id}", headers=headers)
    assert one_run.status_code == 422
