"""``/api/portfolios/{portfolio}/orders``: submit a batch, list, modify, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from quantdesk.api.deps import ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.publish import publish_orders, publish_value
from quantdesk.api.schemas.common import Page, Pagination, paginate
from quantdesk.api.schemas.trading import Order, OrderBatch, OrderChange, OrderIn
from quantdesk.core.errors import InvalidRequestError, NotFoundError
from quantdesk.services import Services
from quantdesk.services.trading_types import OrderSpec

router = APIRouter(prefix="/portfolios/{portfolio}/orders", tags=["orders"])
PortfolioName = Annotated[str, Path(min_length=1, max_length=64)]
OrderId = Annotated[str, Path(min_length=1, max_length=64, description="Client order id.")]


def order_spec(order: OrderIn, tag: str) -> OrderSpec:
    return OrderSpec(
        symbol=order.symbol.upper(),
        side=order.side,
        quantity=order.quantity,
        limit_price=order.limit_price,
        strategy=order.strategy,
        tag=tag,
    )


@router.get("")
def list_orders(
    portfolio: PortfolioName,
    services: ServicesDep,
    _: Viewer,
    page: Pagination,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> Page[Order]:
    orders = services.trading.list_orders(portfolio, open_only=open_only)
    return paginate([Order.of(o) for o in orders], page)


@router.post("", status_code=status.HTTP_201_CREATED)
def submit_orders(
    portfolio: PortfolioName,
    body: OrderBatch,
    services: ServicesDep,
    web: WebServicesDep,
    _: Trader,
) -> list[Order]:
    """Validate and risk-check every order, then send them all (sells first); one bad order
    and nothing is sent."""
    specs = [order_spec(o, body.tag) for o in body.orders]
    placed = services.trading.submit_orders(portfolio, specs, tag=body.tag)
    publish_orders(web.events, placed)
    publish_value(web.events, services, portfolio)
    return [Order.of(o) for o in placed]


@router.patch("/{client_order_id}")
def modify_order(
    portfolio: PortfolioName,
    client_order_id: OrderId,
    body: OrderChange,
    services: ServicesDep,
    web: WebServicesDep,
    _: Trader,
) -> Order:
    if body.quantity is None and body.limit_price is None:
        raise InvalidRequestError("give a new quantity or limit_price")
    _require_order(services, portfolio, client_order_id)
    order = services.trading.modify_order(
        portfolio, client_order_id, quantity=body.quantity, limit_price=body.limit_price
    )
    publish_orders(web.events, [order])
    return Order.of(order)


@router.delete("/{client_order_id}")
def cancel_order(
    portfolio: PortfolioName,
    client_order_id: OrderId,
    services: ServicesDep,
    web: WebServicesDep,
    _: Trader,
) -> Order:
    _require_order(services, portfolio, client_order_id)
    order = services.trading.cancel_order(portfolio, client_order_id)
    publish_orders(web.events, [order])
    return Order.of(order)


def _require_order(services: Services, portfolio: str, client_order_id: str) -> None:
    """An unknown order id is a 404 (the trading service reports it as a bad request)."""
    if not any(
        o.client_order_id == client_order_id for o in services.trading.list_orders(portfolio)
    ):
        raise NotFoundError(f"portfolio {portfolio!r} has no order {client_order_id!r}")
