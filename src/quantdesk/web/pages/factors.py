"""Factors: the sortable ranking (server-side sort and pages), a factor heatmap, one symbol's
score history, the correlation of the factors across symbols, and recommendations."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.research.inputs import ScoreSet
from quantdesk.web import charts
from quantdesk.web.pages.common import USER_ERRORS
from quantdesk.web.paging import paginate
from quantdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

FIXED_COLUMNS = ("rank", "symbol", "sector", "score", "sector_rank")
PAGE_SIZE = 15


def component_columns(frame: pd.DataFrame) -> list[str]:
    """The normalised factor columns (each ``<name>`` that has a ``<name>_raw`` beside it)."""
    return [c for c in frame.columns if f"{c}_raw" in frame.columns]


def sort_rows(frame: pd.DataFrame, column: str, descending: bool) -> pd.DataFrame:
    """Rows ordered by ``column`` (missing values last, ties by rank)."""
    return frame.sort_values(
        [column, "rank"], ascending=[not descending, True], na_position="last", kind="stable"
    )


@router.get("/factors", response_class=HTMLResponse)
def factors(
    request: Request,
    services: ServicesDep,
    principal: Viewer,
    score_set: str = ScoreSet.MOMENTUM_COMPOSITE.value,
    sort: str = "rank",
    order: str = "asc",
    page: int = 1,
    symbol: str | None = None,
) -> HTMLResponse:
    context: dict[str, object] = {
        "title": "Factors",
        "active": "factors",
        "score_sets": [s.value for s in ScoreSet],
        "score_set": score_set,
        "error": None,
    }
    try:
        # the stored scores as they are: the page never computes (``quantdesk scores`` does)
        frame = services.research.latest_scores(score_set)
    except USER_ERRORS as failure:
        context["error"] = str(failure)
        return render(request, principal, "factors.html", {**context, "scored": None})
    scored = pd.Timestamp(frame["date"].iloc[0]).date() if len(frame) else None
    newer = None
    if scored is not None:
        _, last = services.data.get_date_range()
        newer = last.date() if last.date() > scored else None
    components = component_columns(frame)
    sortable = [*FIXED_COLUMNS, *components]
    sort = sort if sort in sortable else "rank"
    descending = order == "desc"
    ordered = sort_rows(frame, sort, descending) if len(frame) else frame
    records = ordered.to_dict("records")
    shown = paginate(records, page, PAGE_SIZE)
    figures: dict[str, object] = {}
    if len(frame) and components:
        page_frame = pd.DataFrame(list(shown.rows)).set_index("symbol")[components]
        page_frame = page_frame.astype("float64").dropna(axis=1, how="all")
        figures["heatmap"] = charts.heatmap(page_frame, title="factor z-scores (this page)")
        correlation = frame[components].astype("float64").corr()
        if correlation.notna().to_numpy().any():
            figures["correlation"] = charts.heatmap(
                correlation.dropna(how="all").dropna(axis=1, how="all"),
                title="correlation of the factors across symbols",
            )
    history_symbol = symbol or (str(ordered.iloc[0]["symbol"]) if len(ordered) else None)
    history_error = None
    if history_symbol:
        try:
            history = services.research.score_history(history_symbol, score_set)
        except USER_ERRORS as failure:
            history_error = str(failure)
        else:
            if len(history):
                index = pd.DatetimeIndex(pd.to_datetime(history["date"]))
                score = pd.Series(history["score"].to_numpy("float64"), index=index)
                figure = charts.lines([("score", score)], y_title="score (z)")
                # the rank of each date shows on hover rather than on a second axis
                figure["data"][0]["text"] = charts.clean(history["rank"].to_numpy("float64"))
                figure["data"][0]["hovertemplate"] = "score %{y:.2f} · rank %{text}<extra></extra>"
                figures["history"] = figure
    recommendations = None
    if scored is not None:
        stored = services.research.signals(f"recommend:{score_set}:equal", scored)
        ranks = dict(zip(frame["symbol"], frame["rank"], strict=True))
        recommendations = sorted(
            (
                {
                    "symbol": row["symbol"],
                    "weight": row["target_weight"],
                    "rank": ranks.get(row["symbol"]),
                    "score": (row["details"] or {}).get("score"),
                }
                for row in stored.to_dict("records")
            ),
            key=lambda row: (row["rank"] is None, row["rank"]),
        )
    return render(
        request,
        principal,
        "factors.html",
        {
            **context,
            "scored": scored,
            "newer": newer,
            "count": len(frame),
            "components": components,
            "sortable": sortable,
            "sort": sort,
            "order": "desc" if descending else "asc",
            "page": shown,
            "query": {"score_set": score_set, "sort": sort, "order": order, "symbol": symbol},
            "figures": figures,
            "charts": bool(figures),
            "history_symbol": history_symbol,
            "history_error": history_error,
            "symbols": sorted(str(s) for s in frame["symbol"]) if len(frame) else [],
            "recommendations": recommendations,
        },
    )
