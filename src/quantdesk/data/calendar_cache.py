"""Exchange-calendar schedules kept on disk between processes.

Building a calendar is pandas holiday arithmetic: XNYS over 28 years takes ~0.15 s of CPU, plus
~0.08 s importing ``exchange-calendars``, in every process that needs sessions (``data check``
reads its bars in about ten times that). The schedule is a pure function of the calendar's name,
its years and the library's version, so a schedule written once is read back in milliseconds;
a new library version writes new files.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from quantdesk.data.calendar import Schedule
from quantdesk.data.npz_files import UNREADABLE, read_arrays, write_arrays

KEEP = 16  # schedule files kept; older ones are removed when a new one is written


class ScheduleCache:
    """Schedules as ``.npz`` files in ``directory`` (created on the first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, name: str, first_year: int, last_year: int) -> Schedule | None:
        """The stored schedule, or None when there is none (or it cannot be read)."""
        arrays = read_arrays(self._path(name, first_year, last_year))
        try:
            return None if arrays is None else Schedule.from_arrays(arrays)
        except UNREADABLE:
            return None  # missing, cut short or not a schedule: the caller builds it

    def store(self, name: str, first_year: int, last_year: int, schedule: Schedule) -> None:
        """Write ``schedule`` atomically; a directory that cannot be written is left alone."""
        path = self._path(name, first_year, last_year)
        try:
            write_arrays(self.directory, path.name, schedule.to_arrays(), KEEP)
        except OSError:
            return  # a read-only data directory: the next process builds the schedule again

    def _path(self, name: str, first_year: int, last_year: int) -> Path:
        version = metadata.version("exchange-calendars")
        label = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{name}-{first_year}-{last_year}-{version}")
        return self.directory / f"{label}.npz"
