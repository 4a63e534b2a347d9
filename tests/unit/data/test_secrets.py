"""Secrets with URL-special characters never leak, in any spelling, from errors or logs."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

import httpx
import pytest

from quantdesk.config import redact_url
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.errors import SourceError
from quantdesk.core.secrets import mask_secrets
from quantdesk.data.sources.http import CachedHttp

KEY = "ab/cd+ef=gh=="
FORMS = (KEY, quote(KEY, safe=""), quote_plus(KEY), base64.b64encode(KEY.encode()).decode())


def _leaks(text: str) -> list[str]:
    return [form for form in FORMS if form in text]


def _http(handler: httpx.MockTransport) -> CachedHttp:
    clock = SimulatedClock(datetime(2024, 1, 10, tzinfo=UTC))
    return CachedHttp(httpx.Client(transport=handler), None, clock, sleep=lambda _: None)


def test_mask_secrets_covers_raw_percent_encoded_and_base64() -> None:
    text = " | ".join(FORMS)
    assert _leaks(mask_secrets(text, [KEY])) == []


def test_connection_error_echoing_the_url_does_not_leak_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # regression: the transport error quotes the request URL, where the key is percent-encoded
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect for {request.url}", request=request)

    http = _http(httpx.MockTransport(refuse))
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as raised:
        http.get_text("vendor", "https://vendor.example/q", params={"apikey": KEY, "s": "IBM"})
    assert _leaks(str(raised.value)) == []
    assert _leaks(caplog.text) == []


def test_http_error_body_echoing_the_url_or_basic_auth_does_not_leak() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        token = base64.b64encode(KEY.encode()).decode()
        return httpx.Response(401, text=f"bad key in {request.url} (basic {token})")

    http = _http(httpx.MockTransport(echo))
    with pytest.raises(SourceError) as raised:
        http.get_text("vendor", "https://vendor.example/q", params={"apikey": KEY})
    assert "401" in str(raised.value)
    assert _leaks(str(raised.value)) == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://trader:pa/ss@db.internal:5432/quantdesk",
        "postgresql+psycopg://trader:p@ss/w:rd?x@db.internal:5432/quantdesk",
        "postgresql+psycopg://trader:pa%2Fss@db.internal:5432/quantdesk",
    ],
)
def test_masked_database_url_shows_no_part_of_the_password(url: str) -> None:
    assert redact_url(url) == "postgresql+psycopg://trader:***@db.internal:5432/quantdesk"


def test_logs_mask_configured_secrets_in_every_form(capsys: pytest.CaptureFixture[str]) -> None:
    from pydantic import SecretStr

    from quantdesk.config import Settings
    from quantdesk.logs import configure_logging

    settings = Settings(
        polygon_api_key=SecretStr(KEY),
        database_url="postgresql+psycopg://trader:pa/ss@db.internal/quantdesk",
    )
    configure_logging(settings)
    log = logging.getLogger("quantdesk.test")
    for form in (*FORMS, "pa/ss", quote("pa/ss", safe="")):
        log.warning("request to https://x.example/?k=%s failed", form)
    err = capsys.readouterr().err
    assert _leaks(err) == []
    assert "pa/ss" not in err
    assert "pa%2Fss" not in err
    assert err.count("***") == len(FORMS) + 2
