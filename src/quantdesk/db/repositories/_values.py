"""Conversions from pandas cells (NaN/NaT for missing) to database values (None)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd


def optional_date(value: Any) -> date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def optional_float(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def optional_text(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)
