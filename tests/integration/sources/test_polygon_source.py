"""PolygonSource against recorded aggregates v2 answers."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from recorded_http import RecordedServer

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import ConfigurationError, SourceError
from quantdesk.data.ports import BAR_COLUMNS, BarSource
from quantdesk.data.sources.http import CachedHttp, HttpStatusError
from quantdesk.data.sources.polygon import PolygonSource

KEY = "PGTESTKEY9876543210"
DAY_RANGE = "/v2/aggs/ticker/AAPL/range/1/day/2024-01-02/2024-01-05"
PAGE_TWO = "/v2/aggs/ticker/AAPL/range/1/day/1704344400000/1704430800000"


def test_daily_aggregates_follow_next_url_and_stamp_the_new_york_date(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(DAY_RANGE, (200, "polygon/aggs_aapl_day_page1.json"))
    server.add(PAGE_TWO, (200, "polygon/aggs_aapl_day_page2.json"))
    source = PolygonSource(http, KEY)
    assert isinstance(source, BarSource)

    bars = source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))

    assert tuple(bars.columns) == BAR_COLUMNS
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    # Polygon's t is 05:00 UTC (midnight in New York); the bar sits at midnight UTC.
    assert list(bars["ts"].dt.strftime("%Y-%m-%d %H:%M%z")) == [
        "2024-01-02 00:00+0000",
        "2024-01-03 00:00+0000",
        "2024-01-04 00:00+0000",
        "2024-01-05 00:00+0000",
    ]
    first, last = bars.iloc[0], bars.iloc[3]
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        187.15,
        188.44,
        183.885,
        185.64,
    )
    assert first["volume"] == 82_488_674
    assert last["close"] == pytest.approx(181.18)
    assert bars["adj_close"].isna().all()

    assert server.calls == 2
    first_request, second_request = server.requests
    assert first_request.url.params["adjusted"] == "true"
    assert first_request.url.params["sort"] == "asc"
    # The cursor page is requested exactly as next_url gave it.
    assert dict(second_request.url.params) == {"cursor": "bGltaXQ9MiZzb3J0PWFzYw"}
    for request in server.requests:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert KEY not in str(request.url)


def test_minute_bars_keep_their_utc_instant(server: RecordedServer, http: CachedHttp) -> None:
    server.add(
        "/v2/aggs/ticker/AAPL/range/1/minute/2024-01-05/2024-01-05",
        (200, "polygon/aggs_aapl_minute.json"),
    )
    bars = PolygonSource(http, KEY).fetch_bars(
        ["AAPL"], date(2024, 1, 5), date(2024, 1, 5), Timeframe.M1
    )
    assert list(bars["ts"].dt.strftime("%Y-%m-%dT%H:%M%z")) == [
        "2024-01-05T14:30+0000",
        "2024-01-05T14:31+0000",
        "2024-01-05T14:32+0000",
    ]
    assert bars.iloc[1]["open"] == pytest.approx(182.305)
    assert bars.iloc[2]["volume"] == 301_544


@pytest.mark.parametrize(
    ("timeframe", "path_part"),
    [
        (Timeframe.M5, "/range/5/minute/"),
        (Timeframe.M15, "/range/15/minute/"),
        (Timeframe.H1, "/range/1/hour/"),
    ],
)
def test_intraday_timeframes_map_to_multiplier_and_timespan(
    server: RecordedServer, http: CachedHttp, timeframe: Timeframe, path_part: str
) -> None:
    server.add(lambda request: True, (200, "polygon/aggs_empty.json"))
    PolygonSource(http, KEY).fetch_bars(["AAPL"], date(2024, 1, 5), date(2024, 1, 5), timeframe)
    assert path_part in server.requests[0].url.path


def test_empty_result_gives_an_empty_frame(server: RecordedServer, http: CachedHttp) -> None:
    server.add(lambda request: True, (200, "polygon/aggs_empty.json"))
    bars = PolygonSource(http, KEY).fetch_bars(["AAPL"], date(2024, 1, 6), date(2024, 1, 7))
    assert bars.empty
    assert tuple(bars.columns) == BAR_COLUMNS
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"


def test_not_authorized_names_the_symbol_without_the_key(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add(DAY_RANGE, (403, "polygon/error_not_authorized.json"))
    with pytest.raises(
        HttpStatusError, match=r"polygon: symbol AAPL: HTTP 403.*NOT_AUTHORIZED"
    ) as caught:
        PolygonSource(http, KEY).fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert caught.value.status_code == 403
    assert sleeps == []
    assert KEY not in str(caught.value)


def test_error_status_on_http_200_is_a_source_error(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(DAY_RANGE, (200, "polygon/error_unknown_key.json"))
    with pytest.raises(
        SourceError, match="polygon: symbol AAPL: Polygon status ERROR: Unknown API Key"
    ):
        PolygonSource(http, KEY).fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))


def test_rate_limit_is_retried(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add(
        DAY_RANGE,
        (429, b'{"status":"ERROR","error":"You\'ve exceeded the maximum requests per minute"}'),
        (200, "polygon/aggs_aapl_day_page2.json"),
    )
    bars = PolygonSource(http, KEY).fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert len(bars) == 2
    assert sleeps == [1.0]


def test_pages_are_cached(server: RecordedServer, http: CachedHttp) -> None:
    server.add(DAY_RANGE, (200, "polygon/aggs_aapl_day_page1.json"))
    server.add(PAGE_TWO, (200, "polygon/aggs_aapl_day_page2.json"))
    source = PolygonSource(http, KEY)
    source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert server.calls == 2


def test_key_stays_out_of_repr_and_logs(
    server: RecordedServer, http: CachedHttp, caplog: pytest.LogCaptureFixture
) -> None:
    server.add(lambda request: True, (200, "polygon/aggs_empty.json"))
    source = PolygonSource(http, KEY)
    with caplog.at_level(logging.DEBUG):
        source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert KEY not in caplog.text
    assert KEY not in repr(source)


def test_api_key_is_required(http: CachedHttp) -> None:
    with pytest.raises(ConfigurationError, match="QUANTDESK_POLYGON_API_KEY"):
        PolygonSource(http, "")
