"""`data sample` never silently overwrites real stored bars with sample values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app


def test_sample_refuses_to_overwrite_different_stored_bars_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: `data sample` (and so `make demo`) overwrote 97 k real bars in the user's
    database with sample values."""
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    real = tmp_path / "real.csv"
    real.write_text(
        "symbol,date,close,adj_close\n"
        "AAPL,2020-03-02,1.0,1.0\nAAPL,2020-03-03,2.0,2.0\nKO,2020-03-03,2.0,2.0\n"
    )
    assert runner.invoke(app, ["data", "import", str(real)]).exit_code == 0

    refused = runner.invoke(app, ["data", "sample"], terminal_width=300)
    assert refused.exit_code == 1
    assert "would overwrite 3 stored bars of 2 symbol(s) (AAPL 2, KO 1)" in refused.stderr
    assert "nothing was written" in refused.stderr
    bars = json.loads(runner.invoke(app, ["data", "status", "--json"]).stdout)
    assert bars["symbols"] == 2  # nothing of the sample was written

    forced = runner.invoke(app, ["data", "sample", "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert sum(r["updated"] for r in json.loads(forced.stdout)) == 3

    again = runner.invoke(app, ["data", "sample", "--json"])  # same values: loads quietly
    assert again.exit_code == 0, again.output
