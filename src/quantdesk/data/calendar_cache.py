"""Exchange-calendar schedules kept on disk between processes.

Building a calendar is pandas holiday arithmetic: XNYS over 28 years takes ~0.15 s of CPU, plus
~0.08 s importing ``exchange-calendars``, in every process that needs sessions (``data check``
reads its bars in about ten times that). The schedule is a pure function of the calendar's name,
its years and the library's version, so a schedule written once is read back in milliseconds;
a new library version writes new files.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from quantdesk.data.calendar import Schedule

KEEP = 16  # schedule files kept; older ones are removed when a new one is written


class ScheduleCache:
    """Schedules as ``.npz`` files in ``directory`` (created on the first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, name: str, first_year: int, last_year: int) -> Schedule | None:
        """The stored schedule, or None when there is none (or it cannot be read)."""
        try:
            # the file is opened here: np.load leaves a handle open when the zip is broken
            with (
                open(self._path(name, first_year, last_year), "rb") as handle,
                np.load(handle, allow_pickle=False) as stored,
            ):
                return Schedule.from_arrays({key: stored[key] for key in stored.files})
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile):
            return None  # missing, cut short or not a schedule: the caller builds it

    def store(self, name: str, first_year: int, last_year: int, schedule: Schedule) -> None:
        """Write ``schedule`` atomically; a directory that cannot be written is left alone."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                arrays: dict[str, Any] = schedule.to_arrays()
                np.savez(out, **arrays)
            os.replace(temporary, self._path(name, first_year, last_year))
            files = sorted(self.directory.glob("*.npz"), key=lambda p: p.stat().st_mtime)
            for old in files[:-KEEP]:
                old.unlink(missing_ok=True)
        except OSError:
            return  # a read-only data directory: the next process builds the schedule again

    def _path(self, name: str, first_year: int, last_year: int) -> Path:
        version = metadata.version("exchange-calendars")
        label = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{name}-{first_year}-{last_year}-{version}")
        return self.directory / f"{label}.npz"
