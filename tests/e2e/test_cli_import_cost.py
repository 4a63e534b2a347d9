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

PROBE = """
import json, sys
from quantdesk.cli.app import main
sys.argv = ["quantdesk", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
print("\\nIMPORTED=" + json.dumps(heavy))
"""


def imported_by(args: list[str], home: Path) -> list[str]:
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(home)}
    env.pop("QUANTDESK_DATABASE_URL", None)
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
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


def test_the_probe_sees_numba_when_a_command_needs_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    imported_by(["data", "sample"], home)
    args = ["backtest", "ma-crossover", "--universe", "AAPL", "--no-store", "--json"]
    assert "numba" in imported_by(args, home)
