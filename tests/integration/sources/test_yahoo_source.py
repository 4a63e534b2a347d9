"""YahooSource against recorded v8 chart answers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from recorded_http import RECORDED, RecordedServer

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import SourceError
from quantdesk.data.ports import BAR_COLUMNS, BarSource
from quantdesk.data.sources.http import CachedHttp, HttpStatusError, UnsupportedTimeframeError
from quantdesk.data.sources.yahoo import YahooSource, parse_chart

CHART = "/v8/finance/chart/"


def assert_bars_contract(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns) == BAR_COLUMNS
    assert str(frame["ts"].dtype) == "datetime64[ns, UTC]"
    for column in BAR_COLUMNS[2:]:
        assert frame[column].dtype == "float64", column
    assert frame.equals(frame.sort_values(["symbol", "ts"]).reset_index(drop=True))


def test_daily_chart_becomes_bars_at_midnight_utc_of_the_session(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_aapl_1d.json"))
    source = YahooSource(http)
    assert isinstance(source, BarSource)

    bars = source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 8))

    assert_bars_contract(bars)
    # 2024-01-08's row is all nulls in the answer: no close, no bar.
    assert list(bars["ts"].dt.strftime("%Y-%m-%d %H:%M%z")) == [
        "2024-01-02 00:00+0000",
        "2024-01-03 00:00+0000",
        "2024-01-04 00:00+0000",
        "2024-01-05 00:00+0000",
    ]
    first = bars.iloc[0]
    assert first["symbol"] == "AAPL"
    assert first["open"] == pytest.approx(187.15)
    assert first["high"] == pytest.approx(188.44)
    assert first["low"] == pytest.approx(183.89)
    assert first["close"] == pytest.approx(185.64)
    assert first["volume"] == 82_488_700
    assert first["adj_close"] == pytest.approx(184.7345)
    assert bars.iloc[3]["close"] == pytest.approx(181.18)

    request = server.requests[0]
    assert request.url.params["interval"] == "1d"
    assert request.url.params["events"] == "div,splits"
    # One day of margin each side: the 2024-01-01 .. 2024-01-10 UTC window.
    assert request.url.params["period1"] == "1704067200"
    assert request.url.params["period2"] == "1704844800"


def test_bars_outside_the_requested_dates_are_dropped(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_aapl_1d.json"))
    bars = YahooSource(http).fetch_bars(["AAPL"], date(2024, 1, 3), date(2024, 1, 4))
    assert list(bars["ts"].dt.date) == [date(2024, 1, 3), date(2024, 1, 4)]


def test_several_symbols_are_sorted_by_symbol_then_time(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_aapl_1d.json"))
    server.add(CHART + "MSFT", (200, "yahoo/chart_msft_1d.json"))
    bars = YahooSource(http).fetch_bars(["MSFT", "AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert_bars_contract(bars)
    assert list(bars["symbol"]) == ["AAPL"] * 4 + ["MSFT"] * 2
    msft = bars[bars["symbol"] == "MSFT"].iloc[1]
    assert msft["close"] == pytest.approx(370.60)
    assert msft["volume"] == 23_083_500


def test_session_date_is_the_exchange_local_date(server: RecordedServer, http: CachedHttp) -> None:
    # Sydney opens at 10:00 AEDT, which is 23:00 UTC on the previous calendar day.
    server.add(CHART + "BHP.AX", (200, "yahoo/chart_bhp_ax_1d.json"))
    bars = YahooSource(http).fetch_bars(["BHP.AX"], date(2024, 1, 2), date(2024, 1, 3))
    assert list(bars["ts"].dt.date) == [date(2024, 1, 2), date(2024, 1, 3)]
    assert bars.iloc[0]["close"] == pytest.approx(50.39)


def test_gmtoffset_is_used_when_the_timezone_name_is_missing() -> None:
    import json

    payload = json.loads((RECORDED / "yahoo" / "chart_bhp_ax_1d.json").read_text())
    del payload["chart"]["result"][0]["meta"]["exchangeTimezoneName"]
    bars = parse_chart(payload, "BHP.AX", date(2024, 1, 1), date(2024, 1, 31))
    assert list(pd.DatetimeIndex(bars["ts"]).date) == [date(2024, 1, 2), date(2024, 1, 3)]


def test_minute_bars_keep_their_utc_instant_and_have_no_adjusted_close(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_aapl_1m.json"))
    bars = YahooSource(http).fetch_bars(["AAPL"], date(2024, 1, 5), date(2024, 1, 5), Timeframe.M1)
    assert_bars_contract(bars)
    # The third minute has a null close in the answer.
    assert list(bars["ts"].dt.strftime("%H:%M")) == ["14:30", "14:31"]
    assert bars.iloc[1]["open"] == pytest.approx(182.305)
    assert bars["adj_close"].isna().all()
    assert server.requests[0].url.params["interval"] == "1m"


def test_long_minute_ranges_are_split_into_weekly_requests(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_aapl_1m.json"))
    bars = YahooSource(http).fetch_bars(["AAPL"], date(2024, 1, 1), date(2024, 1, 20), Timeframe.M1)
    assert server.calls == 3
    assert len(bars) == 2  # the same recorded minutes served thrice are kept once


def test_hourly_bars_ask_for_the_60m_interval(server: RecordedServer, http: CachedHttp) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_empty_range.json"))
    YahooSource(http).fetch_bars(["AAPL"], date(2024, 1, 5), date(2024, 1, 5), Timeframe.H1)
    assert server.requests[0].url.params["interval"] == "60m"


def test_empty_range_gives_an_empty_frame_with_the_contract_columns(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_empty_range.json"))
    bars = YahooSource(http).fetch_bars(["AAPL"], date(2024, 1, 6), date(2024, 1, 7))
    assert bars.empty
    assert_bars_contract(bars)


def test_unknown_symbol_names_the_symbol_and_yahoos_reason(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add(CHART + "NOPE", (404, "yahoo/chart_not_found.json"))
    with pytest.raises(HttpStatusError, match=r"yahoo: symbol NOPE: HTTP 404.*may be delisted"):
        YahooSource(http).fetch_bars(["NOPE"], date(2024, 1, 2), date(2024, 1, 5))
    assert sleeps == []


def test_error_object_on_http_200_is_a_source_error(
    server: RecordedServer, http: CachedHttp
) -> None:
    server.add(CHART + "NOPE", (200, "yahoo/chart_not_found.json"))
    with pytest.raises(SourceError, match="yahoo: symbol NOPE: Yahoo reported an error: No data"):
        YahooSource(http).fetch_bars(["NOPE"], date(2024, 1, 2), date(2024, 1, 5))


def test_server_errors_are_retried_then_reported(
    server: RecordedServer, http: CachedHttp, sleeps: list[float]
) -> None:
    server.add(CHART + "AAPL", (500, b"Internal Server Error"))
    with pytest.raises(HttpStatusError, match=r"yahoo: symbol AAPL: HTTP 500.*after 4 attempts"):
        YahooSource(http).fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    assert server.calls == 4
    assert len(sleeps) == 3


def test_second_fetch_is_served_from_the_cache(server: RecordedServer, http: CachedHttp) -> None:
    server.add(CHART + "AAPL", (200, "yahoo/chart_aapl_1d.json"))
    source = YahooSource(http)
    first = source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    second = source.fetch_bars(["AAPL"], date(2024, 1, 2), date(2024, 1, 5))
    pd.testing.assert_frame_equal(first, second)
    assert server.calls == 1


def test_mismatched_array_lengths_name_the_field() -> None:
    import json

    payload = json.loads((RECORDED / "yahoo" / "chart_msft_1d.json").read_text())
    payload["chart"]["result"][0]["indicators"]["quote"][0]["close"].pop()
    with pytest.raises(SourceError, match="symbol MSFT: field 'close' has 1 values"):
        parse_chart(payload, "MSFT", date(2024, 1, 1), date(2024, 1, 31))


def test_unsupported_timeframe_is_a_clear_error(http: CachedHttp) -> None:
    class TwoMinutes:
        value = "2m"

    with pytest.raises(UnsupportedTimeframeError, match="yahoo: timeframe '2m' is not supported"):
        YahooSource(http).fetch_bars(
            ["AAPL"],
            date(2024, 1, 2),
            date(2024, 1, 5),
            TwoMinutes(),  # type: ignore[arg-type]
        )
