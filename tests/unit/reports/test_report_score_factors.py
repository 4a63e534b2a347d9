"""Stored scores become a long-short factor: the top minus the bottom 30 % by the last score
known the day before, over the period only."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from quantdesk.research.inputs import ScoreSet
from quantdesk.services.reports_inputs import MAX_SCORE_DATES, stored_score_factors

SYMBOLS = [f"S{k}" for k in range(10)]


class StoredScores:
    """The two research-service reads the factor needs, over fixed month-end scores."""

    def __init__(self, dates: list[date]) -> None:
        self.dates = dates

    def stored_dates(self, score_set: str) -> list[date]:
        return self.dates if score_set == ScoreSet.MOMENTUM_COMPOSITE else []

    def latest_scores(self, score_set: str, date: date) -> pd.DataFrame:
        # S9 scores best, S0 worst, on every date
        return pd.DataFrame({"symbol": SYMBOLS, "score": np.arange(10.0)})


def test_stored_scores_make_a_long_short_factor_over_the_period() -> None:
    days = pd.bdate_range("2023-01-02", "2023-03-31")
    returns = pd.DataFrame(0.0, index=days, columns=SYMBOLS)
    returns[["S7", "S8", "S9"]] = 0.01  # the top 30 %
    returns[["S0", "S1", "S2"]] = -0.02  # the bottom 30 %
    research = cast(Any, StoredScores([date(2022, 12, 30), date(2023, 1, 31), date(2023, 2, 28)]))
    factors, notes = stored_score_factors(research, returns, date(2023, 2, 1), date(2023, 3, 31))
    assert notes == []
    assert list(factors.columns) == ["momentum-composite score"]
    series = factors["momentum-composite score"]
    assert series.index[0] == pd.Timestamp("2023-02-01")
    assert series.to_numpy() == pytest.approx(np.full(len(series), 0.03))


def test_too_long_a_score_history_is_left_out_with_a_note() -> None:
    days = pd.bdate_range("2000-01-03", periods=5)
    dates = list(pd.date_range("1990-01-31", periods=MAX_SCORE_DATES + 5, freq="ME").date)
    factors, notes = stored_score_factors(
        cast(Any, StoredScores(dates)),
        pd.DataFrame(0.0, index=days, columns=SYMBOLS),
        date(1990, 1, 1),
        date(2030, 1, 1),
    )
    assert factors.empty
    assert "left out of the factor attribution" in notes[0]
