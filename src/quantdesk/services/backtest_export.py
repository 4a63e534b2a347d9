"""Export of a stored backtest run: its tables as CSV or Parquet with a ``meta.json``, and/or
one ``run.json`` document — the reports package's one run-export shape
(:mod:`quantdesk.reports.run_export`) fed with the stored run."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from quantdesk.core.errors import NotFoundError
from quantdesk.reports.run_export import EXPORT_FORMATS, write_run_files
from quantdesk.reports.run_export import check_formats as _check_formats
from quantdesk.services.backtest_records import RUN_FRAMES, StoredRun, json_safe

__all__ = ["EXPORT_FORMATS", "check_formats", "export_run"]


def check_formats(formats: Iterable[str]) -> list[str]:
    """``formats`` as a list; an unknown format is a :class:`NotFoundError` naming it."""
    try:
        return _check_formats(formats)
    except ValueError as error:
        # callers (and their tests) expect "not found" for an unknown format
        raise NotFoundError(str(error)) from None


def export_run(run: StoredRun, directory: Path, formats: list[str]) -> list[Path]:
    """Write ``run`` into ``directory`` in ``formats`` (see :meth:`BacktestService.export`)."""
    frames = run.frames()
    return write_run_files(
        json_safe(run.meta()), {name: frames[name] for name in RUN_FRAMES}, directory, formats
    )
