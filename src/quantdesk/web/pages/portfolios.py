"""Portfolios: the list with a create form; one portfolio's positions, target vs current
weights, the rebalance panel with one-click execute, and the manual trade form.

Form posts need the trader role and the session's CSRF token; after a post the browser is sent
back to the page (303) with a one-line notice, so a reload never posts twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from quantdesk.api.deps import Admin, ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.publish import publish_orders, publish_value
from quantdesk.api.security import CsrfChecked
from quantdesk.core.enums import Side
from quantdesk.core.errors import QuantdeskError
from quantdesk.services import Services
from quantdesk.services.trading_types import (
    OrderSpec,
    PortfolioValue,
    PortfolioView,
    RebalanceResult,
)
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

DEFAULT_SOURCE = "signal:composite"


def target_sources(services: Services) -> list[tuple[str, str]]:
    """``(value, label)`` of every source of target weights a rebalance can use."""
    sources = [
        ("signal:composite", "composite scores: top 10, equal weight"),
        ("signal:sector-momentum", "12-1 sector-ETF rotation signal (needs sector ETFs)"),
    ]
    sources += [
        (f"strategy:{s.name}", f"strategy {s.name}")
        for s in services.backtest.strategies()
        if s.kind == "allocation"
    ]
    return sources


def plan(
    services: Services, name: str, source: str, threshold: float, execute: bool
) -> RebalanceResult:
    """The rebalance of portfolio ``name`` to the targets ``source`` names (see
    :func:`target_sources`)."""
    kind, _, which = source.partition(":")
    if kind == "signal":
        return services.trading.rebalance(name, signal=which, threshold=threshold, execute=execute)
    if kind == "strategy":
        return services.trading.rebalance(
            name, strategy=which, threshold=threshold, execute=execute
        )
    raise QuantdeskError(f"unknown target source {source!r}; pick one of the list")


def back(name: str, **message: str) -> RedirectResponse:
    query = f"?{urlencode(message)}" if message else ""
    return RedirectResponse(f"/portfolios/{name}{query}", status_code=303)


@router.get("/portfolios", response_class=HTMLResponse)
def portfolio_list(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    rows: list[tuple[PortfolioView, PortfolioValue | None, str | None]] = []
    for view in services.trading.list_portfolios():
        try:
            rows.append((view, services.trading.value(view.name), None))
        except USER_ERRORS as failure:
            rows.append((view, None, str(failure)))
    symbols = {s.symbol for s in services.data.get_symbols()}
    return render(
        request,
        principal,
        "portfolios.html",
        {
            "title": "Portfolios",
            "active": "portfolios",
            "rows": rows,
            "default_benchmark": "SP500" if "SP500" in symbols else "",
            "notice": notice,
            "error": error,
        },
    )


@router.post("/portfolios")
def create_portfolio(
    services: ServicesDep,
    principal: Trader,
    _: CsrfChecked,
    name: Annotated[str, Form()],
    cash: Annotated[str, Form()] = "100000",
    benchmark: Annotated[str, Form()] = "",
) -> RedirectResponse:
    try:
        view = services.trading.create_portfolio(
            name, cash, mode="paper", benchmark=benchmark.strip() or None
        )
    except USER_ERRORS as failure:
        return RedirectResponse(
            "/portfolios?" + urlencode({"error": str(failure)}), status_code=303
        )
    return back(view.name, notice=f"paper portfolio {view.name} created with {cash} cash")


@router.post("/portfolios/{name}/delete")
def delete_portfolio(
    services: ServicesDep, principal: Admin, _: CsrfChecked, name: str
) -> RedirectResponse:
    """Archive the portfolio (admin; the page asks to confirm first): refused while it has
    open orders."""
    try:
        archived = services.portfolio_admin.archive(name)
    except USER_ERRORS as failure:
        return RedirectResponse(
            "/portfolios?" + urlencode({"error": str(failure)}), status_code=303
        )
    notice = f"portfolio {archived.name} deleted (archived: its ledger is kept for audit)"
    return RedirectResponse("/portfolios?" + urlencode({"notice": notice}), status_code=303)


@router.get("/portfolios/{name}", response_class=HTMLResponse)
def portfolio_detail(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    name: str,
    source: str = "",
    threshold: float = 0.0,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    """The rebalance preview runs only when a target source is picked: targets may need
    scoring or a strategy run, which a plain visit should not start."""
    selection = select_portfolio(services, name)
    value = None
    try:
        value = services.trading.value(name)
    except USER_ERRORS as failure:
        error = error or str(failure)
    rebalance: RebalanceResult | None = None
    rebalance_error = None
    if source:
        try:
            rebalance = plan(services, name, source, threshold, execute=False)
        except USER_ERRORS as failure:
            rebalance_error = str(failure)
    figure = None
    targets = {row.symbol: row.target_weight for row in rebalance.drift} if rebalance else {}
    if rebalance is None and value is not None and value.positions:
        figure = charts.bars(
            [p.symbol for p in value.positions],
            [("current", [p.weight for p in value.positions])],
            percent=True,
        )
    if rebalance is not None and rebalance.drift:
        labels = [row.symbol for row in rebalance.drift]
        figure = charts.bars(
            labels,
            [
                ("current", [row.current_weight for row in rebalance.drift]),
                ("target", [row.target_weight for row in rebalance.drift]),
            ],
            percent=True,
        )
    orders = services.trading.list_orders(name, open_only=True)
    return render(
        request,
        principal,
        "portfolio.html",
        {
            "title": f"Portfolio {name}",
            "active": "portfolios",
            "portfolio": selection.selected,
            "value": value,
            "targets": targets,
            "rebalance": rebalance,
            "rebalance_error": rebalance_error,
            "sources": target_sources(services),
            "source": source or DEFAULT_SOURCE,
            "previewed": bool(source),
            "threshold": threshold,
            "figure": figure,
            "charts": figure is not None,
            "open_orders": orders,
            "sides": [side.value for side in Side],
            "notice": notice,
            "error": error,
        },
    )


@router.post("/portfolios/{name}/rebalance")
def execute_rebalance(
    services: ServicesDep,
    web: WebServicesDep,
    principal: Trader,
    _: CsrfChecked,
    name: str,
    source: Annotated[str, Form()] = DEFAULT_SOURCE,
    threshold: Annotated[float, Form()] = 0.0,
) -> RedirectResponse:
    select_portfolio(services, name)  # 404 for an unknown portfolio
    try:
        result = plan(services, name, source, threshold, execute=True)
    except USER_ERRORS as failure:
        return back(name, error=f"rebalance not executed: {failure}")
    if not result.executed:
        return back(name, notice="nothing to trade: the portfolio is at its targets")
    publish_orders(web.events, result.orders)  # open pages update without a reload
    publish_value(web.events, services, name)
    filled = sum(1 for order in result.orders if order.status == "filled")
    return back(
        name,
        notice=f"rebalance executed: {len(result.orders)} orders placed, {filled} filled",
    )


@router.post("/portfolios/{name}/orders")
def manual_trade(
    services: ServicesDep,
    web: WebServicesDep,
    principal: Trader,
    _: CsrfChecked,
    name: str,
    symbol: Annotated[str, Form()],
    side: Annotated[str, Form()],
    quantity: Annotated[str, Form()],
    limit_price: Annotated[str, Form()] = "",
) -> RedirectResponse:
    select_portfolio(services, name)
    try:
        if side not in {s.value for s in Side}:
            raise QuantdeskError(f"side must be buy or sell, got {side!r}")
        spec = OrderSpec(
            symbol.strip().upper(),
            Side(side),
            quantity.strip(),
            limit_price=limit_price.strip() or None,
        )
        [order] = services.trading.submit_orders(name, [spec])
    except USER_ERRORS as failure:
        return back(name, error=f"order not placed: {failure}")
    publish_orders(web.events, [order])
    publish_value(web.events, services, name)
    price = order.average_fill_price
    filled = f" at {price:,.2f}" if isinstance(price, Decimal) else ""
    return back(
        name,
        notice=f"{order.side} {order.quantity} {order.symbol}: {order.status}{filled}",
    )
