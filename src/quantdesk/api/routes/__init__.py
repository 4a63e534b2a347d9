"""REST resources, one module each; :func:`include_routes` mounts them all under ``/api``."""

from __future__ import annotations

from fastapi import FastAPI


def include_routes(app: FastAPI) -> None:
    from quantdesk.api.routes import (
        alerts,
        backtests,
        data,
        docs,
        events,
        factors,
        jobs,
        journal,
        login,
        order_events,
        orders,
        portfolio_analytics,
        portfolio_settings,
        portfolios,
        reports,
        risk,
        signals,
        strategies,
        strategy_books,
        sweeps,
        system,
        tca,
        trades,
        users,
    )

    app.include_router(login.router)
    docs.install_docs(app)
    for module in (
        system,
        portfolios,
        portfolio_analytics,
        orders,
        order_events,
        portfolio_settings,
        alerts,
        trades,
        journal,
        tca,
        factors,
        signals,
        risk,
        data,
        strategies,
        strategy_books,
        backtests,
        sweeps,
        jobs,
        events,
        users,
        reports,
    ):
        app.include_router(module.router, prefix="/api")
