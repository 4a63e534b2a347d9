"""Risk of a portfolio: the VIX level and its regime (the stop-loss distance that applies),
each held position's drawdown from its peak close since entry and its distance to that stop,
and the correlation of the held symbols' daily returns. The web Risk page and
``/api/portfolios/{name}/risk`` both read it here."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from quantdesk.risk import VIX_REGIMES, VixRegime, regime_of

if TYPE_CHECKING:
    from quantdesk.services.attribution import Attribution
    from quantdesk.services.data import DataService
    from quantdesk.services.reports import ReportsService
    from quantdesk.services.trading import TradingService
    from quantdesk.services.trading_types import PositionView

VIX_SYMBOL = "^VIX"
CORRELATION_SESSIONS = 126  # half a year of daily returns


@dataclass(frozen=True, slots=True)
class VixPoint:
    """One daily ^VIX close (index points) and the regime it falls in (None: no close)."""

    day: date
    close: float | None
    regime: str | None


@dataclass(frozen=True, slots=True)
class VixStatus:
    """The latest ^VIX close (index points) on ``at`` and its regime."""

    level: float
    at: date
    regime: VixRegime


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """A holding: ``drawdown`` = ``last`` / ``peak`` − 1 with ``peak`` the highest close since
    ``entry``; ``distance_to_stop`` = the regime's stop distance − |drawdown| (fractions;
    None when there is no peak or no VIX regime); ``pnl_fraction`` = last / average cost − 1."""

    symbol: str
    weight: float
    entry: date | None
    peak: float | None
    last: float
    drawdown: float | None
    distance_to_stop: float | None
    pnl_fraction: float | None


@dataclass(frozen=True, slots=True)
class Correlation:
    """Pearson correlation of daily close-to-close returns (``matrix[i][j]`` for
    ``symbols[i]``, ``symbols[j]``; None where undefined, e.g. a constant price)."""

    symbols: tuple[str, ...]
    matrix: tuple[tuple[float | None, ...], ...]
    sessions: int


@dataclass(frozen=True, slots=True)
class PortfolioRisk:
    """``vix`` is None when no ^VIX bars are stored; ``correlation`` when fewer than two
    symbols are held (or fewer than three sessions of returns)."""

    portfolio: str
    vix: VixStatus | None
    positions: tuple[PositionRisk, ...]
    correlation: Correlation | None


class RiskService:
    """Risk and attribution of portfolios (``reports`` is asked for only by attribution, so
    the Risk page does not build the reports service)."""

    def __init__(
        self,
        data: DataService,
        trading: TradingService,
        reports: Callable[[], ReportsService],
    ) -> None:
        self._data = data
        self._trading = trading
        self._reports = reports

    def attribution(self, name: str, period: str, strategy: str | None = None) -> Attribution:
        """Portfolio ``name``'s (or its ``strategy`` book's) return over ``period`` (``2024-03``,
        ``2024-Q1``, ``2024``, ``START:END`` or ``all``) by position, sector and factor: the
        portfolio report's figures. NotFoundError for an unknown portfolio, ReportError (a
        422) for a period without data."""
        from quantdesk.services.attribution import attribution_of

        report = self._reports().portfolio_report(name, period, strategy)
        return attribution_of(report, name, strategy)

    @property
    def regimes(self) -> tuple[VixRegime, ...]:
        return VIX_REGIMES

    def vix_history(self, start: date | None = None, end: date | None = None) -> list[VixPoint]:
        """Daily ^VIX closes with their regime; NotFoundError when ^VIX is not stored."""
        frame = self._data.get_bars(VIX_SYMBOL, start, end)
        points = []
        for ts, close in zip(frame["ts"], frame["close"], strict=True):
            level = float(close)
            known = math.isfinite(level)
            points.append(
                VixPoint(
                    day=pd.Timestamp(ts).date(),
                    close=level if known else None,
                    regime=regime_of(level).name if known else None,
                )
            )
        return points

    def recent_vix(self, years: int = 2) -> list[VixPoint]:
        """The last ``years`` of ^VIX closes, or none when ^VIX is not stored."""
        if not self._has_vix():
            return []
        _, last = self._data.get_date_range(VIX_SYMBOL)
        return self.vix_history(start=last.date() - timedelta(days=365 * years))

    def vix_status(self, as_of: date | None = None) -> VixStatus | None:
        """The last ^VIX close on or before ``as_of`` (default: the last stored) and its
        regime, or None when ^VIX is not stored."""
        if not self._has_vix():
            return None
        _, last = self._data.get_date_range(VIX_SYMBOL)
        end = min(last.date(), as_of) if as_of is not None else last.date()
        window = self.vix_history(start=end - timedelta(days=10), end=end)
        points = [p for p in window if p.close is not None]
        if not points:
            return None
        latest = points[-1]
        assert latest.close is not None  # filtered above
        return VixStatus(level=latest.close, at=latest.day, regime=regime_of(latest.close))

    def portfolio_risk(self, name: str) -> PortfolioRisk:
        """The risk of portfolio ``name`` at its valuation (NotFoundError when there is none):
        the VIX, peaks and correlations use closes up to the valuation's date."""
        value = self._trading.value(name)
        as_of = value.at.date()
        vix = self.vix_status(as_of)
        held = [p for p in value.positions if p.quantity != 0]
        if not held:
            return PortfolioRisk(name, vix, (), None)
        entries: dict[str, date] = {}
        for order in self._trading.list_orders(name):
            if order.filled_quantity > 0 and order.created_at is not None:
                day = order.created_at.date()
                entries[order.symbol] = min(entries.get(order.symbol, day), day)
        symbols = sorted({p.symbol for p in held})
        _, last_bar = self._data.get_date_range()
        latest = min(last_bar.date(), as_of)
        first_entry = min(entries.values(), default=latest)
        start = min(first_entry, latest - timedelta(days=CORRELATION_SESSIONS * 7 // 5 + 10))
        prices = self._data.load_panel(symbols, ("close",), start, latest).frame("close")
        stop = vix.regime.stop if vix is not None else None
        rows = tuple(_position(p, entries.get(p.symbol), prices, stop) for p in held)
        return PortfolioRisk(name, vix, rows, _correlation(prices, symbols))

    def _has_vix(self) -> bool:
        return any(s.symbol == VIX_SYMBOL for s in self._data.get_symbols())


def _position(
    position: PositionView, entry: date | None, prices: pd.DataFrame, stop: float | None
) -> PositionRisk:
    symbol = position.symbol
    column = prices[symbol].dropna() if symbol in prices else pd.Series(dtype="float64")
    since = column[column.index >= pd.Timestamp(entry)] if entry else column.iloc[0:0]
    peak = float(since.max()) if len(since) else None
    last = float(position.price)
    drawdown = (last / peak - 1.0) if peak else None
    distance = stop - abs(drawdown) if stop is not None and drawdown is not None else None
    cost = position.average_cost
    return PositionRisk(
        symbol=symbol,
        weight=position.weight,
        entry=entry,
        peak=peak,
        last=last,
        drawdown=drawdown,
        distance_to_stop=distance,
        pnl_fraction=float(position.price / cost - 1) if cost else None,
    )


def _correlation(prices: pd.DataFrame, symbols: list[str]) -> Correlation | None:
    returns = prices.pct_change(fill_method=None).iloc[-CORRELATION_SESSIONS:]
    if len(symbols) < 2 or len(returns) <= 2:
        return None
    values = returns.reindex(columns=symbols).corr().to_numpy(dtype="float64")
    return Correlation(
        symbols=tuple(symbols),
        matrix=tuple(
            tuple(float(v) if math.isfinite(v) else None for v in row) for row in values.tolist()
        ),
        sessions=len(returns),
    )
