"""Signal strategies live in ``strategies/`` without importing the backtest engines (issue 8)."""

from __future__ import annotations

import subprocess
import sys

SIGNAL_MODULES = (
    "quantdesk.strategies.signals",
    "quantdesk.strategies.ma_crossover",
    "quantdesk.strategies.rsi",
    "quantdesk.strategies.support_resistance",
    "quantdesk.strategies.ensemble",
)


def test_signal_strategies_import_without_the_backtest_package() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in SIGNAL_MODULES)
        + "print(sorted(m for m in sys.modules if m.startswith('quantdesk.backtest')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
