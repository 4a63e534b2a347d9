"""Dashboard: a card per portfolio, equity vs benchmark, recent trades and the open alerts
(new ones arrive live over the event stream; traders mark them seen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from quantdesk.api.deps import ServicesDep, Trader, Viewer
from quantdesk.api.security import CsrfChecked
from quantdesk.core.errors import NotFoundError
from quantdesk.services.trading_types import OrderView, PortfolioHistory, PortfolioValue
from quantdesk.web import charts
from quantdesk.web.pages.common import (
    USER_ERRORS,
    benchmark_closes,
    equity_series,
    select_portfolio,
)
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

RECENT_TRADES = 10
OPEN_ALERTS = 20


@dataclass(frozen=True, slots=True)
class Card:
    name: str
    mode: str
    value: PortfolioValue | None
    time_weighted_return: float | None
    error: str | None


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    portfolio: str | None = None,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio)
    cards: list[Card] = []
    histories: dict[str, PortfolioHistory] = {}
    recent: list[OrderView] = []
    for view in selection.portfolios:
        try:
            value = services.trading.value(view.name)
            history = services.trading.history(view.name)
            histories[view.name] = history
            recent.extend(services.trading.list_orders(view.name))
            cards.append(Card(view.name, view.mode, value, history.time_weighted_return, None))
        except USER_ERRORS as failure:
            cards.append(Card(view.name, view.mode, None, None, str(failure)))
    recent.sort(key=lambda o: (o.created_at is not None, o.created_at), reverse=True)

    figure = None
    chart_note = None
    selected = selection.selected
    if selected is not None and selected.name in histories:
        history = histories[selected.name]
        if len(history.snapshots) >= 2:
            equity = equity_series(history)
            lines = [(f"{selected.name} equity", equity)]
            closes, chart_note = benchmark_closes(
                services, selected.benchmark, history.snapshots[0].date, history.snapshots[-1].date
            )
            if closes is not None:
                # the benchmark bought with the portfolio's first equity: same currency scale
                rescaled = closes / closes.iloc[0] * equity.iloc[0]
                lines.append((f"{selected.benchmark} (same start value)", rescaled))
            figure = charts.lines(lines, y_title="currency")
        else:
            chart_note = (
                "fewer than two daily snapshots: the equity curve starts after the next "
                "snapshot (quantdesk portfolio snapshot NAME)"
            )
    # the date range, not the data status: status counts every bar (seconds on a big database)
    try:
        first, last = services.data.get_date_range()
        data_range: tuple[date, date, int] | None = (
            first.date(),
            last.date(),
            len(services.data.get_symbols()),
        )
    except NotFoundError:
        data_range = None
    return render(
        request,
        principal,
        "dashboard.html",
        {
            "title": "Dashboard",
            "active": "dashboard",
            "selection": selection,
            "cards": cards,
            "recent": recent[:RECENT_TRADES],
            "figure": figure,
            "chart_note": chart_note,
            "charts": figure is not None,
            "data_range": data_range,
            "alerts": services.alerts.list(acknowledged=False, limit=OPEN_ALERTS),
            "notice": notice,
            "error": error,
        },
    )


@router.post("/alerts/{alert_id}/ack")
def acknowledge_alert(
    services: ServicesDep, principal: Trader, _: CsrfChecked, alert_id: int
) -> RedirectResponse:
    """The Dashboard's "seen" button (traders)."""
    try:
        services.alerts.acknowledge(alert_id, principal.name)
    except USER_ERRORS as failure:
        return RedirectResponse("/?" + urlencode({"error": str(failure)}), status_code=303)
    return RedirectResponse("/", status_code=303)
