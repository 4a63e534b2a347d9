"""Stooq daily bars from its CSV download (``https://stooq.com/q/d/l/?s=aapl.us&i=d``).

The answer is ``Date,Open,High,Low,Close,Volume`` (Volume is absent for indices and FX). Stooq
publishes a single, already adjusted price series and no separate adjusted close, so
``adj_close`` is NaN. Stooq answers HTTP 200 even when it has nothing to say: the body is then
``No data``, a daily-limit notice, or an HTML page (it has started serving a browser check to
scripts); each is turned into a :class:`SourceError` naming the symbol and never cached.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pandas as pd

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import SourceError
from quantdesk.data.sources.http import (
    DEFAULT_TTL,
    CachedHttp,
    UnsupportedTimeframeError,
    bars_frame,
)

_PRICE_COLUMNS = ("Open", "High", "Low", "Close")
# Suffixes Stooq uses for markets; a symbol ending in one of these is passed through as is.
_MARKETS = frozenset({"us", "uk", "de", "jp", "hk", "hu", "pl", "f"})


def stooq_symbol(symbol: str, default_market: str = "us") -> str:
    """Our symbol in Stooq's spelling: ``AAPL`` → ``aapl.us``, ``BRK.B`` → ``brk-b.us``.

    Indices (``^SPX``) and symbols already carrying a Stooq market suffix (``tsco.uk``) keep
    their form, lower-cased.
    """
    lowered = symbol.strip().lower()
    if lowered.startswith("^"):
        return lowered
    _stem, dot, suffix = lowered.rpartition(".")
    if dot and suffix in _MARKETS:
        return lowered
    return f"{lowered.replace('.', '-')}.{default_market}"


class StooqSource:
    """Daily bars from Stooq (no key, no intraday)."""

    name = "stooq"

    def __init__(
        self,
        http: CachedHttp,
        *,
        base_url: str = "https://stooq.com",
        default_market: str = "us",
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.default_market = default_market
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"StooqSource(base_url={self.base_url!r}, default_market={self.default_market!r})"

    def fetch_bars(
        self, symbols: list[str], start: date, end: date, timeframe: Timeframe = Timeframe.D1
    ) -> pd.DataFrame:
        """Daily bars for ``symbols`` from ``start`` to ``end`` inclusive."""
        if timeframe is not Timeframe.D1:
            raise UnsupportedTimeframeError(self.name, timeframe, [Timeframe.D1])
        parts = []
        for symbol in symbols:
            body = self._http.get_text(
                self.name,
                f"{self.base_url}/q/d/l/",
                params={
                    "s": stooq_symbol(symbol, self.default_market),
                    "i": "d",
                    "d1": start.strftime("%Y%m%d"),
                    "d2": end.strftime("%Y%m%d"),
                },
                ttl=self.ttl,
                subject=f"symbol {symbol}",
                check=_body_error,
            )
            parts.append(parse_csv(body, symbol, start, end))
        return bars_frame(parts)


def parse_csv(body: str, symbol: str, start: date, end: date) -> pd.DataFrame:
    """One symbol's Stooq CSV as a bars frame, restricted to [start, end]."""
    problem = _body_error(body)
    if problem is not None:
        raise SourceError(f"stooq: symbol {symbol}: {problem}")
    raw = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    missing = [c for c in ("Date", *_PRICE_COLUMNS) if c not in raw.columns]
    if missing:
        raise SourceError(
            f"stooq: symbol {symbol}: CSV lacks column(s) {missing}; header is {list(raw.columns)}"
        )
    dates = pd.to_datetime(raw["Date"], format="%Y-%m-%d", errors="coerce", utc=True)
    _reject_bad(raw["Date"], dates, symbol, "Date")
    columns: dict[str, pd.Series] = {}
    for name in (*_PRICE_COLUMNS, "Volume"):
        if name not in raw.columns:
            continue
        values = pd.to_numeric(raw[name].str.strip().replace("", None), errors="coerce")
        _reject_bad(raw[name], values, symbol, name)
        columns[name.lower()] = values
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "ts": dates,
            "open": columns["open"],
            "high": columns["high"],
            "low": columns["low"],
            "close": columns["close"],
            "volume": columns.get("volume", float("nan")),
            "adj_close": float("nan"),
        }
    )
    session = dates.dt.date
    return frame.loc[(session >= start) & (session <= end)]


def _reject_bad(raw: pd.Series, parsed: pd.Series, symbol: str, field: str) -> None:
    bad = parsed.isna() & raw.str.strip().ne("")
    if field == "Date":
        bad = parsed.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise SourceError(
            f"stooq: symbol {symbol}: CSV row {row + 2}, field {field!r}: "
            f"cannot parse {raw.iloc[row]!r}"
        )


def _body_error(body: str) -> str | None:
    text = body.strip()
    lowered = text.lower()
    if not text or lowered == "no data":
        return "Stooq has no data (unknown symbol or no bars in the date range)"
    if "exceeded the daily hits limit" in lowered:
        return f"Stooq refused the request: {text[:200]}"
    if lowered.startswith("<"):
        return (
            "Stooq answered an HTML page instead of CSV (it may be blocking automated "
            "downloads; try again later or use another source)"
        )
    if not lowered.startswith("date,"):
        return f"Stooq answer is not the expected CSV (first line {text.splitlines()[0]!r})"
    return None
