"""The layer contract, checked on every ``make lint``: domain packages never import the
database, the services or an interface, and ``execution`` never imports ``backtest`` nor the
heavy libraries (numba, pandas, SQLAlchemy) it has no use for."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import quantdesk

PACKAGE = Path(quantdesk.__file__).parent
DOMAIN = (
    "core",
    "data",
    "factors",
    "portfolio",
    "strategies",
    "backtest",
    "execution",
    "analytics",
    "research",
    "risk",
    "analysis",
    "ml",
    "reports",
)
UPPER = ("db", "services", "cli", "api", "web", "scheduler")
EXECUTION_FORBIDDEN = ("quantdesk.backtest", "quantdesk.data", "numba", "pandas", "sqlalchemy")


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, lazy (in-function) imports included, with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    root = PACKAGE / package
    bad = []
    for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
        for line, module in imports(path):
            if any(module == f or module.startswith(f"{f}.") for f in forbidden):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_never_import_db_services_or_interfaces(package: str) -> None:
    assert violations(package, tuple(f"quantdesk.{name}" for name in UPPER)) == []


def test_execution_never_imports_backtest_data_or_heavy_libraries() -> None:
    assert violations("execution", EXECUTION_FORBIDDEN) == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from quantdesk.db import tables\n", encoding="utf-8")
    assert imports(module) == [(2, "quantdesk.db")]


def test_execution_imports_without_numba_pandas_or_the_backtest() -> None:
    code = (
        "import sys, quantdesk.execution, quantdesk.execution.brokers.paper, "
        "quantdesk.execution.netting, quantdesk.execution.targets\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numba', 'pandas', 'sqlalchemy') or m.startswith('quantdesk.backtest'))\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
