"""The ``quantdesk`` command. Sub-commands import their dependencies lazily so start-up is fast."""

from __future__ import annotations

import atexit
import copy
import os
import sys
import threading
from collections.abc import Sequence

import typer
import typer.main

from quantdesk.cli import (
    backtest,
    data,
    db,
    demo,
    report,
    research,
    serve,
    strategies,
    trading,
    users,
)
from quantdesk.cli.common import handle_errors, report_error

USAGE_ERROR = 2  # Click's exit status for a command line it cannot parse

app = typer.Typer(
    name="quantdesk",
    help="Systematic portfolio management: data, research, backtests, trading, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from quantdesk import __version__

        typer.echo(f"quantdesk {__version__}")
        raise typer.Exit()


@app.callback()
@handle_errors
def _configure(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Systematic portfolio management: data, research, backtests, trading, reports."""
    from quantdesk.config import load_settings
    from quantdesk.logs import configure_logging

    configure_logging(load_settings())  # inside the handler: a bad QUANTDESK_* is one line


app.add_typer(data.app, name="data")
app.add_typer(db.app, name="db")
app.add_typer(strategies.app, name="strategies")
app.command("demo")(demo.demo)
research.register(app)
backtest.register(app)
trading.register(app)
users.register(app)
serve.register(app)
report.register(app)


def app_for(args: Sequence[str]) -> typer.Typer:
    """``app`` with only the top-level command or group that ``args`` name: Click then builds
    that command's parameters alone, not every command's (reading all 118 signatures was
    ≈ 0.06 s of CPU at each start, issue 11). The whole app when they do not start with one of
    its commands (``--help``, ``-h backtest``, a misspelt command to suggest for) or the shell
    asks for completions."""
    if "_QUANTDESK_COMPLETE" in os.environ or not args or args[0].startswith("-"):
        return app
    name = args[0]
    commands = [
        info
        for info in app.registered_commands
        if (info.name or typer.main.get_command_name(getattr(info.callback, "__name__", "")))
        == name
    ]
    groups = [info for info in app.registered_groups if info.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)  # shares the callback and settings; the lists are its own
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def main() -> None:
    """The console script: every failure is one line on stderr and exit 1, never a traceback
    (the last line of defence behind each command's own handler). Click's usage errors (a value
    of the wrong type, outside an option's range) exit 1 too, like every other refusal."""
    # NumPy asks the kernel for transparent huge pages on its large arrays; where the kernel
    # then compacts memory on the fault (THP defrag "madvise", Debian's default) that stalls a
    # short-lived command for 0.1-0.3 s of system time at random. A command touches its arrays
    # a few times, so huge pages buy it little: off unless the user set it (before NumPy loads).
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    try:
        app_for(sys.argv[1:])()
    except SystemExit as exit_:
        if exit_.code == USAGE_ERROR:
            raise SystemExit(1) from None
        raise
    except BaseException as error:
        report_error(error)
        raise SystemExit(1) from None


def console() -> None:
    """The ``quantdesk`` script (and ``python -m quantdesk``): :func:`main`, then out of the
    process without taking the interpreter apart.

    Python's own exit frees every module, class and function one by one: ≈ 0.15 s once pandas,
    pyarrow and SQLAlchemy are loaded, a sixth of a whole backtest command. Nothing a command
    leaves needs it: its transactions are committed and its files closed by its own ``with``
    blocks before :func:`main` returns. What an exit does that matters is done here, in the
    interpreter's order: wait for running threads, run the ``atexit`` handlers (log handlers'
    flush, ``weakref.finalize`` clean-ups), flush stdout and stderr; then ``os._exit``.
    """
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = _exit_status(exit_.code)
    wait_for_threads = getattr(threading, "_shutdown", None)  # what Python's exit calls first
    if wait_for_threads is not None:
        wait_for_threads()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: Python's own exit status for it
            code = code or 120
    os._exit(code)


def _exit_status(code: object) -> int:
    """The process status ``SystemExit(code)`` gives (a message goes to stderr, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
