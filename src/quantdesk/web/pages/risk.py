"""Risk: the VIX with its regimes, the stop dashboard, each position's drawdown from its peak
since entry, and the correlation of the held symbols' daily returns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.services import Services
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

VIX_SYMBOL = "^VIX"
VIX_YEARS = 2
# The ETF-trader design's regimes: VIX level [low, high) → name and its stop-loss distance
# (the bands `quantdesk backtest --vix-bands 0:20:0.08,20:30:0.12,30:inf:0.18` would use).
VIX_REGIMES = (
    (0.0, 20.0, "calm", 0.08, "#10b981"),
    (20.0, 30.0, "elevated", 0.12, "#f59e0b"),
    (30.0, math.inf, "stressed", 0.18, "#ef4444"),
)
CORRELATION_SESSIONS = 126  # half a year of daily returns


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """A holding's drawdown: ``last`` close vs the highest close since ``entry`` (fractions)."""

    symbol: str
    weight: float
    entry: date | None
    peak: float | None
    last: float
    drawdown: float | None
    pnl_fraction: float | None


def regime(level: float) -> tuple[str, float]:
    """The regime name and stop distance (fraction) of a VIX level."""
    for low, high, name, stop, _ in VIX_REGIMES:
        if low <= level < high:
            return name, stop
    return VIX_REGIMES[-1][2], VIX_REGIMES[-1][3]


def closes(services: Services, symbols: list[str], start: date) -> pd.DataFrame:
    """Dates × symbols closes from ``start`` (one query)."""
    panel = services.data.load_panel(symbols, fields=("close",), start=start)
    return panel.frame("close")


@router.get("/risk", response_class=HTMLResponse)
def risk(
    request: Request, services: ServicesDep, principal: Viewer, portfolio: str | None = None
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio)
    figures: dict[str, object] = {}
    context: dict[str, object] = {
        "title": "Risk",
        "active": "risk",
        "selection": selection,
        "regimes": VIX_REGIMES,
        "vix": None,
        "positions": [],
        "error": None,
    }
    known = {s.symbol for s in services.data.get_symbols()}
    if VIX_SYMBOL in known:
        _, last = services.data.get_date_range(VIX_SYMBOL)
        start = last.date() - timedelta(days=365 * VIX_YEARS)
        bars = services.data.get_bars(VIX_SYMBOL, start=start)
        if len(bars):
            series = pd.Series(
                bars["close"].to_numpy("float64"),
                index=pd.DatetimeIndex(bars["ts"].dt.tz_localize(None)),
            )
            level = float(series.iloc[-1])
            name, stop = regime(level)
            context["vix"] = {
                "level": level,
                "regime": name,
                "stop": stop,
                "at": series.index[-1].date(),
            }
            top = max(float(series.max()) * 1.05, 35.0)
            bands = [(lo, min(hi, top), colour, label) for lo, hi, label, _, colour in VIX_REGIMES]
            figures["vix"] = charts.with_bands(
                charts.lines([("VIX", series)], y_title="VIX level"), bands
            )
    if selection.selected is not None:
        try:
            context["positions"], correlation = position_risk(services, selection.selected.name)
        except USER_ERRORS as failure:
            context["error"] = str(failure)
        else:
            if correlation is not None:
                figures["correlation"] = charts.heatmap(correlation)
    context["figures"] = figures
    context["charts"] = bool(figures)
    return render(request, principal, "risk.html", context)


def position_risk(services: Services, name: str) -> tuple[list[PositionRisk], pd.DataFrame | None]:
    value = services.trading.value(name)
    held = [p for p in value.positions if p.quantity != 0]
    if not held:
        return [], None
    entries: dict[str, date] = {}
    for order in services.trading.list_orders(name):
        if order.filled_quantity > 0 and order.created_at is not None:
            day = order.created_at.date()
            entries[order.symbol] = min(entries.get(order.symbol, day), day)
    symbols = sorted({p.symbol for p in held})
    first_entry = min(entries.values(), default=None)
    _, last_bar = services.data.get_date_range()
    latest = last_bar.date()
    start = min(first_entry or latest, latest - timedelta(days=CORRELATION_SESSIONS * 7 // 5 + 10))
    prices = closes(services, symbols, start)
    rows = []
    for position in held:
        entry = entries.get(position.symbol)
        column = prices[position.symbol].dropna() if position.symbol in prices else pd.Series()
        since = column[column.index >= pd.Timestamp(entry)] if entry else column.iloc[0:0]
        peak = float(since.max()) if len(since) else None
        last = float(position.price)
        cost = position.average_cost
        rows.append(
            PositionRisk(
                symbol=position.symbol,
                weight=position.weight,
                entry=entry,
                peak=peak,
                last=last,
                drawdown=(last / peak - 1.0) if peak else None,
                pnl_fraction=float(position.price / cost - 1) if cost else None,
            )
        )
    returns = prices.pct_change(fill_method=None).iloc[-CORRELATION_SESSIONS:]
    correlation = returns.corr() if len(symbols) > 1 and len(returns) > 2 else None
    return rows, correlation
