"""Enumerations used across the domain."""

from __future__ import annotations

from enum import StrEnum


class Timeframe(StrEnum):
    """Bar size. The value is what the database and the CLI use."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @property
    def seconds(self) -> int:
        return {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}[self.value]


class AssetClass(StrEnum):
    EQUITY = "equity"
    ETF = "etf"
    INDEX = "index"
    FUTURE = "future"
    FX = "fx"
    CRYPTO = "crypto"


class Side(StrEnum):
    """Direction of an order, a fill or a trade: the one ``Side`` of quantdesk."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell (the sign of the position change)."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY
