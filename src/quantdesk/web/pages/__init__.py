"""One module per page; each exposes ``router`` (page routes, left out of the OpenAPI schema)."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from quantdesk.web.pages import (
        backtests,
        dashboard,
        factors,
        journal,
        performance,
        portfolios,
        reports,
        risk,
        settings,
        strategies,
        trades,
    )

    return [
        dashboard.router,
        portfolios.router,
        factors.router,
        performance.router,
        trades.router,
        risk.router,
        strategies.router,
        backtests.router,
        journal.router,
        reports.router,
        settings.router,
    ]
