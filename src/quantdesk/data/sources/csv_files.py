"""File import: long CSV/Parquet (``date,symbol,open,high,low,close,volume[,adj_close]``) and
one file per symbol (the symbol is the file name, e.g. ``AAPL.csv``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from quantdesk.core.errors import DataValidationError, Problem
from quantdesk.data.validation import ValidationResult, normalise_columns, validate_bars

SUFFIXES = (".csv", ".csv.gz", ".txt", ".parquet", ".pq")


@dataclass(frozen=True)
class ReadFile:
    """A file's raw table with the line number of its first data row."""

    path: Path
    table: pd.DataFrame
    first_row: int


def read_table(path: Path, symbol: str | None = None) -> ReadFile:
    """Read ``path`` without interpreting values (CSV cells stay strings for validation).

    ``symbol`` is set for one-file-per-symbol imports and fills a missing ``symbol`` column.
    """
    if not path.exists():
        raise DataValidationError([Problem(str(path), None, None, None, "file not found")])
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        table = pd.read_parquet(path)
        first_row = 1
    else:
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            table = pd.DataFrame()
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataValidationError(
                [Problem(str(path), None, None, None, f"not a readable CSV file: {exc}")]
            ) from exc
        first_row = 2
    table = normalise_columns(table)
    if symbol is not None and "symbol" not in table and len(table.columns):
        table.insert(0, "symbol", symbol)
    return ReadFile(path, table, first_row)


def symbol_from_filename(path: Path) -> str:
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)].upper()
    return path.stem.upper()


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named directly, plus the data files inside named folders (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.name.lower().endswith(SUFFIXES))
        else:
            files.append(path)
    return files


def read_and_validate(
    paths: list[Path], per_symbol: bool = False, *, daily: bool = True
) -> list[ValidationResult]:
    """Read and validate each file (``daily``: bars are sessions); one result per file."""
    results = []
    for path in expand_paths(paths):
        read = read_table(path, symbol_from_filename(path) if per_symbol else None)
        results.append(validate_bars(read.table, str(path), read.first_row, daily=daily))
    return results
