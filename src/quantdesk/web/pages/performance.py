"""Performance of a portfolio: headline metrics, cumulative return and drawdown, rolling Sharpe
and the monthly returns heatmap (time-weighted daily returns, flows excluded)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quantdesk.analytics import drawdown_series, equity_curve, monthly_returns_table, rolling_sharpe
from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.services import Services
from quantdesk.services.attribution import Attribution
from quantdesk.web import charts
from quantdesk.web.pages.common import (
    USER_ERRORS,
    benchmark_closes,
    return_series,
    select_portfolio,
)
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

ROLLING_WINDOW = 63  # trading days (a quarter); shorter histories use half their length
MINIMUM_WINDOW = 5

# kind: "return" is a signed fraction coloured by its sign; "percent" a fraction shown plain
METRICS = (
    ("total_return", "total return", "return"),
    ("cagr", "CAGR", "return"),
    ("volatility", "volatility (annualised)", "percent"),
    ("sharpe_ratio", "Sharpe", "number"),
    ("sortino_ratio", "Sortino", "number"),
    ("calmar_ratio", "Calmar", "number"),
    ("max_drawdown", "max drawdown", "return"),
    ("max_drawdown_duration_days", "max drawdown duration (days)", "days"),
    ("win_rate", "winning days", "percent"),
    ("profit_factor", "profit factor", "number"),
    ("value_at_risk", "daily VaR 95 %", "percent"),
    ("conditional_value_at_risk", "daily CVaR 95 %", "percent"),
    ("best_month", "best month", "return"),
    ("worst_month", "worst month", "return"),
)


@router.get("/performance", response_class=HTMLResponse)
def performance(
    request: Request, services: ServicesDep, principal: Viewer, portfolio: str | None = None
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio)
    context: dict[str, object] = {
        "title": "Performance",
        "active": "performance",
        "selection": selection,
        "metrics": METRICS,
        "history": None,
        "figures": {},
        "error": None,
    }
    if selection.selected is None:
        return render(request, principal, "performance.html", context)
    name = selection.selected.name
    try:
        history = services.trading.history(name)
    except USER_ERRORS as failure:
        context["error"] = str(failure)
        return render(request, principal, "performance.html", context)
    context["history"] = history
    returns = return_series(history)
    figures: dict[str, object] = {}
    if len(returns) >= 2:
        # the curve starts at 0 the day before its first return: the first snapshot's, or,
        # when the first day has a return of its own (against its deposit), the day before it
        first_day = pd.Timestamp(history.snapshots[0].date)
        if returns.index[0] <= first_day:
            first_day = returns.index[0] - pd.Timedelta(days=1)
        start = pd.Series([0.0], index=pd.DatetimeIndex([first_day]))
        cumulative = pd.concat([start, equity_curve(returns) - 1.0])
        lines = [(name, cumulative)]
        closes, note = benchmark_closes(
            services, selection.selected.benchmark, history.snapshots[0].date, returns.index[-1]
        )
        if closes is not None:
            lines.append((str(selection.selected.benchmark), closes / closes.iloc[0] - 1.0))
        context["benchmark_note"] = note
        figures["cumulative"] = charts.lines(lines, y_title="cumulative return", percent=True)
        figures["drawdown"] = charts.lines(
            [("drawdown", pd.concat([start, drawdown_series(returns)]))],
            y_title="drawdown",
            percent=True,
            fill=True,
        )
        window = min(ROLLING_WINDOW, max(MINIMUM_WINDOW, len(returns) // 2))
        figures["rolling"] = charts.lines(
            [(f"Sharpe, {window}-day window", rolling_sharpe(returns, window))],
            y_title="annualised Sharpe",
        )
        context["window"] = window
        table = monthly_returns_table(returns)
        figures["monthly"] = charts.heatmap(table, percent=True, height=120 + 30 * len(table))
    context["figures"] = figures
    context["charts"] = bool(figures)
    context["attribution"], context["attribution_error"] = _attribution(services, name)
    return render(request, principal, "performance.html", context)


def _attribution(services: Services, name: str) -> tuple[Attribution | None, str | None]:
    """The whole history's return by position, sector and factor (the report's figures)."""
    try:
        return services.risk.attribution(name, "all"), None
    except USER_ERRORS as failure:
        return None, str(failure)
