"""Trades: every order with its fills, filtered (portfolio, symbol, side, status) and paged on
the server, and the transaction-cost analysis (slippage in bp) beside it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quantdesk.analytics.tca import TcaGrouping
from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.core.enums import Side
from quantdesk.services.trading_types import OrderView
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.paging import paginate
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)


def matches(order: OrderView, symbol: str, side: str, status: str) -> bool:
    return (
        (not symbol or order.symbol == symbol)
        and (not side or order.side == side)
        and (not status or order.status == status)
    )


@router.get("/trades", response_class=HTMLResponse)
def trades(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    portfolio: str = "",
    symbol: str = "",
    side: str = "",
    status: str = "",
    by: str = TcaGrouping.SYMBOL.value,
    page: int = 1,
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio or None)
    names = [portfolio] if portfolio else [p.name for p in selection.portfolios]
    orders: list[OrderView] = []
    for name in names:
        orders.extend(services.trading.list_orders(name))
    orders.sort(key=lambda o: (o.created_at is not None, o.created_at), reverse=True)
    symbol = symbol.strip().upper()
    shown = [o for o in orders if matches(o, symbol, side, status)]
    grouping = TcaGrouping(by) if by in {g.value for g in TcaGrouping} else TcaGrouping.SYMBOL
    report = None
    tca_error = None
    figure = None
    if selection.portfolios:
        try:
            report = services.trading.tca(portfolio or None, by=grouping)
        except USER_ERRORS as failure:
            tca_error = str(failure)
    if report is not None and report.groups:
        figure = charts.bars(
            [g.group for g in report.groups],
            [("mean slippage (bp)", [g.mean_bp for g in report.groups])],
        )
        figure["layout"]["yaxis"] = {"title": {"text": "bp (positive = cost)"}}
    return render(
        request,
        principal,
        "trades.html",
        {
            "title": "Trades",
            "active": "trades",
            "selection": selection,
            "portfolio": portfolio,
            "symbol": symbol,
            "side": side,
            "status": status,
            "by": grouping.value,
            "groupings": [g.value for g in TcaGrouping],
            "sides": [s.value for s in Side],
            "statuses": sorted({o.status for o in orders}),
            "page": paginate(shown, page),
            "query": {
                "portfolio": portfolio,
                "symbol": symbol,
                "side": side,
                "status": status,
                "by": grouping.value,
            },
            "report": report,
            "tca_error": tca_error,
            "figure": figure,
            "charts": figure is not None,
        },
    )
