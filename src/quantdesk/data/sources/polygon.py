"""Polygon.io bars from the aggregates v2 endpoint.

``/v2/aggs/ticker/{symbol}/range/{multiplier}/{timespan}/{from}/{to}?adjusted=true`` answers
``results`` of ``{t (ms, window start), o, h, l, c, v, ...}`` and, when more remain, a
``next_url`` cursor we follow. The API key travels in an ``Authorization: Bearer`` header
(Polygon accepts it there as well as in ``apiKey``), so it is never part of a URL.

Daily aggregates start at midnight New York time; we take that local date and stamp the bar at
midnight UTC of it. Intraday bars keep Polygon's window-start instant in UTC. With
``adjusted=true`` the OHLC are split-adjusted, but Polygon has no dividend-adjusted close, so
``adj_close`` is NaN.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import ConfigurationError, SourceError
from quantdesk.data.sources.http import (
    DEFAULT_TTL,
    CachedHttp,
    UnsupportedTimeframeError,
    bars_frame,
    local_dates,
    within,
)

_RANGES = {
    Timeframe.M1: (1, "minute"),
    Timeframe.M5: (5, "minute"),
    Timeframe.M15: (15, "minute"),
    Timeframe.H1: (1, "hour"),
    Timeframe.D1: (1, "day"),
}
_ERROR_STATUSES = frozenset({"ERROR", "NOT_AUTHORIZED", "NOT_FOUND"})
# A guard against a cursor that never ends; 50,000 bars a page makes this decades of minutes.
_MAX_PAGES = 1000


class PolygonSource:
    """Daily and intraday (1m/5m/15m/1h) bars from Polygon (API key required)."""

    name = "polygon"

    def __init__(
        self,
        http: CachedHttp,
        api_key: str,
        *,
        base_url: str = "https://api.polygon.io",
        market_timezone: str = "America/New_York",
        page_limit: int = 50_000,
        ttl: timedelta = DEFAULT_TTL,
        intraday_ttl: timedelta = timedelta(minutes=5),
    ) -> None:
        if not api_key:
            raise ConfigurationError(
                "polygon: an API key is required (set QUANTDESK_POLYGON_API_KEY)"
            )
        self._http = http
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.market_timezone = market_timezone
        self.page_limit = page_limit
        self.ttl = ttl
        self.intraday_ttl = intraday_ttl

    def __repr__(self) -> str:
        return (
            f"PolygonSource(base_url={self.base_url!r}, "
            f"market_timezone={self.market_timezone!r}, api_key=***)"
        )

    def fetch_bars(
        self, symbols: list[str], start: date, end: date, timeframe: Timeframe = Timeframe.D1
    ) -> pd.DataFrame:
        """Bars for ``symbols`` whose New York date is within [start, end]."""
        if timeframe not in _RANGES:
            raise UnsupportedTimeframeError(self.name, timeframe, _RANGES)
        return bars_frame(
            parse_aggregates(
                page, symbol, start, end, timeframe=timeframe, market_timezone=self.market_timezone
            )
            for symbol in symbols
            for page in self._pages(symbol, start, end, timeframe)
        )

    def _pages(
        self, symbol: str, start: date, end: date, timeframe: Timeframe
    ) -> list[dict[str, Any]]:
        multiplier, timespan = _RANGES[timeframe]
        url: str | None = (
            f"{self.base_url}/v2/aggs/ticker/{quote(symbol, safe='')}/range/"
            f"{multiplier}/{timespan}/{start.isoformat()}/{end.isoformat()}"
        )
        params: dict[str, str | int] | None = {
            "adjusted": "true",
            "sort": "asc",
            "limit": self.page_limit,
        }
        pages: list[dict[str, Any]] = []
        while url is not None:
            if len(pages) >= _MAX_PAGES:
                raise SourceError(
                    f"polygon: symbol {symbol}: more than {_MAX_PAGES} pages; narrow the range"
                )
            page = self._http.get_json(
                self.name,
                url,
                params=params,
                headers={"Authorization": f"Bearer {self._api_key}"},
                ttl=self.ttl if timeframe is Timeframe.D1 else self.intraday_ttl,
                subject=f"symbol {symbol}",
                check=_payload_error,
            )
            pages.append(page)
            # next_url already carries the cursor and the original query.
            url, params = page.get("next_url") or None, None
        return pages


def parse_aggregates(
    page: dict[str, Any],
    symbol: str,
    start: date,
    end: date,
    *,
    timeframe: Timeframe = Timeframe.D1,
    market_timezone: str = "America/New_York",
) -> pd.DataFrame:
    """One page of aggregates as a bars frame, keeping bars whose local date is in range."""
    results = page.get("results") or []
    if not results:
        return bars_frame([])
    try:
        frame = pd.DataFrame(
            {
                "t": [row["t"] for row in results],
                "open": [row["o"] for row in results],
                "high": [row["h"] for row in results],
                "low": [row["l"] for row in results],
                "close": [row["c"] for row in results],
                "volume": [row.get("v", np.nan) for row in results],
            }
        )
    except (KeyError, TypeError) as exc:
        raise SourceError(f"polygon: symbol {symbol}: an aggregate lacks field {exc}") from None
    instants = pd.DatetimeIndex(pd.to_datetime(frame["t"].astype("int64"), unit="ms", utc=True))
    days = local_dates(instants, market_timezone)
    if timeframe is Timeframe.D1:
        ts = pd.DatetimeIndex(pd.to_datetime(days)).tz_localize("UTC")
    else:
        ts = instants
    bars = pd.DataFrame(
        {
            "symbol": symbol,
            "ts": ts,
            "open": frame["open"].to_numpy(dtype="float64"),
            "high": frame["high"].to_numpy(dtype="float64"),
            "low": frame["low"].to_numpy(dtype="float64"),
            "close": frame["close"].to_numpy(dtype="float64"),
            "volume": frame["volume"].to_numpy(dtype="float64"),
            "adj_close": np.nan,
        }
    )
    return bars.loc[within(days, start, end)]


def _payload_error(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return f"expected a JSON object, got {type(payload).__name__}"
    status = str(payload.get("status", ""))
    if status in _ERROR_STATUSES:
        detail = payload.get("error") or payload.get("message") or "no detail"
        return f"Polygon status {status}: {detail}"
    return None
