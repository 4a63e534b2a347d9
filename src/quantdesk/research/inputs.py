"""Parsing of the research service's arguments: dates, score-set names, cash amounts, and the
read-back of stored numbers. Pure: errors are :class:`ResearchInputError` naming the input."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.research.errors import ResearchInputError

DateLike = date | datetime | str | pd.Timestamp


class ScoreSet(StrEnum):
    """The stored score sets."""

    MOMENTUM_COMPOSITE = "momentum-composite"
    ETF_FACTOR = "etf-factor"


def parse_score_set(value: str) -> ScoreSet:
    try:
        return ScoreSet(value.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in ScoreSet)
        raise ResearchInputError(f"unknown score set {value!r}; choose from {choices}") from None


def as_date(value: DateLike, what: str = "date") -> date:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ResearchInputError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None
    if pd.isna(stamp):
        raise ResearchInputError(f"{what} {value!r} is not a date (YYYY-MM-DD)")
    return date(stamp.year, stamp.month, stamp.day)


def as_money(value: Decimal | float | int | str, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise ResearchInputError(f"{what} {value!r} is not a number") from None
    if not amount.is_finite():
        raise ResearchInputError(f"{what} {value!r} is not a finite number")
    return amount


def finite_or_none(value: Any) -> float | None:
    """A finite float, or None for NaN/NA/None (values read back from frames)."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return number if np.isfinite(number) else None
