"""`quantdesk demo` (what `make demo` runs) works end to end and writes its report."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app


def test_demo_scores_backtests_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)

    result = CliRunner().invoke(app, ["demo"], terminal_width=200)

    assert result.exit_code == 0, result.stderr
    assert "top-ranked by composite momentum" in result.stdout
    assert "paper portfolio demo-paper after replaying" in result.stdout  # paper trading step
    assert "TCA: " in result.stdout
    for strategy in ("momentum-12-1", "momentum-composite"):
        assert strategy in result.stdout
        assert (tmp_path / "demo" / strategy / "series.csv").exists()
        assert (tmp_path / "demo" / strategy / "meta.json").exists()
    report = (tmp_path / "demo" / "report.md").read_text()
    assert "| momentum-12-1 |" in report
    assert "lookahead**: pass" in report

    # Regression: the demo wrote the sample into the user's own database (and overwrote real
    # bars there); it keeps its own database in its folder.
    assert (tmp_path / "demo" / "quantdesk.sqlite").exists()
    assert not (tmp_path / "quantdesk.sqlite").exists()

    # one stated cost model for both strategies, the benchmark's own figures beside them and the
    # survivorship warning in plain words
    assert "every strategy pays the same costs: 10 bp" in result.stdout
    assert "SP500 (benchmark, buy and hold)" in result.stdout
    benchmark = next(line for line in report.splitlines() if "SP500 (benchmark" in line)
    cagr, sharpe, drawdown = (cell.strip() for cell in benchmark.split("|")[2:5])
    assert cagr.endswith("%")
    assert float(sharpe) > 0
    assert drawdown.startswith("-")
    assert "only companies that still exist today" in report
    assert "Costs: every strategy pays the same costs" in report

    # Regression: a second demo found the paper portfolio and valued it at the clock's starting
    # point (three months before the replay's end), printing a different equity each run.
    again = CliRunner().invoke(app, ["demo"], terminal_width=200)
    assert again.exit_code == 0, again.stderr
    assert "exists already" in again.stdout
    equity = [
        next(line for line in out.splitlines() if line.startswith("equity "))
        for out in (result.stdout, again.stdout)
    ]
    assert equity[0] == equity[1]


def test_demo_never_touches_the_users_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_db = tmp_path / "mine.sqlite"
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", f"sqlite:///{user_db}")
    from quantdesk.cli.demo import open_demo_services

    services = open_demo_services()
    try:
        assert str(tmp_path / "demo" / "quantdesk.sqlite") in services.database.url
    finally:
        services.close()
    assert not user_db.exists()
