"""Export of a stored backtest run: its tables as CSV or Parquet with a ``meta.json``, and/or
one ``run.json`` document."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from quantdesk.core.errors import NotFoundError
from quantdesk.services.backtest_records import RUN_FRAMES, StoredRun, json_safe

EXPORT_FORMATS = ("csv", "parquet", "json")


def check_formats(formats: Iterable[str]) -> list[str]:
    """``formats`` as a list; an unknown format is a :class:`NotFoundError` naming it."""
    wanted = list(formats)
    unknown = [f for f in wanted if f not in EXPORT_FORMATS]
    if unknown:
        raise NotFoundError(f"unknown export format(s) {unknown}; use {', '.join(EXPORT_FORMATS)}")
    return wanted


def export_run(run: StoredRun, directory: Path, formats: list[str]) -> list[Path]:
    """Write ``run`` into ``directory`` in ``formats`` (see :meth:`BacktestService.export`)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    frames = run.frames()
    for kind in ("csv", "parquet"):
        if kind not in formats:
            continue
        for name in RUN_FRAMES:
            path = directory / f"{name}.{kind}"
            frame = frames[name]
            if kind == "csv":
                frame.to_csv(path, index=name == "series")
            else:
                frame.to_parquet(path, index=name == "series")
            written.append(path)
    if "csv" in formats or "parquet" in formats:
        meta = directory / "meta.json"
        meta.write_text(json.dumps(json_safe(run.meta()), indent=2))
        written.append(meta)
    if "json" in formats:
        document = json_safe(run.meta())
        for name in RUN_FRAMES:
            frame = frames[name].reset_index() if name == "series" else frames[name]
            document[name] = json.loads(frame.to_json(orient="records", date_format="iso"))
        path = directory / "run.json"
        path.write_text(json.dumps(document))
        written.append(path)
    return written
