"""Bodies of the market-data routes. Prices in the instrument's currency; volume in shares."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.core.enums import Timeframe


class DataStatusOut(BaseModel):
    as_of: date
    symbols: int
    symbols_with_bars: int
    bars: int
    first_date: date | None
    latest_date: date | None
    days_old: int | None
    by_asset_class: dict[str, int]
    by_timeframe: dict[str, int]


class Symbol(BaseModel):
    symbol: str
    name: str | None
    asset_class: str
    sector: str | None
    industry: str | None
    exchange: str | None
    currency: str
    price_fields: str | None
    source: str | None


class BarOut(BaseModel):
    ts: datetime
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: float | None
    adj_close: float | None


class Bars(BaseModel):
    symbol: str
    timeframe: Timeframe
    bars: list[BarOut]
    total: int


class QualityIssueOut(BaseModel):
    kind: str
    count: int
    symbols: int


class Quality(BaseModel):
    """``ok`` is true when no issue was found."""

    as_of: date
    symbols: int
    bars: int
    first_date: date | None
    last_date: date | None
    ok: bool
    issues: list[QualityIssueOut]
    stale_symbols: dict[str, date]
    missing_sessions_by_symbol: dict[str, int]


class DataUpdate(BaseModel):
    """Fetch bars from a remote source (``stooq``, ``yahoo``, ``polygon``, ``alpha-vantage``);
    without symbols every stored symbol is updated from its latest bar on."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=32)
    symbols: list[str] | None = Field(None, max_length=2000)
    start: date | None = None
    end: date | None = None
