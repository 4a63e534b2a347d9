"""Instrument metadata as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass

from quantdesk.core.enums import AssetClass


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """What we know about a tradable (or benchmark) symbol.

    ``price_fields`` says which bar fields the source really provides: ``"ohlcv"``,
    ``"ohlcv+adj"`` (plus an adjusted close), ``"close"`` or ``"close (adjusted)"``.
    """

    symbol: str
    name: str | None = None
    asset_class: AssetClass = AssetClass.EQUITY
    sector: str | None = None
    industry: str | None = None
    exchange: str | None = None
    currency: str = "USD"
    price_fields: str | None = None
    source: str | None = None
