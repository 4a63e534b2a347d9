"""``/api/trades`` (manual trade entry) and ``/api/portfolios/{portfolio}/trades`` (history:
orders with fills, filterable by date)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, status

from quantdesk.api.deps import ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.publish import publish_orders, publish_value
from quantdesk.api.routes.orders import order_spec
from quantdesk.api.schemas.common import Page, Pagination, paginate
from quantdesk.api.schemas.trading import ManualTrade, Order
from quantdesk.core.errors import InvalidRequestError

router = APIRouter(tags=["trades"])


@router.post("/trades", status_code=status.HTTP_201_CREATED)
def manual_trade(body: ManualTrade, services: ServicesDep, web: WebServicesDep, _: Trader) -> Order:
    placed = services.trading.submit_orders(
        body.portfolio, [order_spec(body, "manual")], tag="manual"
    )
    publish_orders(web.events, placed)
    publish_value(web.events, services, body.portfolio)
    return Order.of(placed[0])


@router.get("/portfolios/{portfolio}/trades")
def trade_history(
    portfolio: Annotated[str, Path(min_length=1, max_length=64)],
    services: ServicesDep,
    _: Viewer,
    page: Pagination,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Page[Order]:
    """Orders with at least one fill, newest first; dates bound the order's creation day."""
    if start_date and end_date and start_date > end_date:
        raise InvalidRequestError(f"start_date {start_date} is after end_date {end_date}")
    filled = [
        o
        for o in services.trading.list_orders(portfolio)
        if o.filled_quantity > 0
        and (start_date is None or (o.created_at and o.created_at.date() >= start_date))
        and (end_date is None or (o.created_at and o.created_at.date() <= end_date))
    ]
    filled.sort(key=lambda o: (o.created_at is not None, o.created_at), reverse=True)
    return paginate([Order.of(o) for o in filled], page)
