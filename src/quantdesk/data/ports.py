"""Protocols that data sources implement. Frames follow the column contracts below.

Bars frame (long): ``symbol`` (str), ``ts`` (``datetime64[ns, UTC]``; daily bars at midnight UTC of
the session date), ``open, high, low, close`` (float), ``volume`` (float, may be NaN),
``adj_close`` (float, NaN where the source has none).

Earnings frame: ``symbol``, ``fiscal_period_end`` (date or NaT), ``report_date`` (date),
``release_time`` ("pre", "post" or None), ``eps``, ``eps_estimate`` (float, NaN if unknown).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol, runtime_checkable

import pandas as pd

from quantdesk.core.enums import Timeframe

BAR_COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume", "adj_close")
EARNINGS_COLUMNS = (
    "symbol",
    "fiscal_period_end",
    "report_date",
    "release_time",
    "eps",
    "eps_estimate",
)


@runtime_checkable
class BarSource(Protocol):
    """Anything that can deliver historical bars."""

    name: str

    def fetch_bars(
        self, symbols: list[str], start: date, end: date, timeframe: Timeframe = Timeframe.D1
    ) -> pd.DataFrame:
        """Bars for ``symbols`` from ``start`` to ``end`` inclusive, as a bars frame."""
        ...


@runtime_checkable
class EarningsSource(Protocol):
    """Anything that can deliver quarterly EPS with report dates."""

    name: str

    def fetch_earnings(self, symbols: list[str]) -> pd.DataFrame:
        """Quarterly earnings for ``symbols`` as an earnings frame."""
        ...
