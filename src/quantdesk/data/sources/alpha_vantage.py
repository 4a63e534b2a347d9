"""Alpha Vantage daily bars and quarterly earnings.

Bars come from ``TIME_SERIES_DAILY_ADJUSTED`` (``"5. adjusted close"``, ``"6. volume"``) or, with
``adjusted=False`` for keys without the premium function, ``TIME_SERIES_DAILY`` (``"5. volume"``,
no adjusted close, so ``adj_close`` is NaN). Earnings come from ``EARNINGS``'
``quarterlyEarnings``. Intraday series are not offered by this adapter.

Alpha Vantage reports errors with HTTP 200 and a lone ``"Error Message"``, ``"Note"`` or
``"Information"`` key (rate limits, premium-only functions, bad symbols). Those become a
:class:`SourceError` and are never cached; some of these notices quote the API key, so the
message is redacted before it is raised.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import ConfigurationError, SourceError
from quantdesk.data.ports import EARNINGS_COLUMNS
from quantdesk.data.sources.http import (
    DEFAULT_TTL,
    CachedHttp,
    UnsupportedTimeframeError,
    bars_frame,
)

_SERIES_KEY = "Time Series (Daily)"
_ERROR_KEYS = ("Error Message", "Note", "Information")
_RELEASE_TIMES = {"pre-market": "pre", "post-market": "post"}


class AlphaVantageSource:
    """Daily bars and quarterly EPS from Alpha Vantage (API key required)."""

    name = "alpha_vantage"

    def __init__(
        self,
        http: CachedHttp,
        api_key: str,
        *,
        adjusted: bool = True,
        output_size: str = "full",
        base_url: str = "https://www.alphavantage.co",
        ttl: timedelta = DEFAULT_TTL,
        earnings_ttl: timedelta = timedelta(days=1),
    ) -> None:
        if not api_key:
            raise ConfigurationError(
                "alpha_vantage: an API key is required (set QUANTDESK_ALPHAVANTAGE_API_KEY)"
            )
        if output_size not in ("compact", "full"):
            raise ConfigurationError(
                f"alpha_vantage: output_size must be 'compact' or 'full', got {output_size!r}"
            )
        self._http = http
        self._api_key = api_key
        self.adjusted = adjusted
        self.output_size = output_size
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self.earnings_ttl = earnings_ttl

    def __repr__(self) -> str:
        return (
            f"AlphaVantageSource(base_url={self.base_url!r}, adjusted={self.adjusted}, "
            f"output_size={self.output_size!r}, api_key=***)"
        )

    def fetch_bars(
        self, symbols: list[str], start: date, end: date, timeframe: Timeframe = Timeframe.D1
    ) -> pd.DataFrame:
        """Daily bars for ``symbols`` from ``start`` to ``end`` inclusive."""
        if timeframe is not Timeframe.D1:
            raise UnsupportedTimeframeError(self.name, timeframe, [Timeframe.D1])
        function = "TIME_SERIES_DAILY_ADJUSTED" if self.adjusted else "TIME_SERIES_DAILY"
        parts = []
        for symbol in symbols:
            payload = self._query(
                {"function": function, "symbol": symbol, "outputsize": self.output_size},
                symbol,
                _SERIES_KEY,
                self.ttl,
            )
            parts.append(parse_daily(payload, symbol, start, end))
        return bars_frame(parts)

    def fetch_earnings(self, symbols: list[str]) -> pd.DataFrame:
        """Quarterly reported and estimated EPS with report dates, as an earnings frame."""
        frames = [
            parse_earnings(
                self._query(
                    {"function": "EARNINGS", "symbol": symbol},
                    symbol,
                    "quarterlyEarnings",
                    self.earnings_ttl,
                ),
                symbol,
            )
            for symbol in symbols
        ]
        frames = [frame for frame in frames if len(frame)]
        if not frames:
            return _empty_earnings()
        earnings = pd.concat(frames, ignore_index=True)
        return earnings.sort_values(["symbol", "report_date"], kind="stable").reset_index(drop=True)

    def _query(self, params: dict[str, str], symbol: str, data_key: str, ttl: timedelta) -> Any:
        def vendor_error(payload: Any) -> str | None:
            return _payload_error(payload, data_key)

        return self._http.get_json(
            self.name,
            f"{self.base_url}/query",
            params={**params, "apikey": self._api_key},
            ttl=ttl,
            subject=f"symbol {symbol}",
            check=vendor_error,
        )


def _payload_error(payload: Any, data_key: str) -> str | None:
    if not isinstance(payload, dict):
        return f"expected a JSON object, got {type(payload).__name__}"
    for key in _ERROR_KEYS:
        if key in payload and data_key not in payload:
            return f"Alpha Vantage {key!r}: {payload[key]}"
    if data_key not in payload:
        return f"answer lacks field {data_key!r} (has {sorted(payload)})"
    return None


def parse_daily(payload: dict[str, Any], symbol: str, start: date, end: date) -> pd.DataFrame:
    """One symbol's ``Time Series (Daily)`` as a bars frame, restricted to [start, end]."""
    series = payload.get(_SERIES_KEY)
    if not isinstance(series, dict):
        raise SourceError(f"alpha_vantage: symbol {symbol}: field {_SERIES_KEY!r} is missing")
    rows = []
    for day_text, values in series.items():
        day = _parse_date(day_text, symbol, _SERIES_KEY)
        if not start <= day <= end:
            continue
        adjusted = "5. adjusted close" in values
        rows.append(
            {
                "symbol": symbol,
                "ts": pd.Timestamp(day, tz="UTC"),
                "open": _number(values, "1. open", symbol, day_text),
                "high": _number(values, "2. high", symbol, day_text),
                "low": _number(values, "3. low", symbol, day_text),
                "close": _number(values, "4. close", symbol, day_text),
                "volume": _number(
                    values, "6. volume" if adjusted else "5. volume", symbol, day_text
                ),
                "adj_close": (
                    _number(values, "5. adjusted close", symbol, day_text) if adjusted else np.nan
                ),
            }
        )
    return bars_frame([pd.DataFrame(rows)]) if rows else bars_frame([])


