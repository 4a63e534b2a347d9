"""Rows that several files of one import give for the same symbol and bar.

An import of several files (``a.csv b.csv``, a folder, ``ZZQ.csv`` beside ``zzq.csv``) is one set
of rows: a bar given identically by two files is kept once; a bar the files disagree on is
refused, naming both files' rows and the fields that differ — the same rule as for duplicate
rows inside one file, applied to the union.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from quantdesk.core.errors import Problem
from quantdesk.data.ports import BAR_COLUMNS
from quantdesk.data.sources.csv_files import read_table, symbol_from_filename
from quantdesk.data.validation import ValidationResult, validate_bars

VALUES = BAR_COLUMNS[2:]


@dataclass(frozen=True)
class Overlaps:
    """The results with every overlapping bar kept at most once, and what was found."""

    results: list[ValidationResult]
    problems: list[Problem]
    collapsed: int
    conflicting: int


def merge_overlaps(
    results: list[ValidationResult], paths: list[Path], *, per_symbol: bool, daily: bool
) -> Overlaps:
    """Collapse bars repeated identically across files; refuse those the files disagree on.

    ``results[k]`` is the validation of ``paths[k]``. A conflicting bar is dropped from every
    file (the caller refuses the import unless bad rows may be skipped).
    """
    if len(results) < 2:
        return Overlaps(results, [], 0, 0)
    keyed = pd.concat(
        [
            pd.DataFrame(
                {
                    "file": k,
                    "position": np.arange(len(r.frame)),
                    "symbol": r.frame["symbol"].astype(str).to_numpy(),
                    "ts": r.frame["ts"].to_numpy(),
                    **{c: r.frame[c].to_numpy(dtype=np.float64) for c in VALUES},
                }
            )
            for k, r in enumerate(results)
        ],
        ignore_index=True,
    )
    repeated = keyed[keyed.duplicated(["symbol", "ts"], keep=False)]
    if repeated.empty:
        return Overlaps(results, [], 0, 0)
    drop: list[set[int]] = [set() for _ in results]
    problems: list[Problem] = []
    collapsed = conflicting = 0
    for (symbol, ts), group in repeated.groupby(["symbol", "ts"], sort=True):
        members = [{str(k): v for k, v in r.items()} for r in group.to_dict("records")]
        first, day = members[0], pd.Timestamp(ts)  # type: ignore[arg-type]
        differing = [
            c
            for c in VALUES
            if group[c].fillna(-np.inf).nunique() > 1  # NaN (missing) is a value here
        ]
        if not differing:
            for later in members[1:]:
                drop[int(later["file"])].add(int(later["position"]))
            collapsed += len(members) - 1
            continue
        for member in members:
            drop[int(member["file"])].add(int(member["position"]))
        conflicting += len(members)
        there = _line(paths[int(first["file"])], str(symbol), day, per_symbol, daily)
        for later in members[1:]:
            fields = ", ".join(f"{c} {first[c]} vs {later[c]}" for c in differing)
            path = paths[int(later["file"])]
            problems.append(
                Problem(
                    str(path),
                    _line(path, str(symbol), day, per_symbol, daily),
                    str(symbol),
                    differing[0],
                    f"bar of {day:%Y-%m-%d} differs from {paths[int(first['file'])]}"
                    f" row {there} ({fields})",
                )
            )
    kept = [_without(r, sorted(d)) if d else r for r, d in zip(results, drop, strict=True)]
    return Overlaps(kept, problems, collapsed, conflicting)


def _without(result: ValidationResult, positions: list[int]) -> ValidationResult:
    frame = result.frame.drop(index=result.frame.index[positions]).reset_index(drop=True)
    return replace(result, frame=frame)


def _line(path: Path, symbol: str, ts: pd.Timestamp, per_symbol: bool, daily: bool) -> int | None:
    """The file line holding ``symbol``'s bar at ``ts`` (only read when files conflict).

    Each candidate row is validated under its own line number as its symbol, so dates are read
    by exactly the import's rules.
    """
    read = read_table(path, symbol_from_filename(path) if per_symbol else None)
    table = read.table
    lines = np.arange(read.first_row, read.first_row + len(table))
    same = table["symbol"].astype(str).str.strip().str.upper() == symbol
    candidates = table[same.to_numpy()].assign(symbol=[f"L{n}" for n in lines[same.to_numpy()]])
    if candidates.empty:
        return None
    found = validate_bars(candidates, str(path), read.first_row, daily=daily).frame
    hits = found.loc[found["ts"] == ts, "symbol"].astype(str)
    return int(hits.iloc[0][1:]) if len(hits) else None
