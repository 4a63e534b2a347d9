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

    result = CliRunner().invoke(app, ["demo"])

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
