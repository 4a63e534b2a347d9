"""Start-up cost: commands import only what they use (issue 11).

Each command runs in a fresh interpreter (as a user's shell would start it) and reports which
heavy top-level packages it imported. Simple commands never load the numba engines, TA-Lib or
SciPy, and none loads SQLAlchemy's ORM; ``backtest momentum-12-1`` (rebalancing in NumPy)
loads none of them either, nor the services it does not call. A signal strategy's backtest is
the control: it must load numba, so the check can tell a lazy import from a missing one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numba", "scipy", "talib", "llvmlite")
# modules a backtest does not need although numba would load them (scipy.linalg: ~0.25 s), and
# SQLAlchemy's ORM, which no command uses (its import and 38 mappers: ~0.3 s of CPU), and Rich's
# progress display, which draws nothing off a terminal (these probes' output is a pipe)
HEAVY_MODULES = ("scipy.linalg", "scipy.stats", "sqlalchemy.orm", "rich.progress")
# start-up costs a --json run has no use for: Rich's console (~0.03 s; nothing is drawn),
# pydantic-settings (asyncio and its cloud sources, ~0.09 s, for reading QUANTDESK_*) and
# SQLAlchemy's PostgreSQL dialect on a SQLite database (~0.025 s)
WATCHED = ("rich.console", "pydantic_settings", "sqlalchemy.dialects.postgresql")

PROBE = """
import json, sys
from quantdesk.cli.app import main
sys.argv = ["quantdesk", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
heavy += [m for m in HEAVY_MODULES if m in sys.modules]
print("\\nIMPORTED=" + json.dumps(heavy))
print("\\nMODULES=" + json.dumps(sorted(m for m in sys.modules if m.startswith("quantdesk."))))
print("\\nPACKAGES=" + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
print("\\nWATCHED=" + json.dumps([m for m in WATCHED if m in sys.modules]))
"""


def probe(args: list[str], home: Path) -> dict[str, list[str]]:
    """What a command imported: ``IMPORTED`` (the heavy ones), ``MODULES`` (``quantdesk.*``)
    and ``PACKAGES`` (every top-level package)."""
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(home)}
    env.pop("QUANTDESK_DATABASE_URL", None)
    code = f"HEAVY = {HEAVY!r}\nHEAVY_MODULES = {HEAVY_MODULES!r}\nWATCHED = {WATCHED!r}\n{PROBE}"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    found = {}
    for key in ("IMPORTED", "MODULES", "PACKAGES", "WATCHED"):
        found[key] = list(json.loads(done.stdout.rsplit(f"{key}=", 1)[1].split("\n", 1)[0]))
    return found


def imported_by(args: list[str], home: Path) -> list[str]:
    return probe(args, home)["IMPORTED"]


def quantdesk_modules(args: list[str], home: Path) -> set[str]:
    """The ``quantdesk.*`` modules a command imported."""
    return set(probe(args, home)["MODULES"])


def packages(args: list[str], home: Path) -> set[str]:
    """The top-level packages a command imported."""
    return set(probe(args, home)["PACKAGES"])


@pytest.mark.parametrize(
    "args",
    [["--help"], ["data", "status"], ["data", "status", "--json"], ["backtests", "list"]],
    ids=" ".join,
)
def test_simple_commands_do_not_import_the_engines(args: list[str], tmp_path: Path) -> None:
    assert imported_by(args, tmp_path / "home") == []


@pytest.mark.parametrize("args", [["data", "status"], ["data", "status", "--json"]], ids=" ".join)
def test_data_status_loads_no_pandas_or_panel_code(args: list[str], sample_home: Path) -> None:
    """Regression (issue 11): ``data status`` imported the data service, and with it pandas,
    pyarrow and the panel code (~0.45 s of a 1.36 s status), to read two primary-key seeks and
    the fetch log (``services.data_status``, ``db.repositories.bar_spans``)."""
    assert packages(args, sample_home).isdisjoint({"pandas", "pyarrow", "numba"})
    modules = quantdesk_modules(args, sample_home)
    assert "quantdesk.services.data_status" in modules  # the control: the command did run
    assert modules.isdisjoint({"quantdesk.services.data", "quantdesk.data.panel"})


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sample") / "home"
    imported_by(["data", "sample"], home)
    return home


def test_the_probe_sees_numba_when_a_command_needs_it(sample_home: Path) -> None:
    args = ["backtest", "ma-crossover", "--universe", "AAPL", "--no-store", "--json"]
    assert "numba" in imported_by(args, sample_home)


def test_a_backtest_loads_numba_without_scipy_linear_algebra(sample_home: Path) -> None:
    """Regression: numba's NumPy support imported scipy.linalg (~0.25 s, ~25 MB) in every
    backtest although no kernel uses linear algebra (``quantdesk.core.jit``). A signal strategy
    still runs numba kernels; momentum-12-1 no longer loads numba at all (below)."""
    args = ["backtest", "rsi", "--universe", "AAPL,MSFT", "--no-store", "--json"]
    imported = imported_by(args, sample_home)
    assert "numba" in imported
    assert "scipy.linalg" not in imported
    assert "scipy.stats" not in imported


MOMENTUM = ["backtest", "momentum-12-1", "--json"]


@pytest.mark.parametrize("store", [["--no-store"], []], ids=["no-store", "stored"])
def test_a_momentum_backtest_loads_no_numba_talib_or_scipy(
    sample_home: Path, store: list[str]
) -> None:
    """Regression (issue 11): numba, its LLVM set-up and three cached kernels were ~0.5 s and
    ~100 MB of every ``backtest momentum-12-1``; plain rebalancing now runs in NumPy
    (``backtest.allocation_np``, bit for bit the kernel) and ``quantdesk.factors`` loads
    TA-Lib and the factor kernels only when a strategy uses them."""
    assert imported_by([*MOMENTUM, *store], sample_home) == []


def test_a_json_backtest_loads_no_console_settings_sources_or_postgres_dialect(
    sample_home: Path,
) -> None:
    """Regression (issue 11): a ``--json`` momentum run imported Rich's console at start-up,
    pydantic-settings to read ``QUANTDESK_*`` and, through one index's ``postgresql_where``,
    SQLAlchemy's whole PostgreSQL dialect on SQLite: ≈ 0.15 s of a 1 s command."""
    assert probe([*MOMENTUM, "--no-store"], sample_home)["WATCHED"] == []
    # the control: the same run printed as a table does load the console
    assert (
        "rich.console" in probe(["backtest", "momentum-12-1", "--no-store"], sample_home)["WATCHED"]
    )


def test_a_backtest_builds_only_the_services_it_calls(sample_home: Path) -> None:
    """Regression (issue 11): ``build_services`` imported and built every service, so a backtest
    imported the trading, reports and research services (their tables, models and engines)."""
    modules = quantdesk_modules([*MOMENTUM, "--no-store"], sample_home)
    assert "quantdesk.services.backtest" in modules  # the control: the command did run
    unused = {
        "quantdesk.services.trading",
        "quantdesk.services.reports",
        "quantdesk.services.research",
        "quantdesk.api",
        "quantdesk.web",
        # an export's modules (the reports package's models and renderers): ~0.02 s
        "quantdesk.services.backtest_export",
        "quantdesk.reports",
    }
    assert modules & unused == set()


@pytest.mark.parametrize(
    "score_set",
    [
        ["--set", "momentum-composite"],
        # the sample holds no ETF: the ETF set's factors over a few stocks
        ["--set", "etf-factor", "--universe", "AAPL,MSFT,KO,PEP"],
    ],
    ids=["momentum-composite", "etf-factor"],
)
def test_computing_scores_loads_no_numba_talib_or_scipy(
    sample_home: Path, score_set: list[str]
) -> None:
    """Regression (issue 11): the factor windows (volume momentum's rolling means, the ETF set's
    volatility, quality and 252-day high) ran as numba kernels, so every ``scores --compute``
    loaded numba and its cached kernels (~0.6 s); they are NumPy now (``factors.windows``)."""
    args = ["scores", "--compute", *score_set, "--top", "3", "--json"]
    assert imported_by(args, sample_home) == []
    assert "quantdesk.factors.momentum" in quantdesk_modules(args, sample_home)  # it computed


def test_a_second_data_check_reads_the_calendar_without_exchange_calendars(
    tmp_path: Path, sample_home: Path
) -> None:
    # building XNYS's schedule is ~0.25 s of CPU with the library's import: the first check
    # stores it, the next process reads it back (issue 11)
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    assert "exchange_calendars" in packages(["data", "check", "--json"], home)
    assert "exchange_calendars" not in packages(["data", "check", "--json"], home)
