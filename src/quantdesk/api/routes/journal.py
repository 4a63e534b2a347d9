"""``/api/portfolios/{portfolio}/journal`` and ``/api/journal/{id}``: trading-journal notes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from quantdesk.api.deps import ServicesDep, Trader, Viewer
from quantdesk.api.schemas.common import Page, Pagination, paginate
from quantdesk.api.schemas.trading import JournalCreate, JournalEntry, JournalTexts
from quantdesk.core.errors import InvalidRequestError

router = APIRouter(tags=["journal"])
PortfolioName = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/portfolios/{portfolio}/journal")
def list_entries(
    portfolio: PortfolioName,
    services: ServicesDep,
    _: Viewer,
    page: Pagination,
    client_order_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[JournalEntry]:
    entries = services.trading.journal_list(portfolio, client_order_id)
    return paginate([JournalEntry.of(e) for e in entries], page)


@router.post("/portfolios/{portfolio}/journal", status_code=status.HTTP_201_CREATED)
def add_entry(
    portfolio: PortfolioName, body: JournalCreate, services: ServicesDep, _: Trader
) -> JournalEntry:
    texts = body.model_dump(exclude={"client_order_id"}, exclude_unset=True)
    if not any(texts.values()):
        raise InvalidRequestError("a journal entry needs at least one text")
    return JournalEntry.of(services.trading.journal_add(portfolio, texts, body.client_order_id))


@router.patch("/journal/{entry_id}")
def edit_entry(
    entry_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: JournalTexts,
    services: ServicesDep,
    _: Trader,
) -> JournalEntry:
    texts = body.model_dump(exclude_unset=True)
    if not texts:
        raise InvalidRequestError("give at least one field to change")
    return JournalEntry.of(services.trading.journal_edit(entry_id, texts))
