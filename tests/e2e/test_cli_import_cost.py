"""Start-up cost: simple commands never load the numba engines, TA-Lib or SciPy (issue 11).

Each command runs in a fresh interpreter (as a user's shell would start it) and reports which
heavy top-level packages it imported. ``backtest`` is the control: it must load numba, so the
check can tell a lazy import from a missing one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numba", "scipy", "talib", "llvmlite")
# modules a backtest does not need although numba would load them (scipy.linalg: ~0.25 s)
HEAVY_MODULES = ("scipy.linalg", "scipy.stats")

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
"""


def imported_by(args: list[str], home: Path) -> list[str]:
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(home)}
    env.pop("QUANTDESK_DATABASE_URL", None)
    code = f"HEAVY = {HEAVY!r}\nHEAVY_MODULES = {HEAVY_MODULES!r}\n{PROBE}"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    line = done.stdout.rsplit("IMPORTED=", 1)[1]
    return list(json.loads(line))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["data", "status"], ["data", "status", "--json"], ["backtests", "list"]],
    ids=" ".join,
)
def test_simple_commands_do_not_import_the_engines(args: list[str], tmp_path: Path) -> None:
    assert imported_by(args, tmp_path / "home") == []


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
    backtest although no kernel uses linear algebra (``quantdesk.core.jit``)."""
    imported = imported_by(["backtest", "momentum-12-1", "--no-store", "--json"], sample_home)
    assert "numba" in imported
    assert "scipy.linalg" not in imported
    assert "scipy.stats" not in imported
