"""Journal: each order beside its annotations (pre-trade thesis, entry, sizing, exit plan;
post-trade outcome and lesson), and a form to add one."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from quantdesk.api.deps import ServicesDep, Trader, Viewer
from quantdesk.api.security import CsrfChecked
from quantdesk.services.trading_types import JournalView, OrderView
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.paging import paginate
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

FIELDS = (
    ("thesis", "thesis"),
    ("intended_entry", "intended entry"),
    ("sizing_rationale", "sizing rationale"),
    ("exit_plan", "exit plan"),
    ("outcome", "outcome"),
    ("lesson", "lesson"),
)


@router.get("/journal", response_class=HTMLResponse)
def journal(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    portfolio: str | None = None,
    page: int = 1,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio)
    rows: list[tuple[OrderView | None, list[JournalView]]] = []
    if selection.selected is not None:
        name = selection.selected.name
        entries = services.trading.journal_list(name)
        by_order: dict[str | None, list[JournalView]] = {}
        for entry in entries:
            by_order.setdefault(entry.client_order_id, []).append(entry)
        orders = sorted(
            services.trading.list_orders(name),
            key=lambda o: (o.created_at is not None, o.created_at),
            reverse=True,
        )
        rows = [(order, by_order.get(order.client_order_id, [])) for order in orders]
        if None in by_order:
            rows.insert(0, (None, by_order[None]))
    return render(
        request,
        principal,
        "journal.html",
        {
            "title": "Journal",
            "active": "journal",
            "selection": selection,
            "page": paginate(rows, page),
            "query": {"portfolio": selection.selected.name if selection.selected else ""},
            "fields": FIELDS,
            "notice": notice,
            "error": error,
        },
    )


@router.post("/journal")
def add_entry(
    services: ServicesDep,
    principal: Trader,
    _: CsrfChecked,
    portfolio: Annotated[str, Form()],
    client_order_id: Annotated[str, Form()] = "",
    thesis: Annotated[str, Form()] = "",
    intended_entry: Annotated[str, Form()] = "",
    sizing_rationale: Annotated[str, Form()] = "",
    exit_plan: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    lesson: Annotated[str, Form()] = "",
) -> RedirectResponse:
    select_portfolio(services, portfolio)
    texts = {
        "thesis": thesis,
        "intended_entry": intended_entry,
        "sizing_rationale": sizing_rationale,
        "exit_plan": exit_plan,
        "outcome": outcome,
        "lesson": lesson,
    }
    given: dict[str, str | None] = {k: v.strip() or None for k, v in texts.items()}
    try:
        services.trading.journal_add(portfolio, given, client_order_id.strip() or None)
        message = {"notice": "annotation saved"}
    except USER_ERRORS as failure:
        message = {"error": f"annotation not saved: {failure}"}
    query = urlencode({"portfolio": portfolio, **message})
    return RedirectResponse(f"/journal?{query}", status_code=303)
