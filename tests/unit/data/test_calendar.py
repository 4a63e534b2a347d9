"""TradingCalendar against the published 2024 NYSE holiday and early-close schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from quantdesk.core.clock import SimulatedClock
from quantdesk.data import calendar as calendar_module
from quantdesk.data.calendar import CalendarError, TradingCalendar
from quantdesk.data.calendar_cache import ScheduleCache


@pytest.fixture(scope="module")
def nyse() -> TradingCalendar:
    return TradingCalendar("XNYS")


def test_2024_holidays_are_the_ten_published_nyse_closures(nyse: TradingCalendar) -> None:
    assert nyse.holidays(date(2024, 1, 1), date(2024, 12, 31)) == [
        date(2024, 1, 1),
        date(2024, 1, 15),  # Martin Luther King Jr. Day
        date(2024, 2, 19),  # Presidents' Day
        date(2024, 3, 29),  # Good Friday
        date(2024, 5, 27),
        date(2024, 6, 19),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 11, 28),
        date(2024, 12, 25),
    ]
    # 262 weekdays minus 10 holidays.
    assert nyse.session_count(date(2024, 1, 1), date(2024, 12, 31)) == 252
    assert len(nyse.sessions(date(2024, 1, 1), date(2024, 12, 31))) == 252


def test_independence_day_is_closed(nyse: TradingCalendar) -> None:
    assert not nyse.is_session(date(2024, 7, 4))
    assert nyse.trading_hours(date(2024, 7, 4)) is None
    assert not nyse.is_market_open(datetime(2024, 7, 4, 15, 0, tzinfo=UTC))


def test_day_after_thanksgiving_closes_at_1pm_eastern(nyse: TradingCalendar) -> None:
    hours = nyse.trading_hours(date(2024, 11, 29))
    assert hours == (
        datetime(2024, 11, 29, 14, 30, tzinfo=UTC),  # 9:30 EST
        datetime(2024, 11, 29, 18, 0, tzinfo=UTC),  # 13:00 EST
    )
    assert nyse.is_market_open(datetime(2024, 11, 29, 17, 59, tzinfo=UTC))
    assert not nyse.is_market_open(datetime(2024, 11, 29, 18, 0, tzinfo=UTC))


def test_early_closes_in_2024(nyse: TradingCalendar) -> None:
    assert nyse.early_closes(date(2024, 1, 1), date(2024, 12, 31)) == [
        date(2024, 7, 3),
        date(2024, 11, 29),
        date(2024, 12, 24),
    ]


def test_open_moves_one_hour_in_utc_when_new_york_switches_to_daylight_time(
    nyse: TradingCalendar,
) -> None:
    # DST started on Sunday 2024-03-10.
    friday = nyse.trading_hours(date(2024, 3, 8))
    monday = nyse.trading_hours(date(2024, 3, 11))
    assert friday is not None
    assert monday is not None
    assert friday[0] == datetime(2024, 3, 8, 14, 30, tzinfo=UTC)
    assert monday[0] == datetime(2024, 3, 11, 13, 30, tzinfo=UTC)
    assert monday[1] == datetime(2024, 3, 11, 20, 0, tzinfo=UTC)


def test_market_open_is_inclusive_at_the_open_and_exclusive_at_the_close(
    nyse: TradingCalendar,
) -> None:
    open_moment = datetime(2024, 7, 2, 13, 30, tzinfo=UTC)
    assert nyse.is_market_open(open_moment)
    assert not nyse.is_market_open(open_moment - timedelta(seconds=1))
    assert not nyse.is_market_open(datetime(2024, 7, 2, 20, 0, tzinfo=UTC))
    new_york = timezone(timedelta(hours=-4))
    assert nyse.is_market_open(datetime(2024, 7, 2, 15, 59, tzinfo=new_york))
    assert not nyse.is_market_open(datetime(2024, 7, 6, 12, 0, tzinfo=UTC))  # Saturday


def test_market_open_rejects_naive_datetimes(nyse: TradingCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        nyse.is_market_open(datetime(2024, 7, 2, 15, 0))


def test_is_market_open_now_reads_the_given_clock(nyse: TradingCalendar) -> None:
    clock = SimulatedClock(datetime(2024, 7, 3, 16, 59, tzinfo=UTC))
    assert nyse.is_market_open_now(clock)
    clock.advance_to(datetime(2024, 7, 3, 17, 0, tzinfo=UTC))  # 13:00 EDT early close
    assert not nyse.is_market_open_now(clock)


def test_neighbouring_and_month_sessions(nyse: TradingCalendar) -> None:
    assert nyse.next_session(date(2024, 7, 3)) == date(2024, 7, 5)
    assert nyse.previous_session(date(2024, 7, 5)) == date(2024, 7, 3)
    assert nyse.first_session_of_month(2024, 1) == date(2024, 1, 2)
    assert nyse.last_session_of_month(2024, 3) == date(2024, 3, 28)  # 29th is Good Friday
    month_ends = nyse.month_end_sessions(date(2024, 1, 1), date(2024, 3, 31))
    assert [stamp.date() for stamp in month_ends] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 28),
    ]


def test_sessions_between_a_holiday_week(nyse: TradingCalendar) -> None:
    sessions = nyse.sessions(date(2024, 7, 1), date(2024, 7, 8))
    assert [stamp.date() for stamp in sessions] == [
        date(2024, 7, 1),
        date(2024, 7, 2),
        date(2024, 7, 3),
        date(2024, 7, 5),
        date(2024, 7, 8),
    ]
    assert sessions.tz is None


def test_dates_outside_the_built_range_raise(nyse: TradingCalendar) -> None:
    with pytest.raises(CalendarError, match="outside its range"):
        nyse.is_session(date(2040, 1, 2))
    narrow = TradingCalendar("XNYS", start=date(2024, 1, 1), end=date(2024, 12, 31))
    with pytest.raises(CalendarError, match="2023-12-29"):
        narrow.sessions(date(2023, 12, 29), date(2024, 1, 5))


def test_unknown_calendar_and_inverted_range_raise() -> None:
    with pytest.raises(CalendarError, match="XNOPE"):
        TradingCalendar("XNOPE")
    with pytest.raises(CalendarError, match="after end"):
        TradingCalendar("XNYS", start=date(2024, 2, 1), end=date(2024, 1, 1))


def test_a_datetime_with_a_time_of_day_is_not_taken_for_a_date(nyse: TradingCalendar) -> None:
    assert nyse.is_session(datetime(2024, 7, 5))  # naive midnight names a date
    with pytest.raises(ValueError, match="time of day"):
        nyse.is_session(datetime(2024, 7, 5, 10, 30))


def test_a_schedule_read_back_from_the_cache_answers_like_a_built_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = TradingCalendar("XNYS", date(2019, 3, 1), date(2021, 6, 30))
    cache = ScheduleCache(tmp_path / "calendars")
    TradingCalendar("XNYS", date(2019, 3, 1), date(2021, 6, 30), cache=cache)  # stores it
    assert len(list((tmp_path / "calendars").glob("*.npz"))) == 1
    calendar_module._loaded_schedule.cache_clear()  # as in the next process

    def no_build(*args: object) -> None:
        raise AssertionError("the schedule was built again")

    monkeypatch.setattr(calendar_module, "_built_schedule", no_build)
    read = TradingCalendar("XNYS", date(2019, 3, 1), date(2021, 6, 30), cache=cache)
    start, end = date(2019, 3, 1), date(2021, 6, 30)
    assert read.sessions(start, end).equals(built.sessions(start, end))
    assert read.holidays(start, end) == built.holidays(start, end)
    assert read.early_closes(start, end) == built.early_closes(start, end)
    assert read.trading_hours(date(2020, 11, 27)) == built.trading_hours(date(2020, 11, 27))
    assert read.timezone == built.timezone == "America/New_York"


def test_an_unreadable_cached_schedule_is_built_again(tmp_path: Path) -> None:
    cache = ScheduleCache(tmp_path)
    TradingCalendar("XNYS", date(2020, 1, 1), date(2020, 12, 31), cache=cache)
    (stored,) = tmp_path.glob("*.npz")
    stored.write_bytes(stored.read_bytes()[:1000])  # cut short, e.g. a full disk
    calendar_module._loaded_schedule.cache_clear()
    again = TradingCalendar("XNYS", date(2020, 1, 1), date(2020, 12, 31), cache=cache)
    assert again.session_count(date(2020, 1, 1), date(2020, 12, 31)) == 253
