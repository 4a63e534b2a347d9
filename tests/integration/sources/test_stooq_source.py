"""StooqSource against recorded CSV downloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import httpx
import pytest
from recorded_http import RecordedServer

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import SourceError
from quantdesk.data.ports import BAR_COLUMNS, BarSource
from quantdesk.data.sources.http import CachedHttp, HttpStatusError, UnsupportedTimeframeError
from quantdesk.data.sources.stooq import StooqSource, parse_csv, stooq_symbol

DOWNLOAD = "/q/d/l/"


def for_symbol(stooq_name: str) -> Callable[[httpx.Request], bool]:
    return lambda request: request.url.path == DOWNLOAD and request.url.params["s"] == stooq_name


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("AAPL", "aapl.us"),
        ("brk.b", "brk-b.us"),
        ("BRK.B", "brk-b.us"),
        ("TSCO.UK", "tsco.uk"),
        ("^SPX", "^spx"),
    ],
)
def test_symbols_map_to_stooq_spelling(symbol: str, expected: str) -> None:
    assert stooq_symbol(symbol) == expected


def test_daily_csv_becomes_bars_without_adjusted_close(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(for_symbol("aapl.us"), (200, "stooq/aapl_us_d.csv"))
    source = StooqSource(http)
    assert isinstance(source, BarSource)

    bars = source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))

    assert tuple(bars.columns) == BAR_COLUMNS
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    assert list(bars["ts"].dt.strftime("%Y-%m-%dT%H:%M%z")) == [
        "2024-01-02T00:00+0000",
        "2024-01-03T00:00+0000",
        "2024-01-04T00:00+0000",
        "2024-01-05T00:00+0000",
    ]
    row = bars.iloc[2]
    assert (row["symbol"], row["open"], row["high"], row["low"], row["close"]) == (
        "AAPL",
        180.79,
        181.61,
        179.45,
        180.64,
    )
    assert row["volume"] == 72_054_522
    assert bars["adj_close"].isna().all()
    assert dict(server.requests[0].url.params) == {
        "s": "aapl.us",
        "i": "d",
        "d1": "20240102",
        "d2": "20240105",
    }


def test_rows_outside_the_range_are_dropped(server: RecordedServer, http: CachedHttp) -> None:
    server.add(for_symbol("aapl.us"), (200, "stooq/aapl_us_d.csv"))
    bars = StooqSource(http).fetch_bars(["AAPL"], date(2024, 1, 4), date(2024, 1, 31))
    assert list(bars["ts"].dt.day) == [4, 5]


def test_index_without_volume_has_nan_volume(server: RecordedServer, http: CachedHttp) -> None:
    server.add(for_symbol("^spx"), (200, "stooq/spx_index_d.csv"))
    server.add(for_symbol("aapl.us"), (200, "stooq/aapl_us_d.csv"))
    bars = StooqSource(http).fetch_bars(["^SPX", "AAPL"], date(2024, 1, 2), date(2024, 1, 3))
    assert list(bars["symbol"]) == ["AAPL", "AAPL", "^SPX", "^SPX"]
    spx = bars[bars["symbol"] == "^SPX"]
    assert spx["volume"].isna().all()
    assert spx.iloc[1]["close"] == pytest.approx(4704.81)


def test_no_data_names_the_symbol_and_is_not_cached(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(for_symbol("zzzz.us"), (200, "stooq/no_data.txt"), (200, "stooq/aapl_us_d.csv"))
    source = StooqSource(http)
    with pytest.raises(SourceError, match="stooq: symbol ZZZZ: Stooq has no data"):
        source.fetch_bars(["ZZZZ"], date(2024, 1, 2), date(2024, 1, 5))
    assert len(source.fetch_bars(["ZZZZ"], date(2024, 1, 2), date(2024, 1, 5))) == 4
    assert server.calls == 2


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        ("stooq/daily_limit.txt", "Stooq refused the request: Exceeded the daily hits limit"),
        ("stooq/verify_interstitial.html", "Stooq answered an HTML page instead of CSV"),
    ],
)
def test_refusals_on_http_200_are_source_errors(
    server: RecordedServer, http: CachedHttp, recording: str, message: str
) -> None:
    server.add(DOWNLOAD, (200, recording))
    with pytest.raises(SourceError, match=f"stooq: symbol AAPL: {message}"):
        StooqSource(http).fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))


def test_unparseable_value_names_row_and_field() -> None:
    body = "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,100\n2024-01-03,1,x,0.5,1,100\n"
    with pytest.raises(
        SourceError, match=r"symbol AAPL: CSV row 3, field 'High': cannot parse 'x'"
    ):
        parse_csv(body, "AAPL", date(2024, 1, 1), date(2024, 1, 31))


def test_missing_column_is_named() -> None:
    with pytest.raises(SourceError, match=r"CSV lacks column\(s\) \['Close'\]"):
        parse_csv(
            "Date,Open,High,Low\n2024-01-02,1,2,0.5\n", "AAPL", date(2024, 1, 1), date(2024, 1, 31)
        )


def test_server_error_is_retried_then_reported(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add(DOWNLOAD, (503, b"Service Unavailable"))
    with pytest.raises(HttpStatusError, match="stooq: symbol AAPL: HTTP 503"):
        StooqSource(http).fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert server.calls == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_intraday_is_refused_before_any_request(server: RecordedServer, http: CachedHttp) -> None:
    with pytest.raises(UnsupportedTimeframeError, match=r"stooq: timeframe '1m'.*supported: 1d"):
        StooqSource(http).fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5), Timeframe.M1)
    assert server.calls == 0


def test_cache_hit_then_expiry(
    server: RecordedServer, http: CachedHttp, clock: SimulatedClock
) -> None:
    server.add(DOWNLOAD, (200, "stooq/aapl_us_d.csv"))
    source = StooqSource(http, ttl=timedelta(hours=1))
    source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert server.calls == 1
    clock.advance_to(clock.now() + timedelta(hours=1))
    source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert server.calls == 2
