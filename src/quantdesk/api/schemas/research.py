"""Bodies of the factor, score, signal and risk routes. Scores are composite z-scores; ranks
start at 1 (best); weights are fractions."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel

from quantdesk.api.schemas.common import finite

BASE_COLUMNS = frozenset({"date", "symbol", "sector", "universe", "score", "rank", "sector_rank"})


class FactorScore(BaseModel):
    """One symbol's stored score: ``components`` are the normalised factor values."""

    date: date
    symbol: str
    sector: str | None
    score: float | None
    rank: int | None
    sector_rank: int | None
    components: dict[str, float | None]


class FactorScores(BaseModel):
    score_set: str
    date: date | None
    scores: list[FactorScore]
    total: int


class FactorHistory(BaseModel):
    symbol: str
    score_set: str
    history: list[FactorScore]


class RecommendedWeight(BaseModel):
    symbol: str
    sector: str | None
    score: float | None
    rank: int | None
    weight: float | None


class Recommendations(BaseModel):
    """Target weights of the best names; ``cash_weight`` is what stays uninvested."""

    date: date
    score_set: str
    optimizer: str
    positions: int
    cash_weight: float | None
    strategy: str
    note: str | None
    recommendations: list[RecommendedWeight]


class SignalRow(BaseModel):
    """One stored signal value; ``fields`` holds its numeric columns (weights, scores)."""

    date: date
    symbol: str
    fields: dict[str, float | None]
    labels: dict[str, str]


class Signals(BaseModel):
    strategy: str
    signals: list[SignalRow]
    total: int


class VixPoint(BaseModel):
    date: date
    close: float | None
    regime: str | None = None  # calm / elevated / stressed (the risk service's VIX bands)


class VixHistory(BaseModel):
    """Daily ^VIX closes (index points)."""

    symbol: str
    points: list[VixPoint]


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def to_int(value: Any) -> int | None:
    number = finite(value)
    return None if number is None else int(number)


def text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def score_row(row: Mapping[Hashable, Any]) -> FactorScore:
    return FactorScore(
        date=to_date(row["date"]),
        symbol=str(row["symbol"]),
        sector=text(row.get("sector")),
        score=finite(row.get("score")),
        rank=to_int(row.get("rank")),
        sector_rank=to_int(row.get("sector_rank")),
        components={
            str(k): finite(v)
            for k, v in row.items()
            if k not in BASE_COLUMNS and not str(k).endswith("_raw")
        },
    )


def score_rows(frame: pd.DataFrame) -> list[FactorScore]:
    return [score_row(row) for row in frame.to_dict("records")]


def signal_rows(frame: pd.DataFrame) -> list[SignalRow]:
    rows = []
    for record in frame.to_dict("records"):
        numbers: dict[str, float | None] = {}
        labels: dict[str, str] = {}
        for key, value in record.items():
            if key in ("date", "symbol"):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers[str(key)] = finite(value)
            elif value is not None and not (isinstance(value, float) and pd.isna(value)):
                labels[str(key)] = str(value)
        rows.append(
            SignalRow(
                date=to_date(record["date"]),
                symbol=str(record["symbol"]),
                fields=numbers,
                labels=labels,
            )
        )
    return rows
