"""FetchCache and CachedHttp: TTL expiry, retries, error mapping and secret hygiene."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from recorded_http import RecordedServer

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.errors import SourceError
from quantdesk.data.sources.http import (
    CachedHttp,
    FetchCache,
    HttpStatusError,
    public_url,
)

URL = "https://vendor.example/data"
KEY = "QDTESTKEY0123456"


def test_public_url_drops_secret_params_and_sorts_the_query() -> None:
    url = public_url(URL + "?b=2&apikey=x", {"a": 1, "ApiKey": KEY, "token": "t"})
    assert url == "https://vendor.example/data?a=1&b=2"


def test_cache_key_ignores_the_secret_and_parameter_order(cache: FetchCache) -> None:
    first = cache.key("av", URL, {"symbol": "IBM", "function": "EARNINGS", "apikey": KEY})
    second = cache.key("av", URL, {"function": "EARNINGS", "apikey": "other", "symbol": "IBM"})
    assert first == second
    assert first != cache.key("av", URL, {"function": "EARNINGS", "symbol": "MSFT"})
    assert first != cache.key("polygon", URL, {"function": "EARNINGS", "symbol": "IBM"})


def test_cache_entry_expires_after_its_ttl(cache: FetchCache, clock: SimulatedClock) -> None:
    cache.store("av", URL, {"symbol": "IBM"}, "body")
    ttl = timedelta(hours=1)
    clock.advance_to(clock.now() + timedelta(minutes=59))
    assert cache.load("av", URL, {"symbol": "IBM"}, ttl) == "body"
    clock.advance_to(clock.now() + timedelta(minutes=1))
    assert cache.load("av", URL, {"symbol": "IBM"}, ttl) is None
    # The TTL is chosen per call: the same entry is still fresh for a longer one.
    assert cache.load("av", URL, {"symbol": "IBM"}, timedelta(days=1)) == "body"


def test_unreadable_cache_entry_is_a_miss(
    cache: FetchCache, caplog: pytest.LogCaptureFixture
) -> None:
    path = cache.store("av", URL, None, "body")
    path.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert cache.load("av", URL, None, timedelta(days=1)) is None
    assert "unreadable cache entry" in caplog.text


def test_clear_removes_entries_of_one_source(cache: FetchCache) -> None:
    cache.store("av", URL, {"s": "1"}, "a")
    cache.store("av", URL, {"s": "2"}, "b")
    cache.store("yahoo", URL, None, "c")
    assert cache.clear("av") == 2
    assert cache.load("yahoo", URL, None, timedelta(days=1)) == "c"


def test_second_call_is_served_from_the_cache(server: RecordedServer, http: CachedHttp) -> None:
    server.add("/data", (200, b'{"value": 1}'))
    assert http.get_json("vendor", URL, params={"q": "x"}) == {"value": 1}
    assert http.get_json("vendor", URL, params={"q": "x"}) == {"value": 1}
    assert server.calls == 1


def test_expired_entry_is_fetched_again(
    server: RecordedServer, http: CachedHttp, clock: SimulatedClock
) -> None:
    server.add("/data", (200, b'{"value": 1}'), (200, b'{"value": 2}'))
    ttl = timedelta(minutes=5)
    assert http.get_json("vendor", URL, ttl=ttl) == {"value": 1}
    clock.advance_to(clock.now() + timedelta(minutes=5))
    assert http.get_json("vendor", URL, ttl=ttl) == {"value": 2}
    assert http.get_json("vendor", URL, ttl=ttl) == {"value": 2}
    assert server.calls == 2


def test_server_error_is_retried_with_backoff_then_succeeds(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add("/data", (503, b"busy"), (502, b"bad gateway"), (200, b"ok"))
    assert http.get_text("vendor", URL) == "ok"
    assert server.calls == 3
    assert sleeps == [1.0, 2.0]


def test_persistent_server_error_fails_after_all_attempts(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add("/data", (500, b"internal error"))
    with pytest.raises(HttpStatusError, match="vendor: symbol X: HTTP 500") as caught:
        http.get_text("vendor", URL, subject="symbol X")
    assert caught.value.status_code == 500
    assert "after 4 attempts" in str(caught.value)
    assert server.calls == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_rate_limit_waits_as_long_as_retry_after_asks(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add("/data", (429, b"slow down", {"Retry-After": "7"}), (200, b"ok"))
    assert http.get_text("vendor", URL) == "ok"
    assert sleeps == [7.0]


def test_retry_after_as_http_date_uses_the_injected_clock(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    # The fixture clock stands at 2024-01-10 12:00:00 UTC.
    later = "Wed, 10 Jan 2024 12:00:30 GMT"
    server.add("/data", (429, b"", {"Retry-After": later}), (200, b"ok"))
    assert http.get_text("vendor", URL) == "ok"
    assert sleeps == [30.0]


def test_client_error_is_not_retried(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add("/data", (404, b'{"error": "unknown symbol"}'))
    with pytest.raises(HttpStatusError, match=r"HTTP 404 Not Found.*unknown symbol"):
        http.get_json("vendor", URL, subject="symbol ZZZZ")
    assert server.calls == 1
    assert sleeps == []


def test_transport_failure_is_retried_then_reported(
    cache: FetchCache, clock: SimulatedClock, sleeps: list[float]
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        http = CachedHttp(client, cache, clock, sleep=sleeps.append, max_attempts=2)
        with pytest.raises(SourceError, match=r"request failed after 2 attempt.*ConnectError"):
            http.get_text("vendor", URL, subject="symbol X")
    assert sleeps == [1.0]


def test_bad_json_is_an_error_and_is_not_cached(server: RecordedServer, http: CachedHttp) -> None:
    server.add("/data", (200, b"<html>maintenance</html>"), (200, b'{"ok": true}'))
    with pytest.raises(SourceError, match="vendor: symbol X: answer is not valid JSON"):
        http.get_json("vendor", URL, subject="symbol X")
    assert http.get_json("vendor", URL) == {"ok": True}
    assert server.calls == 2


def test_rejected_vendor_payload_is_not_cached(server: RecordedServer, http: CachedHttp) -> None:
    server.add("/data", (200, b'{"Note": "rate limit"}'), (200, b'{"data": 1}'))

    def check(payload: dict[str, object]) -> str | None:
        return f"vendor note: {payload['Note']}" if "Note" in payload else None

    with pytest.raises(SourceError, match="vendor note: rate limit"):
        http.get_json("vendor", URL, check=check)
    assert http.get_json("vendor", URL, check=check) == {"data": 1}


def test_secret_never_reaches_cache_files_errors_logs_or_reprs(
    server: RecordedServer,
    http: CachedHttp,
    cache: FetchCache,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    echo = f'{{"error": "key {KEY} is over quota"}}'.encode()
    server.add("/data", (200, b'{"fine": 1}'))
    server.add("/echo", (403, echo))
    with caplog.at_level(logging.DEBUG):
        http.get_json("vendor", URL, params={"apikey": KEY, "symbol": "IBM"})
        http.get_json("vendor", URL, params={"apikey": KEY, "symbol": "IBM"})
        with pytest.raises(SourceError) as caught:
            http.get_json("vendor", "https://vendor.example/echo", params={"apikey": KEY})
        with pytest.raises(SourceError) as caught_header:
            http.get_json(
                "vendor",
                "https://vendor.example/echo",
                headers={"Authorization": f"Bearer {KEY}"},
            )
    # The request itself did carry the key.
    assert server.requests[0].url.params["apikey"] == KEY
    assert server.calls == 3
    for message in (str(caught.value), str(caught_header.value)):
        assert KEY not in message
        assert "***" in message
    assert KEY not in caplog.text
    assert "HTTP Request" in caplog.text  # httpx's own line was captured, then masked
    for path in tmp_path.rglob("*"):
        assert KEY not in path.name
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8")
    assert KEY not in repr(http)
    assert KEY not in repr(cache)


def test_params_extend_a_url_that_already_has_a_query(
    server: RecordedServer, http: CachedHttp
) -> None:
    # Regression: httpx replaces a URL's query when handed params, which dropped page cursors.
    server.add("/data", (200, b"ok"))
    http.get_text("vendor", URL + "?cursor=abc", params={"limit": 10})
    assert dict(server.requests[0].url.params) == {"cursor": "abc", "limit": "10"}
