"""What several pages share: choosing the portfolio shown, and series read for charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from fastapi import HTTPException, status

from quantdesk.core.errors import QuantdeskError
from quantdesk.services import Services
from quantdesk.services.trading_types import PortfolioHistory, PortfolioView


@dataclass(frozen=True, slots=True)
class Selection:
    """Every portfolio, and the one shown (``None`` when there is none yet)."""

    portfolios: tuple[PortfolioView, ...]
    selected: PortfolioView | None


def select_portfolio(services: Services, wanted: str | None) -> Selection:
    """The portfolio named ``wanted`` (404 when unknown), else the first one."""
    portfolios = tuple(services.trading.list_portfolios())
    if wanted:
        for portfolio in portfolios:
            if portfolio.name == wanted:
                return Selection(portfolios, portfolio)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown portfolio {wanted!r}")
    return Selection(portfolios, portfolios[0] if portfolios else None)


def equity_series(history: PortfolioHistory) -> pd.Series:
    """End-of-day equity (currency) by date."""
    return pd.Series(
        [float(s.equity) for s in history.snapshots],
        index=pd.DatetimeIndex([pd.Timestamp(s.date) for s in history.snapshots]),
        name="equity",
        dtype="float64",
    )


def return_series(history: PortfolioHistory) -> pd.Series:
    """Time-weighted daily returns (fractions, flows excluded) by date: the service's rule,
    with the dates it keeps (a day with neither a previous positive equity nor a deposit has
    none)."""
    return pd.Series(
        list(history.returns),
        index=pd.DatetimeIndex([pd.Timestamp(d) for d in history.return_dates]),
        dtype="float64",
    )


def benchmark_closes(
    services: Services, symbol: str | None, start: date, end: date
) -> tuple[pd.Series | None, str | None]:
    """Closes of ``symbol`` between the dates, or ``None`` with the reason it is missing."""
    if not symbol:
        return None, "this portfolio has no benchmark"
    try:
        bars = services.data.get_bars(symbol, start=start, end=end)
    except QuantdeskError as error:
        return None, str(error)
    if bars.empty:
        return None, f"no {symbol} bars between {start} and {end}"
    closes = bars.set_index(pd.DatetimeIndex(bars["ts"].dt.tz_localize(None)))["close"]
    return closes.astype("float64"), None


USER_ERRORS = (QuantdeskError, ValueError)
"""What a page shows as a message: the service's own refusals (never a 500)."""
