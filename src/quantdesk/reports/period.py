"""Report periods: ``2021-03`` (a month), ``2021-Q1`` (a quarter), ``2021`` (a year),
``START:END`` (ISO dates, both included; either side may also be a month, quarter or year:
``2019:2021`` is 2019-01-01 to 2021-12-31) or ``all`` (the subject's whole history)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from quantdesk.core.errors import InvalidRequestError


class ReportError(InvalidRequestError):
    """A report cannot be built as asked (bad period, nothing in it, unknown format)."""


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Calendar dates ``start`` … ``end`` (both included) and how the user named them."""

    kind: PeriodKind
    start: date | None
    end: date | None
    label: str

    @property
    def bounds(self) -> tuple[date, date]:
        """``(start, end)`` of a period clipped to a history (see :meth:`clipped`)."""
        if self.start is None or self.end is None:
            raise ReportError(f"period {self.label} is not limited to a history yet")
        return self.start, self.end

    def clipped(self, first: date, last: date) -> ReportPeriod:
        """The period limited to data from ``first`` to ``last``; a period wholly outside
        them is a :class:`ReportError` naming both."""
        start = first if self.start is None else max(self.start, first)
        end = last if self.end is None else min(self.end, last)
        if self.end is not None and self.end < first:
            raise ReportError(
                f"period {self.label} ends before the history starts ({first.isoformat()})"
            )
        if self.start is not None and self.start > last:
            raise ReportError(
                f"period {self.label} starts after the history ends ({last.isoformat()})"
            )
        label = self.label if self.kind is not PeriodKind.ALL else f"{start} to {end}"
        return ReportPeriod(self.kind, start, end, label)


ALL_HISTORY = ReportPeriod(PeriodKind.ALL, None, None, "all")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_HELP = "use 2021-03, 2021-Q1, 2021, 2021-01-01:2021-06-30 or all"


def parse_period(text: str | None) -> ReportPeriod:
    """The period ``text`` names (see the module docstring); anything else is one
    :class:`ReportError` quoting it."""
    raw = (text or "all").strip()
    if raw.lower() == "all":
        return ALL_HISTORY
    if match := _MONTH.match(raw):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ReportError(f"period {raw!r}: month {month} is not 01-12; {_HELP}")
        last = calendar.monthrange(year, month)[1]
        return ReportPeriod(PeriodKind.MONTH, date(year, month, 1), date(year, month, last), raw)
    if match := _QUARTER.match(raw):
        year, quarter = int(match[1]), int(match[2])
        first_month = 3 * (quarter - 1) + 1
        last = calendar.monthrange(year, first_month + 2)[1]
        return ReportPeriod(
            PeriodKind.QUARTER,
            date(year, first_month, 1),
            date(year, first_month + 2, last),
            f"{year}-Q{quarter}",
        )
    if match := _YEAR.match(raw):
        year = int(match[1])
        return ReportPeriod(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31), raw)
    if raw.count(":") == 1:
        left, right = (part.strip() for part in raw.split(":"))
        start, end = _side(left, raw, first=True), _side(right, raw, first=False)
        if end < start:
            raise ReportError(f"period {raw!r}: end {end} is before start {start}")
        return ReportPeriod(PeriodKind.RANGE, start, end, f"{start} to {end}")
    raise ReportError(f"period {raw!r} is not understood; {_HELP}")


def _side(text: str, raw: str, first: bool) -> date:
    """One side of ``START:END``: a date, or a month/quarter/year (its first or last day)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if ":" not in text and (_MONTH.match(text) or _QUARTER.match(text) or _YEAR.match(text)):
        named = parse_period(text)
        edge = named.start if first else named.end
        assert edge is not None  # a month, quarter or year always has both ends
        return edge
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"period {raw!r}: {text!r} is not a date (YYYY-MM-DD); {_HELP}") from None