def parse_earnings(payload: dict[str, Any], symbol: str) -> pd.DataFrame:
    """``quarterlyEarnings`` as an earnings frame; quarters without a report date are skipped."""
    rows = []
    for entry in payload.get("quarterlyEarnings") or []:
        reported = entry.get("reportedDate")
        if not reported or reported == "None":
            continue
        fiscal = entry.get("fiscalDateEnding")
        rows.append(
            {
                "symbol": symbol,
                "fiscal_period_end": (
                    _parse_date(fiscal, symbol, "fiscalDateEnding")
                    if fiscal and fiscal != "None"
                    else pd.NaT
                ),
                "report_date": _parse_date(reported, symbol, "reportedDate"),
                "release_time": _RELEASE_TIMES.get(str(entry.get("reportTime", "")).lower()),
                "eps": _optional_number(entry, "reportedEPS", symbol, reported),
                "eps_estimate": _optional_number(entry, "estimatedEPS", symbol, reported),
            }
        )
    if not rows:
        return _empty_earnings()
    frame = pd.DataFrame(rows, columns=list(EARNINGS_COLUMNS))
    frame["symbol"] = frame["symbol"].astype(str)
    frame["eps"] = frame["eps"].astype("float64")
    frame["eps_estimate"] = frame["eps_estimate"].astype("float64")
    return frame.sort_values("report_date", kind="stable").reset_index(drop=True)


def _empty_earnings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": pd.Series([], dtype=str),
            "fiscal_period_end": pd.Series([], dtype=object),
            "report_date": pd.Series([], dtype=object),
            "release_time": pd.Series([], dtype=object),
            "eps": pd.Series([], dtype="float64"),
            "eps_estimate": pd.Series([], dtype="float64"),
        }
    )


def _parse_date(text: Any, symbol: str, field: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise SourceError(
            f"alpha_vantage: symbol {symbol}: field {field!r} has a bad date {text!r}"
        ) from None


def _number(values: dict[str, Any], field: str, symbol: str, day: str) -> float:
    if field not in values:
        raise SourceError(f"alpha_vantage: symbol {symbol}: {day} lacks field {field!r}")
    try:
        return float(values[field])
    except (TypeError, ValueError):
        raise SourceError(
            f"alpha_vantage: symbol {symbol}: {day} field {field!r} is not a number: "
            f"{values[field]!r}"
        ) from None


def _optional_number(values: dict[str, Any], field: str, symbol: str, day: str) -> float:
    raw = values.get(field)
    if raw is None or str(raw).strip() in ("", "None", "-"):
        return np.nan
    return _number(values, field, symbol, day)
