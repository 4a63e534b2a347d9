"""Risk: the VIX with its regimes, the stop dashboard, each position's drawdown from its peak
since entry, and the correlation of the held symbols' daily returns (all from the risk
service)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS, select_portfolio
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

VIX_YEARS = 2
REGIME_COLOURS = {"calm": "#10b981", "elevated": "#f59e0b", "stressed": "#ef4444"}
OTHER_COLOUR = "#6b7280"


@router.get("/risk", response_class=HTMLResponse)
def risk(
    request: Request, services: ServicesDep, principal: Viewer, portfolio: str | None = None
) -> HTMLResponse:
    selection = select_portfolio(services, portfolio)
    regimes = [
        (r.low, r.high, r.name, r.stop, REGIME_COLOURS.get(r.name, OTHER_COLOUR))
        for r in services.risk.regimes
    ]
    figures: dict[str, object] = {}
    context: dict[str, object] = {
        "title": "Risk",
        "active": "risk",
        "selection": selection,
        "regimes": regimes,
        "vix": None,
        "positions": [],
        "error": None,
    }
    points = [p for p in services.risk.recent_vix(VIX_YEARS) if p.close is not None]
    status = services.risk.vix_status()
    if points and status is not None:
        series = pd.Series(
            [p.close for p in points],
            index=pd.DatetimeIndex([pd.Timestamp(p.day) for p in points]),
            dtype="float64",
        )
        context["vix"] = {
            "level": status.level,
            "regime": status.regime.name,
            "stop": status.regime.stop,
            "at": status.at,
        }
        top = max(float(series.max()) * 1.05, 35.0)
        bands = [(lo, min(hi, top), colour, label) for lo, hi, label, _, colour in regimes]
        figures["vix"] = charts.with_bands(
            charts.lines([("VIX", series)], y_title="VIX level"), bands
        )
    if selection.selected is not None:
        try:
            result = services.risk.portfolio_risk(selection.selected.name)
        except USER_ERRORS as failure:
            context["error"] = str(failure)
        else:
            context["positions"] = list(result.positions)
            if result.correlation is not None:
                symbols = list(result.correlation.symbols)
                figures["correlation"] = charts.heatmap(
                    pd.DataFrame(
                        [list(row) for row in result.correlation.matrix],
                        index=symbols,
                        columns=symbols,
                        dtype="float64",
                    )
                )
    context["figures"] = figures
    context["charts"] = bool(figures)
    return render(request, principal, "risk.html", context)
