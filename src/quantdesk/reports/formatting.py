"""How report values are written as text (PDF, HTML): one rule for every writer."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from quantdesk.reports.model import ColumnFormat

MISSING = "n/a"


def format_value(value: Any, kind: ColumnFormat) -> str:
    """``value`` as text: percent with two decimals (from a fraction), bp with one, money
    with thousands separators and two decimals, ratios with two decimals; ``n/a`` if missing."""
    text = _format(value, kind)
    # a value that rounds to zero prints without a sign ("-0.0" reads as a loss)
    if text.startswith("-0") and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def _format(value: Any, kind: ColumnFormat) -> str:  # noqa: PLR0911 (one return per format)
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal) and kind is not ColumnFormat.TEXT:
        number = float(value)
        if math.isnan(number):
            return MISSING
        if math.isinf(number):
            return "∞" if number > 0 else "-∞"
        if kind is ColumnFormat.PERCENT:
            return f"{100.0 * number:,.2f}%"
        if kind is ColumnFormat.BP:
            return f"{number:,.1f}"
        if kind is ColumnFormat.CURRENCY:
            return f"{number:,.2f}"
        if kind is ColumnFormat.INTEGER:
            return f"{number:,.0f}"
        if kind is ColumnFormat.RATIO:
            return f"{number:,.2f}"
        return f"{number:,.4g}" if abs(number) < 1000 else f"{number:,.0f}"
    return str(value)
