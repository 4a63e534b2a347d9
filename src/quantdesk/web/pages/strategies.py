"""Strategies: the registered strategies with their parameters, and how each portfolio's
equity is allocated across its strategy books."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

MANUAL_BOOK = "(manual / unassigned)"


@router.get("/strategies", response_class=HTMLResponse)
def strategies(
    request: Request, services: ServicesDep, principal: Viewer, portfolio: str | None = None
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio)
    allocation: list[tuple[str, Decimal, float]] = []
    error = None
    figure = None
    if selection.selected is not None:
        try:
            value = services.trading.value(selection.selected.name)
        except USER_ERRORS as failure:
            error = str(failure)
        else:
            books: dict[str, Decimal] = defaultdict(Decimal)
            for position in value.positions:
                books[position.strategy or MANUAL_BOOK] += position.market_value
            books["cash"] += value.cash
            equity = value.equity
            allocation = [
                (book, amount, float(amount / equity) if equity else 0.0)
                for book, amount in sorted(books.items(), key=lambda item: -item[1])
            ]
            figure = charts.bars(
                [book for book, _, _ in allocation],
                [("share of equity", [share for _, _, share in allocation])],
                percent=True,
            )
    return render(
        request,
        principal,
        "strategies.html",
        {
            "title": "Strategies",
            "active": "strategies",
            "strategies": services.backtest.strategies(),
            "selection": selection,
            "allocation": allocation,
            "figure": figure,
            "charts": figure is not None,
            "error": error,
        },
    )
