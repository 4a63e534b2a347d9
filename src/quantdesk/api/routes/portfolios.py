"""``/api/portfolios``: create, list, detail, positions, cash flows, transfers between strategy
books, performance, rebalancing, reconciliation. Portfolios are named by their (one-word) name."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from quantdesk.api.deps import Admin, ServicesDep, Trader, Viewer, WebServicesDep
from quantdesk.api.publish import publish_orders, publish_value
from quantdesk.api.schemas.common import Page, Pagination, paginate
from quantdesk.api.schemas.operations import Archived
from quantdesk.api.schemas.trading import (
    BookTransfer,
    BookTransferIn,
    CashFlow,
    Performance,
    Period,
    Portfolio,
    PortfolioCreate,
    PortfolioDetail,
    PortfolioValueOut,
    Position,
    Rebalance,
    RebalanceRequest,
    Reconciliation,
    TargetSource,
)
from quantdesk.core.errors import InvalidRequestError
from quantdesk.services import Services
from quantdesk.services.trading_types import RebalanceResult

router = APIRouter(prefix="/portfolios", tags=["portfolios"])
PortfolioName = Annotated[str, Path(min_length=1, max_length=64, description="Portfolio name.")]
MONTHS = {Period.ONE_MONTH: 1, Period.THREE_MONTHS: 3, Period.SIX_MONTHS: 6, Period.ONE_YEAR: 12}


@router.get("")
def list_portfolios(services: ServicesDep, _: Viewer, page: Pagination) -> Page[Portfolio]:
    return paginate([Portfolio.of(p) for p in services.trading.list_portfolios()], page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_portfolio(body: PortfolioCreate, services: ServicesDep, _: Trader) -> Portfolio:
    view = services.trading.create_portfolio(
        body.name, body.cash, mode=body.mode, benchmark=body.benchmark
    )
    return Portfolio.of(view)


@router.get("/{portfolio}")
def portfolio_detail(portfolio: PortfolioName, services: ServicesDep, _: Viewer) -> PortfolioDetail:
    view = services.trading.get_portfolio(portfolio)
    value = services.trading.value(portfolio)
    return PortfolioDetail(
        portfolio=Portfolio.of(view),
        value=PortfolioValueOut.of(value),
        positions=[Position.of(p) for p in value.positions],
    )


@router.delete("/{portfolio}")
def archive_portfolio(portfolio: PortfolioName, services: ServicesDep, _: Admin) -> Archived:
    """Delete (archive) a portfolio: gone from lists and trading, its ledger kept for audit and
    its name kept taken; 409 while it has open orders. Admin only: it cannot be undone here."""
    return Archived.of(services.portfolio_admin.archive(portfolio))


@router.get("/{portfolio}/positions")
def positions(
    portfolio: PortfolioName, services: ServicesDep, _: Viewer, page: Pagination
) -> Page[Position]:
    return paginate([Position.of(p) for p in services.trading.positions(portfolio)], page)


@router.post("/{portfolio}/cash-flows")
def cash_flow(
    portfolio: PortfolioName,
    body: CashFlow,
    services: ServicesDep,
    web: WebServicesDep,
    _: Trader,
) -> PortfolioValueOut:
    value = services.trading.deposit(portfolio, body.amount, body.strategy)
    publish_value(web.events, services, portfolio)
    return PortfolioValueOut.of(value)


@router.post("/{portfolio}/transfers")
def transfer(
    portfolio: PortfolioName,
    body: BookTransferIn,
    services: ServicesDep,
    web: WebServicesDep,
    _: Trader,
) -> BookTransfer:
    """Move cash or a holding between two books of the portfolio (``unallocated`` names the
    unallocated book), inside the account: nothing reaches the broker and the portfolio's cash,
    positions, equity and return are unchanged; for the books it is a flow out of one and into
    the other. 404 for an unknown portfolio or book; 422 when the source book has less."""
    if (body.cash is None) == (body.symbol is None):
        raise InvalidRequestError("give exactly one of cash or symbol")
    if body.quantity is not None and body.symbol is None:
        raise InvalidRequestError("quantity goes with symbol")
    done = services.trading.transfer(
        portfolio,
        body.from_book,
        body.to_book,
        cash=body.cash,
        symbol=body.symbol,
        quantity=body.quantity,
    )
    publish_value(web.events, services, portfolio)
    return BookTransfer.of(done)


@router.get("/{portfolio}/performance")
def performance(
    portfolio: PortfolioName,
    services: ServicesDep,
    _: Viewer,
    period: Annotated[Period, Query(description="1M, 3M, 6M, 1Y, YTD or ALL.")] = Period.ALL,
) -> Performance:
    start = period_start(period, services.clock.now().date())
    return Performance.of(services.trading.history(portfolio, start=start), period)


@router.get("/{portfolio}/drift")
def drift(
    portfolio: PortfolioName,
    services: ServicesDep,
    _: Viewer,
    strategy: Annotated[str | None, Query(max_length=64)] = None,
    signal: TargetSource | None = None,
) -> Rebalance:
    """Current vs target weights (targets from a strategy or a stored signal); no trade."""
    return Rebalance.of(
        _rebalance(
            services, portfolio, RebalanceRequest(strategy=strategy, signal=signal), execute=False
        )
    )


@router.post("/{portfolio}/rebalance")
def rebalance(
    portfolio: PortfolioName, body: RebalanceRequest, services: ServicesDep, _: Trader
) -> Rebalance:
    """The trade list from current to target weights, without trading; drift above the
    portfolio's threshold raises a ``drift`` alert (``GET …/drift`` only reads)."""
    return Rebalance.of(_rebalance(services, portfolio, body, execute=False, alert_drift=True))


@router.post("/{portfolio}/execute-rebalance")
def execute_rebalance(
    portfolio: PortfolioName,
    body: RebalanceRequest,
    services: ServicesDep,
    web: WebServicesDep,
    _: Trader,
) -> Rebalance:
    """Compute the trade list and send it as one batch (paper broker fills at once)."""
    result = _rebalance(services, portfolio, body, execute=True)
    publish_orders(web.events, result.orders)
    publish_value(web.events, services, portfolio)
    return Rebalance.of(result)


@router.post("/{portfolio}/reconcile")
def reconcile(portfolio: PortfolioName, services: ServicesDep, _: Trader) -> Reconciliation:
    return Reconciliation.of(services.trading.reconcile(portfolio))


def _rebalance(
    services: Services,
    portfolio: str,
    body: RebalanceRequest,
    *,
    execute: bool,
    alert_drift: bool = False,
) -> RebalanceResult:
    given = [body.targets is not None, body.strategy is not None, body.signal is not None]
    if sum(given) != 1:
        raise InvalidRequestError("give exactly one of targets, strategy or signal")
    return services.trading.rebalance(
        portfolio,
        targets=body.targets,
        strategy=body.strategy,
        signal=body.signal.value if body.signal else None,
        threshold=body.threshold,
        execute=execute,
        alert_drift=alert_drift,
    )


def period_start(period: Period, today: date) -> date | None:
    """The first day of ``period`` ending ``today`` (``None``: all history)."""
    if period is Period.ALL:
        return None
    if period is Period.YEAR_TO_DATE:
        return date(today.year, 1, 1)
    months = today.year * 12 + today.month - 1 - MONTHS[period]
    year, month = divmod(months, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)
