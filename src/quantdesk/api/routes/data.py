"""``/api/data``: status, symbols, bars, quality, and remote updates (a background job)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from quantdesk.api.deps import Admin, ServicesDep, Viewer, WebServicesDep
from quantdesk.api.schemas.common import MAX_PAGE, Page, Pagination, finite, paginate
from quantdesk.api.schemas.data import (
    BarOut,
    Bars,
    DataStatusOut,
    DataUpdate,
    Quality,
    QualityIssueOut,
    Symbol,
)
from quantdesk.api.schemas.jobs import Job
from quantdesk.core.enums import AssetClass, Timeframe
from quantdesk.core.errors import InvalidRequestError
from quantdesk.services.jobs import JobResult, Progress

router = APIRouter(prefix="/data", tags=["data"])


@router.get("/status")
def data_status(services: ServicesDep, _: Viewer) -> DataStatusOut:
    status_ = services.data_status.status()
    return DataStatusOut(
        as_of=status_.as_of,
        symbols=status_.symbols,
        symbols_with_bars=status_.symbols_with_bars,
        bars=status_.bars,
        first_date=status_.first_date,
        latest_date=status_.latest_date,
        days_old=status_.days_old,
        by_asset_class=dict(status_.by_asset_class),
        by_timeframe=dict(status_.by_timeframe),
    )


@router.get("/symbols")
def symbols(
    services: ServicesDep,
    _: Viewer,
    page: Pagination,
    asset_class: AssetClass | None = None,
) -> Page[Symbol]:
    rows = [
        Symbol(
            symbol=i.symbol,
            name=i.name,
            asset_class=str(i.asset_class),
            sector=i.sector,
            industry=i.industry,
            exchange=i.exchange,
            currency=i.currency,
            price_fields=i.price_fields,
            source=i.source,
        )
        for i in services.data.get_symbols(asset_class)
    ]
    return paginate(rows, page)


@router.get("/bars/{symbol}")
def bars(
    symbol: Annotated[str, Path(min_length=1, max_length=32)],
    services: ServicesDep,
    _: Viewer,
    start: date | None = None,
    end: date | None = None,
    timeframe: Timeframe = Timeframe.D1,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 5000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> Bars:
    """Bars of one symbol in time order (prices as stored, volume in shares)."""
    if start and end and start > end:
        raise InvalidRequestError(f"start {start} is after end {end}")
    frame = services.data.get_bars(symbol.upper(), start, end, timeframe)
    window = frame.iloc[offset : offset + limit]
    rows = [
        BarOut(
            ts=row["ts"].to_pydatetime(),
            open=finite(row.get("open")),
            high=finite(row.get("high")),
            low=finite(row.get("low")),
            close=finite(row.get("close")),
            volume=finite(row.get("volume")),
            adj_close=finite(row.get("adj_close")),
        )
        for row in window.to_dict("records")
    ]
    return Bars(symbol=symbol.upper(), timeframe=timeframe, bars=rows, total=len(frame))


@router.get("/quality")
def quality(
    services: ServicesDep,
    _: Viewer,
    symbols: Annotated[list[str] | None, Query(max_length=MAX_PAGE)] = None,
    stale_after_days: Annotated[int, Query(ge=1, le=3650)] = 5,
) -> Quality:
    report = services.reference.check_quality(
        [s.upper() for s in symbols] if symbols else None, stale_after_days=stale_after_days
    )
    return Quality(
        as_of=report.as_of,
        symbols=report.symbols,
        bars=report.bars,
        first_date=report.first_date,
        last_date=report.last_date,
        ok=report.ok,
        issues=[
            QualityIssueOut(kind=str(i.kind), count=i.count, symbols=i.symbols)
            for i in report.issues
        ],
        stale_symbols=dict(report.stale_symbols),
        missing_sessions_by_symbol=dict(report.missing_sessions_by_symbol),
    )


@router.post("/update", status_code=status.HTTP_202_ACCEPTED)
def update(body: DataUpdate, services: ServicesDep, web: WebServicesDep, principal: Admin) -> Job:
    """Fetch and import bars from a remote source, as a background job."""
    if body.start and body.end and body.start > body.end:
        raise InvalidRequestError(f"start {body.start} is after end {body.end}")

    def work(progress: Progress) -> JobResult:
        progress(0.05, f"fetching from {body.source}")
        report = services.reference.update_from_source(
            body.source,
            [s.upper() for s in body.symbols] if body.symbols else None,
            body.start,
            body.end,
        )
        return JobResult(
            reference=None,
            summary=f"{report.inserted} inserted, {report.updated} updated, "
            f"{report.rejected} rejected ({report.symbols} symbols)",
        )

    return Job.of(
        web.jobs.submit("data-update", f"update from {body.source}", principal.name, work)
    )
