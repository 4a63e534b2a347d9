"""AlphaVantageSource against recorded TIME_SERIES_DAILY(_ADJUSTED) and EARNINGS answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pandas as pd
import pytest
from recorded_http import RecordedServer

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import ConfigurationError, SourceError
from quantdesk.data.ports import BAR_COLUMNS, EARNINGS_COLUMNS, BarSource, EarningsSource
from quantdesk.data.sources.alpha_vantage import AlphaVantageSource
from quantdesk.data.sources.http import CachedHttp, HttpStatusError, UnsupportedTimeframeError

KEY = "QDTESTKEY0123456"  # the key the recorded daily-limit notice quotes back


def function_is(name: str) -> Callable[[httpx.Request], bool]:
    return lambda request: request.url.params.get("function") == name


def test_adjusted_daily_series_becomes_bars(server: RecordedServer, http: CachedHttp) -> None:
    server.add(
        function_is("TIME_SERIES_DAILY_ADJUSTED"), (200, "alpha_vantage/daily_adjusted_ibm.json")
    )
    source = AlphaVantageSource(http, KEY)
    assert isinstance(source, BarSource)
    assert isinstance(source, EarningsSource)

    bars = source.fetch_bars(["IBM"], date(2024, 1, 2), date(2024, 1, 5))

    assert tuple(bars.columns) == BAR_COLUMNS
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    # The answer is newest first and includes 2023-12-29, outside the range.
    assert list(bars["ts"].dt.strftime("%Y-%m-%d %H:%M%z")) == [
        "2024-01-02 00:00+0000",
        "2024-01-03 00:00+0000",
        "2024-01-04 00:00+0000",
        "2024-01-05 00:00+0000",
    ]
    first = bars.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        162.83,
        163.29,
        160.0,
        161.42,
    )
    assert first["adj_close"] == pytest.approx(157.468)
    assert first["volume"] == 3_825_045
    assert bars.iloc[3]["volume"] == 4_062_413
    params = server.requests[0].url.params
    assert params["symbol"] == "IBM"
    assert params["outputsize"] == "full"
    assert params["apikey"] == KEY


def test_unadjusted_series_has_nan_adjusted_close(server: RecordedServer, http: CachedHttp) -> None:
    server.add(function_is("TIME_SERIES_DAILY"), (200, "alpha_vantage/daily_ibm.json"))
    bars = AlphaVantageSource(http, KEY, adjusted=False, output_size="compact").fetch_bars(
        ["IBM"], date(2024, 1, 1), date(2024, 1, 31)
    )
    assert len(bars) == 2
    assert bars["adj_close"].isna().all()
    assert bars.iloc[1]["volume"] == 4_086_438
    assert bars.iloc[1]["close"] == pytest.approx(160.10)


def test_earnings_become_an_earnings_frame(server: RecordedServer, http: CachedHttp) -> None:
    server.add(function_is("EARNINGS"), (200, "alpha_vantage/earnings_ibm.json"))
    earnings = AlphaVantageSource(http, KEY).fetch_earnings(["IBM"])

    assert tuple(earnings.columns) == EARNINGS_COLUMNS
    assert list(earnings["report_date"]) == [
        date(1996, 4, 16),
        date(2023, 10, 25),
        date(2024, 1, 24),
    ]
    latest = earnings.iloc[2]
    assert latest["symbol"] == "IBM"
    assert latest["fiscal_period_end"] == date(2023, 12, 31)
    assert latest["release_time"] == "post"
    assert latest["eps"] == pytest.approx(3.87)
    assert latest["eps_estimate"] == pytest.approx(3.78)
    oldest = earnings.iloc[0]
    assert oldest["release_time"] == "pre"
    assert oldest["eps"] == pytest.approx(1.63)
    assert pd.isna(oldest["eps_estimate"])  # "None" in the answer
    assert earnings["eps"].dtype == "float64"


def test_no_symbols_give_empty_frames(http: CachedHttp) -> None:
    source = AlphaVantageSource(http, KEY)
    assert tuple(source.fetch_earnings([]).columns) == EARNINGS_COLUMNS
    assert tuple(source.fetch_bars([], date(2024, 1, 1), date(2024, 1, 2)).columns) == BAR_COLUMNS


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        ("alpha_vantage/note_rate_limit.json", "'Note': Thank you for using Alpha Vantage"),
        ("alpha_vantage/error_message_invalid_call.json", "'Error Message': Invalid API call"),
        ("alpha_vantage/information_daily_limit.json", "'Information': We have detected"),
    ],
)
def test_vendor_error_payloads_are_source_errors_and_not_cached(
    server: RecordedServer, http: CachedHttp, recording: str, message: str
) -> None:
    server.add("/query", (200, recording), (200, "alpha_vantage/daily_adjusted_ibm.json"))
    source = AlphaVantageSource(http, KEY)
    with pytest.raises(SourceError, match=f"alpha_vantage: symbol IBM: Alpha Vantage {message}"):
        source.fetch_bars(["IBM"], date(2024, 1, 2), date(2024, 1, 5))
    assert len(source.fetch_bars(["IBM"], date(2024, 1, 2), date(2024, 1, 5))) == 4
    assert server.calls == 2


def test_notice_quoting_the_api_key_is_redacted(server: RecordedServer, http: CachedHttp) -> None:
    server.add("/query", (200, "alpha_vantage/information_daily_limit.json"))
    with pytest.raises(SourceError) as caught:
        AlphaVantageSource(http, KEY).fetch_earnings(["IBM"])
    assert KEY not in str(caught.value)
    assert "detected your API key as ***" in str(caught.value)


def test_api_key_is_absent_from_repr_cache_and_errors(
    server: RecordedServer, http: CachedHttp, tmp_path: Path, sleeps: list[float]
) -> None:
    server.add(function_is("EARNINGS"), (200, "alpha_vantage/earnings_ibm.json"))
    server.add(function_is("TIME_SERIES_DAILY_ADJUSTED"), (500, b"upstream error"))
    source = AlphaVantageSource(http, KEY)
    source.fetch_earnings(["IBM"])
    with pytest.raises(HttpStatusError) as caught:
        source.fetch_bars(["IBM"], date(2024, 1, 2), date(2024, 1, 5))
    assert "HTTP 500" in str(caught.value)
    assert "function=TIME_SERIES_DAILY_ADJUSTED" in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in repr(source)
    cached = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(cached) == 1
    assert KEY not in cached[0].read_text(encoding="utf-8")
    assert KEY not in str(cached[0])


def test_api_key_is_required(http: CachedHttp) -> None:
    with pytest.raises(ConfigurationError, match="QUANTDESK_ALPHAVANTAGE_API_KEY"):
        AlphaVantageSource(http, "")


def test_intraday_is_refused(http: CachedHttp) -> None:
    with pytest.raises(UnsupportedTimeframeError, match="alpha_vantage: timeframe '5m'"):
        AlphaVantageSource(http, KEY).fetch_bars(
            ["IBM"], date(2024, 1, 2), date(2024, 1, 5), Timeframe.M5
        )
