"""Yahoo Finance bars from the v8 chart JSON endpoint.

We call ``/v8/finance/chart/{symbol}`` with httpx instead of depending on the ``yfinance``
package on purpose: yfinance pulls in ``curl_cffi`` (a browser-impersonating native HTTP stack)
and does its own networking, so its parsing cannot be run against recorded responses. Here the
request goes through :class:`~quantdesk.data.sources.http.CachedHttp` (cache, retries, injected
transport) and the parsing below is what the tests exercise.

Daily bars: Yahoo stamps each with the session's open in exchange time; we take the
exchange-local date (``meta.exchangeTimezoneName``, else ``meta.gmtoffset``) and put the bar at
midnight UTC of that date. ``adj_close`` comes from ``indicators.adjclose`` (split- and
dividend-adjusted); intraday answers have none, so it is NaN there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import SourceError
from quantdesk.data.sources.http import (
    DEFAULT_TTL,
    CachedHttp,
    UnsupportedTimeframeError,
    bars_frame,
    local_dates,
    session_dates,
    within,
)

_INTERVALS = {
    Timeframe.M1: "1m",
    Timeframe.M5: "5m",
    Timeframe.M15: "15m",
    Timeframe.H1: "60m",
    Timeframe.D1: "1d",
}
# Yahoo refuses 1-minute requests spanning more than about a week, so those are split.
_MAX_WINDOW = {Timeframe.M1: timedelta(days=7)}
_USER_AGENT = "Mozilla/5.0 (compatible; quantdesk)"


class YahooSource:
    """Bars from Yahoo Finance's chart endpoint (daily and 1m/5m/15m/1h intraday)."""

    name = "yahoo"

    def __init__(
        self,
        http: CachedHttp,
        *,
        base_url: str = "https://query2.finance.yahoo.com",
        ttl: timedelta = DEFAULT_TTL,
        intraday_ttl: timedelta = timedelta(minutes=5),
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self.intraday_ttl = intraday_ttl

    def __repr__(self) -> str:
        return f"YahooSource(base_url={self.base_url!r})"

    def fetch_bars(
        self, symbols: list[str], start: date, end: date, timeframe: Timeframe = Timeframe.D1
    ) -> pd.DataFrame:
        """Bars for ``symbols`` whose exchange-local session date is within [start, end]."""
        if timeframe not in _INTERVALS:
            raise UnsupportedTimeframeError(self.name, timeframe, _INTERVALS)
        parts = []
        for symbol in symbols:
            for window_start, window_end in _windows(start, end, _MAX_WINDOW.get(timeframe)):
                payload = self._chart(symbol, window_start, window_end, timeframe)
                parts.append(parse_chart(payload, symbol, start, end, timeframe))
        return bars_frame(parts)

    def _chart(self, symbol: str, start: date, end: date, timeframe: Timeframe) -> Any:
        # A day of margin on each side: sessions are local dates, the period is in UTC.
        period1 = _epoch(start - timedelta(days=1))
        period2 = _epoch(end + timedelta(days=2))
        return self._http.get_json(
            self.name,
            f"{self.base_url}/v8/finance/chart/{quote(symbol, safe='')}",
            params={
                "period1": period1,
                "period2": period2,
                "interval": _INTERVALS[timeframe],
                "events": "div,splits",
                "includePrePost": "false",
            },
            headers={"User-Agent": _USER_AGENT},
            ttl=self.ttl if timeframe is Timeframe.D1 else self.intraday_ttl,
            subject=f"symbol {symbol}",
            check=_chart_error,
        )


def parse_chart(
    payload: Any, symbol: str, start: date, end: date, timeframe: Timeframe = Timeframe.D1
) -> pd.DataFrame:
    """One symbol's chart answer as a bars frame, keeping bars whose local date is in range."""
    try:
        result = payload["chart"]["result"][0]
        meta = result["meta"]
        quote_block = result["indicators"]["quote"][0]
    except (KeyError, IndexError, TypeError) as exc:
        raise SourceError(
            f"yahoo: symbol {symbol}: chart answer lacks field {exc} "
            "(expected chart.result[0].meta and indicators.quote[0])"
        ) from None
    stamps = result.get("timestamp") or []
    if not stamps:
        return bars_frame([])
    exchange_tz = _exchange_timezone(meta, symbol)
    columns = {
        field: _column(quote_block, field, len(stamps), symbol)
        for field in ("open", "high", "low", "close", "volume")
    }
    adjclose_blocks = result["indicators"].get("adjclose") or [{}]
    adj_close = _column(adjclose_blocks[0], "adjclose", len(stamps), symbol)

    if timeframe is Timeframe.D1:
        ts = session_dates(stamps, exchange_tz)
        days = np.asarray(ts.date)
    else:
        ts = pd.DatetimeIndex(pd.to_datetime(np.asarray(stamps, dtype="int64"), unit="s", utc=True))
        days = local_dates(ts, exchange_tz)
    frame = pd.DataFrame({"symbol": symbol, "ts": ts, **columns, "adj_close": adj_close})
    # Yahoo pads holidays and halted minutes with nulls; a bar without a close is no bar.
    keep = within(days, start, end) & ~np.isnan(columns["close"])
    kept: pd.DataFrame = frame.loc[keep]
    return kept


def _chart_error(payload: Any) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("chart"), dict):
        return "answer has no 'chart' object"
    error = payload["chart"].get("error")
    if error:
        description = error.get("description") if isinstance(error, dict) else error
        return f"Yahoo reported an error: {description}"
    if not payload["chart"].get("result"):
        return "answer has an empty 'chart.result'"
    return None


def _column(block: dict[str, Any], field: str, length: int, symbol: str) -> np.ndarray:
    values = block.get(field)
    if values is None:
        return np.full(length, np.nan)
    if len(values) != length:
        raise SourceError(
            f"yahoo: symbol {symbol}: field {field!r} has {len(values)} values "
            f"for {length} timestamps"
        )
    return np.asarray([np.nan if v is None else v for v in values], dtype="float64")


def _exchange_timezone(meta: dict[str, Any], symbol: str) -> str | tzinfo:
    name = meta.get("exchangeTimezoneName")
    if name:
        return str(name)
    offset = meta.get("gmtoffset")
    if offset is None:
        raise SourceError(
            f"yahoo: symbol {symbol}: meta has neither 'exchangeTimezoneName' nor 'gmtoffset'"
        )
    return timezone(timedelta(seconds=int(offset)))


def _windows(start: date, end: date, size: timedelta | None) -> list[tuple[date, date]]:
    if size is None or end - start < size:
        return [(start, end)]
    windows = []
    cursor = start
    while cursor <= end:
        last = min(end, cursor + size - timedelta(days=1))
        windows.append((cursor, last))
        cursor = last + timedelta(days=1)
    return windows


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())
