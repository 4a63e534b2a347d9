"""Report periods: every spelling the CLI accepts, and one clear error for anything else."""

from __future__ import annotations

from datetime import date

import pytest

from quantdesk.reports import PeriodKind, ReportError, parse_period


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2021-03", PeriodKind.MONTH, date(2021, 3, 1), date(2021, 3, 31)),
        ("2020-02", PeriodKind.MONTH, date(2020, 2, 1), date(2020, 2, 29)),
        ("2021-Q1", PeriodKind.QUARTER, date(2021, 1, 1), date(2021, 3, 31)),
        ("2021-q4", PeriodKind.QUARTER, date(2021, 10, 1), date(2021, 12, 31)),
        ("2021", PeriodKind.YEAR, date(2021, 1, 1), date(2021, 12, 31)),
        ("2021-01-15:2021-06-30", PeriodKind.RANGE, date(2021, 1, 15), date(2021, 6, 30)),
        ("2019:2021", PeriodKind.RANGE, date(2019, 1, 1), date(2021, 12, 31)),
        ("2021-Q2:2021-08", PeriodKind.RANGE, date(2021, 4, 1), date(2021, 8, 31)),
    ],
)
def test_periods_name_their_calendar_dates(
    text: str, kind: PeriodKind, start: date, end: date
) -> None:
    period = parse_period(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)


def test_no_period_or_all_is_the_whole_history_limited_by_the_data() -> None:
    for text in (None, "all", " ALL "):
        period = parse_period(text)
        assert period.kind is PeriodKind.ALL
        clipped = period.clipped(date(2020, 1, 2), date(2020, 12, 31))
        assert clipped.bounds == (date(2020, 1, 2), date(2020, 12, 31))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2021-13", "month 13 is not 01-12"),
        ("2021-Q5", "is not understood"),
        ("March 2021", "is not understood"),
        ("2021-06-30:2021-01-01", "is before start"),
        ("2021-01-01:someday", "'someday' is not a date"),
        ("2021:2022:2023", "is not understood"),
    ],
)
def test_a_bad_period_is_one_error_quoting_it(text: str, message: str) -> None:
    with pytest.raises(ReportError, match=message) as caught:
        parse_period(text)
    assert repr(text) in str(caught.value) or text in str(caught.value)


def test_a_period_outside_the_history_is_refused_naming_the_history() -> None:
    with pytest.raises(ReportError, match=r"period 1980 ends before the history starts \(1990"):
        parse_period("1980").clipped(date(1990, 1, 2), date(2022, 12, 30))
    with pytest.raises(ReportError, match="starts after the history ends"):
        parse_period("2030-Q1").clipped(date(1990, 1, 2), date(2022, 12, 30))
    # partly covered: limited to the data
    assert parse_period("2022").clipped(date(2022, 9, 1), date(2022, 12, 28)).bounds == (
        date(2022, 9, 1),
        date(2022, 12, 28),
    )
