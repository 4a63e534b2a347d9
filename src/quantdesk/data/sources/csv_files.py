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
    if path.is_dir():
        raise DataValidationError(
            [Problem(str(path), None, None, None, "is a folder with no CSV or Parquet files")]
        )
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        table = _read_parquet(path)
        first_row = 1
    else:
        table = _read_csv(path)
        first_row = 2
    table = normalise_columns(table, str(path))
    if symbol is not None and "symbol" not in table and len(table.columns):
        table.insert(0, "symbol", symbol)
    return ReadFile(path, table, first_row)


def _unreadable(path: Path, kind: str, error: BaseException) -> DataValidationError:
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DataValidationError(
        [Problem(str(path), None, None, None, f"not a readable {kind} file: {detail[:200]}")]
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError, TypeError, OverflowError) as error:
        if isinstance(error, OSError) and error.errno is not None:
            raise  # a real I/O failure (permissions, disk), reported as such
        raise _unreadable(path, "Parquet", error) from error


def _read_csv(path: Path) -> pd.DataFrame:
    import zlib
    from zipfile import BadZipFile

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (
        pd.errors.ParserError,
        UnicodeDecodeError,
        EOFError,  # a truncated .gz
        zlib.error,
        BadZipFile,
        ValueError,  # a zip with several members
    ) as error:
        raise _unreadable(path, "CSV", error) from error
    except OSError as error:
        if error.errno is not None:
            raise
        raise _unreadable(path, "CSV", error) from error  # gzip's "Not a gzipped file"


def read_instruments_table(path: Path) -> pd.DataFrame:
    """An instruments CSV (``symbol`` plus any metadata columns) as strings; unreadable files
    and symbols the rulebook refuses are one :class:`DataValidationError` naming the rows."""
    from quantdesk.data.rules import symbol_problem

    if not path.exists():
        raise DataValidationError([Problem(str(path), None, None, None, "file not found")])
    table = _read_csv(path)
    table.columns = pd.Index([str(c).strip().lower() for c in table.columns])
    if "symbol" not in table:
        raise DataValidationError(
            [Problem(str(path), None, None, "symbol", "required column missing")]
        )
    problems = []
    for line, raw in enumerate(table["symbol"], start=2):
        reason = symbol_problem(str(raw).strip().upper())
        if reason:
            problems.append(Problem(str(path), line, None, "symbol", reason))
    if problems:
        raise DataValidationError(problems[:1000], len(problems))
    return table


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
            found = sorted(p for p in path.iterdir() if p.name.lower().endswith(SUFFIXES))
            if not found:
                raise DataValidationError(
                    [
                        Problem(
                            str(path),
                            None,
                            None,
                            None,
                            f"the folder has no data files ({', '.join(SUFFIXES)})",
                        )
                    ]
                )
            files += found
        else:
            files.append(path)
    if not files:
        raise DataValidationError([Problem("import", None, None, None, "no files to import")])
    return files


def read_and_validate(
    paths: list[Path], per_symbol: bool = False, *, daily: bool = True
) -> list[ValidationResult]:
    """Read and validate each file (``daily``: bars are sessions); one result per file.

    Files that cannot be read at all are reported together, naming each."""
    results = []
    unreadable: list[Problem] = []
    for path in expand_paths(paths):
        try:
            read = read_table(path, symbol_from_filename(path) if per_symbol else None)
        except DataValidationError as error:
            unreadable += error.problems
            continue
        results.append(validate_bars(read.table, str(path), read.first_row, daily=daily))
    if unreadable:
        raise DataValidationError(unreadable)
    return results
