"""Strategies: the registered strategies with their parameters, how each portfolio's equity
is allocated across its strategy books, and the switch of each book (traders): a disabled
book keeps its positions and cash; strategy-driven rebalances and ``trade run`` skip it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from quantdesk.api.deps import ServicesDep, Trader, Viewer
from quantdesk.api.security import CsrfChecked
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

MANUAL_BOOK = "(manual / unassigned)"


@router.get("/strategies", response_class=HTMLResponse)
def strategies(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    portfolio: str | None = None,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio)
    allocation: list[tuple[str, Decimal, float]] = []
    figure = None
    enabled: dict[str, bool] = {}
    if selection.selected is not None:
        enabled = {
            b.strategy: b.enabled for b in services.portfolio_admin.books(selection.selected.name)
        }
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
            "notice": notice,
            "enabled": enabled,
        },
    )


@router.post("/strategies/{strategy}/{action}")
def switch_strategy(
    services: ServicesDep,
    principal: Trader,
    _: CsrfChecked,
    strategy: str,
    action: str,
    portfolio: Annotated[str, Form()],
) -> RedirectResponse:
    """Enable or disable ``strategy``'s book of ``portfolio`` (the form's buttons)."""
    query: dict[str, str] = {"portfolio": portfolio}
    if action not in ("enable", "disable"):
        query["error"] = f"unknown action {action!r}: enable or disable"
    else:
        try:
            book = services.portfolio_admin.set_enabled(
                portfolio, strategy, enabled=action == "enable"
            )
        except USER_ERRORS as failure:
            query["error"] = str(failure)
        else:
            state = "enabled" if book.enabled else "disabled: it keeps its positions, no new orders"
            query["notice"] = f"{book.strategy} on {book.portfolio} {state}"
    return RedirectResponse("/strategies?" + urlencode(query), status_code=303)
