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
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import typer

from quantdesk.core.errors import DataValidationError, QuantdeskError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


class _Deferred:
    """A Rich console made on its first use. Importing Rich's console costs about 0.03 s, which a
    ``--json`` command that prints no table and no error never needs."""

    def __init__(self, make: Callable[[], Console]) -> None:
        self._make = make
        self._console: Console | None = None

    @property
    def made(self) -> bool:
        return self._console is not None

    def get(self) -> Console:
        if self._console is None:
            self._console = self._make()
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


def _stdout_console() -> Console:
    from rich.console import Console

    # Piped output (CI logs, `| less`) gets a width that fits the summary tables instead of 80.
    return Console() if sys.stdout.isatty() else Console(width=120)


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and logs


console = cast("Console", _Deferred(_stdout_console))
errors = cast("Console", _Deferred(_stderr_console))

P = ParamSpec("P")
R = TypeVar("R")


def escape(value: object) -> str:
    """User text (file contents, arguments, messages quoting them) made safe for Rich markup:
    ``[/x]`` in a cell prints as written instead of failing to render."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(value))


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
    """The one error policy of every command: a :class:`QuantdeskError` (or an unusable path)
    becomes its message and exit 1; anything else becomes one line pointing to the log file
    holding the traceback. Never a bare traceback, never a Rich markup error."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except BaseException as error:
            if isinstance(error, (SystemExit, *click_exceptions())):
                raise
            report_error(error)
            raise typer.Exit(1) from None

    return wrapper


def click_exceptions() -> tuple[type[BaseException], ...]:
    """Typer's (and Click's) own exits and usage errors: Typer prints those itself."""
    import click
    from typer.exceptions import TyperException

    return (
        typer.Exit,
        typer.Abort,
        TyperException,
        click.exceptions.Exit,
        click.exceptions.ClickException,
        click.exceptions.Abort,
    )


def report_error(error: BaseException) -> None:
    """Print ``error`` for a person on stderr (see :func:`handle_errors`)."""
    if isinstance(error, KeyboardInterrupt):
        errors.print("[bold red]error:[/] interrupted; nothing more was written", highlight=False)
        return
    if isinstance(error, DataValidationError):
        errors.print(
            f"[bold red]error:[/] {error.total} problem(s) in the input; nothing written",
            highlight=False,
        )
        for problem in error.problems[:20]:
            errors.print(f"  • {_one_line(problem)}", highlight=False, markup=False)
        if error.total > 20:
            errors.print(f"  … and {error.total - 20} more", highlight=False, markup=False)
        return
    if isinstance(error, QuantdeskError):
        _error_line("error:", _one_line(error))
        return
    if isinstance(error, MemoryError):
        _error_line("error:", "out of memory; try a smaller request (fewer symbols, dates, trials)")
        return
    if isinstance(error, OSError):  # a path that cannot be read or written, a full disk
        _error_line("error:", _os_error(error))
        return
    if isinstance(error, Exception) and _is_database_error(error):
        # a wrong QUANTDESK_DATABASE_URL (host, credentials, driver) is a set-up problem,
        # not a crash: one line, with the password masked
        _error_line("database error:", _database_hint(error))
        return
    log = _crash_log(error)
    where = f"; details in {log}" if log else ""
    _error_line("unexpected error:", f"{type(error).__name__}: {_one_line(error)[:300]}{where}")


def _error_line(label: str, message: str) -> None:
    errors.print(f"[bold red]{label}[/] {escape(_mask(message))}", highlight=False)


def _one_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__


def _os_error(error: OSError) -> str:
    import errno

    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device ({error.filename or 'database'}); nothing was written"
    return _one_line(error)


def _mask(message: str) -> str:
    """Mask the database password and API keys in any form before a message is shown."""
    from quantdesk.config import load_settings
    from quantdesk.core.secrets import mask_secrets
    from quantdesk.logs import settings_secrets

    try:
        settings = load_settings()
    except QuantdeskError:  # a broken environment must not hide the first error
        return message
    return mask_secrets(message, settings_secrets(settings))


