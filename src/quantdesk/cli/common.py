"""Helpers every command group shares: building services, JSON output, error handling."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from quantdesk.core.errors import DataValidationError, QuantdeskError

# Piped output (CI logs, `| less`) gets a width that fits the summary tables instead of 80.
console = Console() if sys.stdout.isatty() else Console(width=120)
errors = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and logs

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def open_services() -> Iterator[Any]:
    """Services wired from the environment (``QUANTDESK_*``); closed on exit."""
    from quantdesk.services import build_services

    services = build_services()
    try:
        yield services
    finally:
        services.close()


def handle_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Turn quantdesk errors into a clear message and exit code 1 (no traceback)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except DataValidationError as error:
            errors.print(
                f"[bold red]error:[/] {error.total} problem(s) in the input; nothing written"
            )
            for problem in error.problems[:20]:
                errors.print(f"  • {problem}", highlight=False, markup=False)
            if error.total > 20:
                errors.print(f"  … and {error.total - 20} more")
            raise typer.Exit(1) from None
        except QuantdeskError as error:
            errors.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(1) from None
        except OSError as error:  # a path that cannot be read or written
            errors.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(1) from None
        except Exception as error:
            # a wrong QUANTDESK_DATABASE_URL (host, credentials, driver) is a set-up problem,
            # not a crash: one line, with the password masked
            if not _is_database_error(error):
                raise
            errors.print(f"[bold red]database error:[/] {_database_hint(error)}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def _is_database_error(error: Exception) -> bool:
    # checked lazily: importing SQLAlchemy up front would slow every `--help`
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(error, SQLAlchemyError | ModuleNotFoundError)


def _database_hint(error: Exception) -> str:
    from quantdesk.config import Settings, redact_url

    try:
        url = redact_url(Settings().resolved_database_url)
    except Exception:
        url = "QUANTDESK_DATABASE_URL"
    first_line = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"{first_line} (database {url})"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _finite(value: Any) -> Any:
    """NaN and infinities become null: JSON has no spelling for them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def print_json(payload: Any) -> None:
    """Strict JSON on stdout (NaN → null), for scripts reading ``--json`` output."""
    encoded = json.loads(json.dumps(payload, default=_default))
    sys.stdout.write(json.dumps(_finite(encoded), indent=2, allow_nan=False) + "\n")


def table(
    title: str, columns: list[str], rows: list[list[Any]], *, right: set[str] | None = None
) -> Table:
    right = right or set()
    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column, justify="right" if column in right else "left")
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    return out


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


@contextmanager
def spinner(text: str) -> Iterator[None]:
    """A transient spinner with the elapsed time on stderr (stdout and ``--json`` stay clean);
    shown only on a terminal."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    with progress:
        progress.add_task(text)
        yield
