"""Clocks: the only way anything in quantdesk learns what time it is.

Services take a :class:`Clock`; a backtest drives a :class:`SimulatedClock`, live and paper
trading use :class:`LiveClock`. Nothing reads the wall clock directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class LiveClock:
    """Reads the system wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to; time never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware(start)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        moment = _require_aware(moment)
        if moment < self._now:
            raise ValueError(f"clock cannot go back from {self._now} to {moment}")
        self._now = moment


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: clocks need timezone-aware datetimes")
    return moment.astimezone(UTC)