def _crash_log(error: BaseException) -> Path | None:
    from quantdesk.logs import write_crash_log

    try:
        return write_crash_log(error)
    except OSError:
        return None


def _is_database_error(error: Exception) -> bool:
    # checked lazily: importing SQLAlchemy up front would slow every `--help`
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(error, SQLAlchemyError | ModuleNotFoundError)


def _database_hint(error: Exception) -> str:
    from quantdesk.config import load_settings, redact_url

    try:
        url = redact_url(load_settings().resolved_database_url)
    except Exception:
        url = "QUANTDESK_DATABASE_URL"
    first_line = _one_line(getattr(error, "orig", None) or error)
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
    try:  # one pass when every number is finite (most output, e.g. 0.26 MB of scores)
        text = json.dumps(payload, default=_default, indent=2, allow_nan=False)
    except ValueError:  # a NaN or infinity somewhere: through plain values, which null them
        encoded = json.loads(json.dumps(payload, default=_default))
        text = json.dumps(_finite(encoded), indent=2, allow_nan=False)
    sys.stdout.write(text + "\n")


def table(
    title: str, columns: list[str], rows: list[list[Any]], *, right: set[str] | None = None
) -> Table:
    from rich.table import Table

    right = right or set()
    out = Table(title=escape(title), title_justify="left")
    for column in columns:
        out.add_column(escape(column), justify="right" if column in right else "left")
    for row in rows:
        out.add_row(*("" if v is None else escape(v) for v in row))
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


def export_folder(value: str | None, *, force: bool, option: str = "--out") -> Path | None:
    """The folder an export may write into: an empty path is refused (it would scatter files
    into the current directory), and so is a folder that already has files unless ``force``."""
    if value is None:
        return None
    if not value.strip():
        raise typer.BadParameter(
            "give a folder to export into (an empty path is refused)", param_hint=option
        )
    folder = Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        raise typer.BadParameter(f"{value!r} exists and is not a folder", param_hint=option)
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise typer.BadParameter(
            f"{value!r} already has files; choose an empty or new folder, or add --force "
            "to overwrite",
            param_hint=option,
        )
    return folder


def _draws_live() -> bool:
    """Whether Rich would draw a live display on stderr. Off a terminal it draws nothing, so the
    display's import and refresh thread (~0.015 s of each command) are skipped."""
    import os

    if isinstance(errors, _Deferred) and not errors.made:
        # what Rich would decide, without building its console: on a pipe only these variables
        # make it draw
        forced = any(os.environ.get(v) for v in ("FORCE_COLOR", "TTY_COMPATIBLE"))
        if not sys.stderr.isatty() and "ipykernel" not in sys.modules and not forced:
            return False
    return errors.is_terminal or errors.is_jupyter


@contextmanager
def spinner(text: str, enabled: bool = True) -> Iterator[None]:
    """A transient spinner with the elapsed time on stderr (stdout and ``--json`` stay clean);
    shown only on a terminal. ``text`` may carry user input: it is shown literally."""
    if not enabled or not _draws_live():
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=rich_console(errors),
        transient=True,
    )
    with progress:
        progress.add_task(escape(text))
        yield


@contextmanager
def progress_bar(text: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """:func:`spinner` with a bar and ``done/total`` counts: yields ``update(done, total)`` for
    the long work to call. Transient, on stderr, shown only on a terminal; ``text`` literal."""
    if not enabled or not _draws_live():
        yield lambda _done, _total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=rich_console(errors),
        transient=True,
    )
    with progress:
        task = progress.add_task(escape(text), total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def rich_console(console: Console) -> Console:
    """The console itself behind a deferred one (Rich's live displays check its type)."""
    return console.get() if isinstance(console, _Deferred) else console
