"""A stored backtest run's raw tables as files: one CSV or Parquet per table with a
``meta.json``, and/or one ``run.json`` document (meta plus every table as a list of records).

This is the one export shape of a run (``quantdesk backtests export``, the demo's result
folders); the formatted documents of a run are :func:`quantdesk.reports.render`'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from quantdesk.reports.period import ReportError

if TYPE_CHECKING:
    from quantdesk.backtest.result import BacktestResult

EXPORT_FORMATS = ("csv", "parquet", "json")
INDEXED = "series"  # the one table indexed by date; the others carry their own columns


def check_formats(formats: Iterable[str]) -> list[str]:
    """``formats`` as a list; an unknown format is a :class:`ReportError` naming it."""
    wanted = list(formats)
    unknown = [f for f in wanted if f not in EXPORT_FORMATS]
    if unknown:
        raise ReportError(f"unknown export format(s) {unknown}; use {', '.join(EXPORT_FORMATS)}")
    return wanted


def run_document(meta: Mapping[str, Any], frames: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """``meta`` (JSON-ready) with each table as a list of records (dates in ISO format)."""
    document = dict(meta)
    for name, frame in frames.items():
        table = frame.reset_index() if name == INDEXED else frame
        document[name] = json.loads(table.to_json(orient="records", date_format="iso"))
    return document


def write_run_files(
    meta: Mapping[str, Any],
    frames: Mapping[str, pd.DataFrame],
    directory: Path,
    formats: list[str],
) -> list[Path]:
    """Write the tables into ``directory`` in ``formats``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind in ("csv", "parquet"):
        if kind not in formats:
            continue
        for name, frame in frames.items():
            path = directory / f"{name}.{kind}"
            if kind == "csv":
                frame.to_csv(path, index=name == INDEXED)
            else:
                frame.to_parquet(path, index=name == INDEXED)
            written.append(path)
    if "csv" in formats or "parquet" in formats:
        path = directory / "meta.json"
        path.write_text(json.dumps(meta, indent=2))
        written.append(path)
    if "json" in formats:
        path = directory / "run.json"
        path.write_text(json.dumps(run_document(meta, frames)))
        written.append(path)
    return written


def export_result(
    result: BacktestResult, directory: str | Path, formats: Iterable[str] = ("csv",)
) -> list[Path]:
    """A run held in memory (not stored) written like a stored one: the same files."""
    return write_run_files(
        result.meta(), result.to_frames(), Path(directory), check_formats(formats)
    )


def result_document(result: BacktestResult) -> dict[str, Any]:
    """A run held in memory as the one JSON document (``run.json``'s shape)."""
    return run_document(result.meta(), result.to_frames())
