"""``/api/factors``: the latest stored scores, one symbol's history, recommendations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from quantdesk.api.deps import ServicesDep, Viewer
from quantdesk.api.schemas.common import MAX_PAGE, finite
from quantdesk.api.schemas.research import (
    FactorHistory,
    FactorScores,
    Recommendations,
    RecommendedWeight,
    score_rows,
    text,
    to_date,
    to_int,
)
from quantdesk.portfolio.construct import WeightingMethod
from quantdesk.research.inputs import ScoreSet

router = APIRouter(prefix="/factors", tags=["factors"])


@router.get("/latest")
def latest(
    services: ServicesDep,
    _: Viewer,
    score_set: ScoreSet = ScoreSet.MOMENTUM_COMPOSITE,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> FactorScores:
    """Stored scores on the latest scored date, best rank first (empty when none is stored;
    ``quantdesk scores`` computes them)."""
    frame = services.research.latest_scores(score_set)
    rows = score_rows(frame.iloc[offset : offset + limit])
    return FactorScores(
        score_set=score_set.value,
        date=rows[0].date if rows else (to_date(frame["date"].iloc[0]) if len(frame) else None),
        scores=rows,
        total=len(frame),
    )


@router.get("/recommendations")
def recommendations(
    services: ServicesDep,
    _: Viewer,
    num_positions: Annotated[int, Query(ge=1, le=200)] = 10,
    optimizer: WeightingMethod = WeightingMethod.EQUAL,
    score_set: ScoreSet = ScoreSet.MOMENTUM_COMPOSITE,
    max_weight: Annotated[float | None, Query(gt=0, le=1)] = None,
) -> Recommendations:
    """Target weights for the ``num_positions`` best names by the latest stored score."""
    result = services.research.recommend(
        optimizer, num_positions, score_set=score_set, max_weight=max_weight
    )
    return Recommendations(
        date=result.date,
        score_set=result.score_set,
        optimizer=result.optimizer,
        positions=result.positions,
        cash_weight=finite(result.cash_weight),
        strategy=result.strategy,
        note=result.note,
        recommendations=[
            RecommendedWeight(
                symbol=str(row["symbol"]),
                sector=text(row.get("sector")),
                score=finite(row.get("score")),
                rank=to_int(row.get("rank")),
                weight=finite(row.get("weight")),
            )
            for row in result.weights.to_dict("records")
        ],
    )


@router.get("/{symbol}")
def history(
    symbol: Annotated[str, Path(min_length=1, max_length=32)],
    services: ServicesDep,
    _: Viewer,
    score_set: ScoreSet = ScoreSet.MOMENTUM_COMPOSITE,
    days: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> FactorHistory:
    """Every stored score of ``symbol`` (the last ``days`` calendar days if given)."""
    frame = services.research.score_history(symbol.upper(), score_set)
    rows = score_rows(frame)
    if days is not None and rows:
        from datetime import timedelta

        cutoff = rows[-1].date - timedelta(days=days)
        rows = [r for r in rows if r.date > cutoff]
    return FactorHistory(symbol=symbol.upper(), score_set=score_set.value, history=rows)
