"""Exchange trading calendars: sessions, hours, holidays and early closes.

A thin, typed layer over `exchange-calendars`. Session dates are plain dates (or a tz-naive
``DatetimeIndex`` at midnight for vector work, matching how daily bars are stamped); moments
(opens, closes, "is the market open now") are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.core.clock import Clock
from quantdesk.core.errors import QuantdeskError

if TYPE_CHECKING:
    from quantdesk.data.calendar_cache import ScheduleCache

DEFAULT_START = date(1990, 1, 1)
DEFAULT_END = date(2035, 12, 31)


class CalendarError(QuantdeskError):
    """Unknown calendar name, or a date outside the range the calendar was built for."""


@dataclass(frozen=True)
class Schedule:
    """Precomputed arrays of one calendar; shared read-only by every TradingCalendar."""

    sessions: pd.DatetimeIndex  # tz-naive midnight, sorted
    opens: np.ndarray  # datetime64[ns], UTC
    closes: np.ndarray  # datetime64[ns], UTC
    early_closes: pd.DatetimeIndex
    weekmask: str
    timezone: str

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every field as a numpy array (what :meth:`from_arrays` takes back)."""
        return {
            "sessions": self.sessions.to_numpy(),
            "opens": self.opens,
            "closes": self.closes,
            "early_closes": self.early_closes.to_numpy(),
            "weekmask": np.array(self.weekmask),
            "timezone": np.array(self.timezone),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Schedule:
        """The schedule :meth:`to_arrays` gave (its sessions without the library's business-day
        frequency, which nothing reads)."""
        return cls(
            sessions=pd.DatetimeIndex(arrays["sessions"], name="session"),
            opens=arrays["opens"],
            closes=arrays["closes"],
            early_closes=pd.DatetimeIndex(arrays["early_closes"], name="session"),
            weekmask=str(arrays["weekmask"]),
            timezone=str(arrays["timezone"]),
        )


def _schedule(name: str, start: date, end: date, cache: ScheduleCache | None) -> Schedule:
    """The schedule of whole calendar years ``start`` .. ``end``: from this process's memory,
    else from ``cache``, else built (and written to ``cache``)."""
    if cache is None:
        return _built_schedule(name, start, end)
    found = _loaded_schedule(cache, name, start, end)
    if found is None:
        found = _built_schedule(name, start, end)
        cache.store(name, start.year, end.year, found)
        _loaded_schedule.cache_clear()  # the next calendar of these years reads the file
    return found


@lru_cache(maxsize=16)
def _loaded_schedule(cache: ScheduleCache, name: str, start: date, end: date) -> Schedule | None:
    return cache.load(name, start.year, end.year)


@lru_cache(maxsize=16)
def _built_schedule(name: str, start: date, end: date) -> Schedule:
    # Building a calendar takes ~0.1-1 s, so every TradingCalendar with the same bounds shares
    # one cached schedule. exchange-calendars 4.x still uses pandas APIs that pandas 3 flags as
    # deprecated; the warnings are the library's, not ours, so they are silenced here only.
    import exchange_calendars  # on first use: a schedule read from a cache needs none of it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            calendar = exchange_calendars.get_calendar(
                name, start=start.isoformat(), end=end.isoformat()
            )
        except exchange_calendars.errors.InvalidCalendarName as error:
            raise CalendarError(f"unknown exchange calendar {name!r}") from error
        schedule = calendar.schedule
        sessions = pd.DatetimeIndex(schedule.index.astype("datetime64[ns]"), name="session")
        opens = schedule["open"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
        closes = schedule["close"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
        early = pd.DatetimeIndex(calendar.early_closes.astype("datetime64[ns]"), name="session")
        return Schedule(
            sessions=sessions,
            opens=opens,
            closes=closes,
            early_closes=early,
            weekmask=str(calendar.weekmask),
            timezone=str(calendar.tz),
        )


class TradingCalendar:
    """The trading calendar of one exchange (default: New York Stock Exchange, ``XNYS``).

    ``start``/``end`` bound the dates it can answer for; asking outside raises
    :class:`CalendarError` rather than guessing. ``cache`` keeps the schedule on disk for the
    next process (see :mod:`quantdesk.data.calendar_cache`).
    """

    def __init__(
        self,
        name: str = "XNYS",
        start: date = DEFAULT_START,
        end: date = DEFAULT_END,
        *,
        cache: ScheduleCache | None = None,
    ) -> None:
        if start > end:
            raise CalendarError(f"calendar {name}: start {start} is after end {end}")
        self.name = name
        self.start = start
        self.end = end
        # built for whole calendar years, so calendars over nearby windows (a replay resumed
        # from any day of its window) share one cached schedule; answers stay within start..end
        self._schedule = _schedule(name, date(start.year, 1, 1), date(end.year, 12, 31), cache)

    def __repr__(self) -> str:
        return f"TradingCalendar({self.name!r}, start={self.start}, end={self.end})"

    @property
    def timezone(self) -> str:
        """The exchange's local time zone, e.g. ``America/New_York``."""
        return self._schedule.timezone

    # -- sessions -------------------------------------------------------------------------

    def sessions(self, start: date, end: date) -> pd.DatetimeIndex:
        """Session dates from ``start`` to ``end`` inclusive, as tz-naive midnight timestamps."""
        first, last = self._bounds(start, end)
        return self._schedule.sessions[first:last]

    def session_count(self, start: date, end: date) -> int:
        """Number of sessions from ``start`` to ``end`` inclusive."""
        first, last = self._bounds(start, end)
        return max(last - first, 0)

    def is_session(self, day: date) -> bool:
        """Whether the exchange trades on ``day``."""
        return self._position(day) is not None

    def next_session(self, day: date) -> date:
        """The first session strictly after ``day``."""
        index = int(self._schedule.sessions.searchsorted(self._label(day), side="right"))
        return self._session_at(index, day)

    def previous_session(self, day: date) -> date:
        """The last session strictly before ``day``."""
        index = int(self._schedule.sessions.searchsorted(self._label(day), side="left")) - 1
        return self._session_at(index, day)

    def first_session_of_month(self, year: int, month: int) -> date:
        """The first session of a calendar month."""
        month_start = date(year, month, 1)
        sessions = self.sessions(month_start, _month_end(month_start))
        if len(sessions) == 0:
            raise CalendarError(f"calendar {self.name}: no session in {year}-{month:02d}")
        return sessions[0].date()

    def last_session_of_month(self, year: int, month: int) -> date:
        """The last session of a calendar month."""
        month_start = date(year, month, 1)
        sessions = self.sessions(month_start, _month_end(month_start))
        if len(sessions) == 0:
            raise CalendarError(f"calendar {self.name}: no session in {year}-{month:02d}")
        return sessions[-1].date()

    def month_end_sessions(self, start: date, end: date) -> pd.DatetimeIndex:
        """The last session of every month that has a session between ``start`` and ``end``."""
        sessions = self.sessions(start, end)
        if len(sessions) == 0:
            return sessions
        periods = sessions.to_period("M")
        is_last = np.append(periods[1:] != periods[:-1], True)
        return sessions[is_last]

    # -- holidays and hours ---------------------------------------------------------------

    def holidays(self, start: date, end: date) -> list[date]:
        """Weekdays (per the exchange's week mask) from ``start`` to ``end`` with no session."""
        self._bounds(start, end)
        weekdays = pd.bdate_range(start, end, freq="C", weekmask=self._schedule.weekmask)
        closed = weekdays.difference(self.sessions(start, end))
        return [stamp.date() for stamp in closed]

    def early_closes(self, start: date, end: date) -> list[date]:
        """Sessions from ``start`` to ``end`` that close before the regular time."""
        self._bounds(start, end)
        early = self._schedule.early_closes
        inside = (early >= pd.Timestamp(start)) & (early <= pd.Timestamp(end))
        return [stamp.date() for stamp in early[inside]]

    def trading_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """Open and close of the session on ``day`` (aware UTC), or ``None`` if it is closed."""
        position = self._position(day)
        if position is None:
            return None
        return (
            _utc(self._schedule.opens[position]),
            _utc(self._schedule.closes[position]),
        )

    def is_market_open(self, moment: datetime) -> bool:
        """Whether ``moment`` (timezone-aware) falls in a session: open <= moment < close."""
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware moment")
        local_day = pd.Timestamp(moment).tz_convert(self.timezone).date()
        hours = self.trading_hours(local_day)
        if hours is None:
            return False
        opens, closes = hours
        return opens <= moment < closes

    def is_market_open_now(self, clock: Clock) -> bool:
        """Whether the market is open at the clock's current time."""
        return self.is_market_open(clock.now())

    # -- helpers --------------------------------------------------------------------------

    def _label(self, day: date) -> pd.Timestamp:
        day = _as_date(day)
        if not self.start <= day <= self.end:
            raise CalendarError(
                f"calendar {self.name}: {day} is outside its range {self.start}..{self.end}"
            )
        return pd.Timestamp(day)

    def _bounds(self, start: date, end: date) -> tuple[int, int]:
        sessions = self._schedule.sessions
        first = int(sessions.searchsorted(self._label(start), side="left"))
        last = int(sessions.searchsorted(self._label(end), side="right"))
        return first, last

    def _position(self, day: date) -> int | None:
        label = self._label(day)
        sessions = self._schedule.sessions
        index = int(sessions.searchsorted(label))
        if index < len(sessions) and sessions[index] == label:
            return index
        return None

    def _session_at(self, index: int, day: date) -> date:
        sessions = self._schedule.sessions
        if not 0 <= index < len(sessions) or not self.start <= sessions[index].date() <= self.end:
            raise CalendarError(f"calendar {self.name}: no session next to {day} within its range")
        return sessions[index].date()


def _as_date(day: date) -> date:
    """Accept a date, or a datetime that names a date (aware: its exchange-agnostic UTC date)."""
    if isinstance(day, datetime):
        if day.tzinfo is not None:
            return day.astimezone(UTC).date()
        if day.time() != datetime.min.time():
            raise ValueError(f"{day!r} has a time of day; pass a date or an aware moment")
        return day.date()
    return day


def _month_end(month_start: date) -> date:
    return (pd.Timestamp(month_start) + pd.offsets.MonthEnd(0)).date()


def _utc(value: np.datetime64) -> datetime:
    stamp: datetime = pd.Timestamp(value).tz_localize(UTC).to_pydatetime()
    return stamp
