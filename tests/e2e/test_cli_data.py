"""The data commands as a user runs them: real counts, JSON that parses, clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "home"))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_sample_status_and_check_report_real_counts(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("data", "sample", "--json")
    assert code == 0
    loaded = json.loads(out)
    assert [r["source"] for r in loaded] == ["sample:skfolio", "sample:bokeh"]
    assert sum(r["inserted"] for r in loaded) == 179_991

    code, out, _ = run("data", "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert (status["symbols"], status["bars"]) == (23, 179_991)
    assert (status["first_date"], status["latest_date"]) == ("1990-01-02", "2022-12-28")

    code, out, _ = run("data", "check", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["ok"] is True
    assert report["summary"]["bars"] == 179_991
    assert report["issues"]["missing_price"]["count"] == 0  # close-only symbols are not faulted
    # staleness is measured against the newest data (2022-12-28), not the wall clock: only the
    # bokeh symbols, whose history ends in 2013, are behind (regression: all 23 were "stale")
    assert report["reference_date"] == "2022-12-28"
    stale = set(report["stale_symbols"])
    assert stale
    assert len(stale) < 23
    assert all(day < "2014-01-01" for day in report["stale_symbols"].values())

    code, out, _ = run("data", "symbols", "--json")
    symbols = {s["symbol"]: s for s in json.loads(out)}
    assert symbols["IBM"]["fields"] == "ohlcv+adj"
    assert symbols["AAPL"]["fields"] == "close (adjusted)"
    assert symbols["SP500"]["asset_class"] == "index"


def test_bad_file_fails_with_a_message_and_writes_nothing(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,symbol,open,high,low,close,volume\n2024-01-02,AAA,1,2,0.5,-1,10\n")
    code, _, err = run("data", "import", str(bad))
    assert code == 1
    assert f"{bad}, row 2, symbol AAA, field 'close'" in err
    code, out, _ = run("data", "status", "--json")
    assert json.loads(out)["bars"] == 0


def test_import_refuses_what_check_calls_an_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # regression: a close above the high was imported, and only `data check` flagged it
    bad = tmp_path / "bars.csv"
    bad.write_text(
        "date,symbol,open,high,low,close,volume\n"
        "2024-01-02,AAA,10,11,9,10.5,100\n"
        "2024-01-03,AAA,10.5,11,10,30,100\n"
    )
    code, _, err = run("data", "import", str(bad), "--json")
    assert code == 1
    assert f"{bad}, row 3, symbol AAA, field 'close': close 30 is outside [low, high]" in err
    code, out, _ = run("data", "status", "--json")
    assert json.loads(out)["bars"] == 0


def test_import_warns_about_a_thousandfold_jump_and_strict_refuses_it(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("date,symbol,close\n2024-01-02,AAA,1.5\n2024-01-03,AAA,1500\n")
    code, _, err = run("data", "import", "--strict", str(path))
    assert code == 1
    assert "row 3, symbol AAA, field 'close': close moved ×1000" in err
    code, out, _ = run("data", "import", str(path), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["inserted"] == 2
    assert len(report["warnings"]) == 1
    assert "×1000" in report["warnings"][0]
    code, out, _ = run("data", "check", "--json")
    assert json.loads(out)["issues"]["price_jump"]["count"] == 1


def test_unreachable_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "QUANTDESK_DATABASE_URL", "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/nodb"
    )
    result = CliRunner().invoke(app, ["data", "status"])
    assert result.exit_code == 1
    assert "database error" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "extra", [[], ["--fundamentals", "kaggle"], ["--instruments"]], ids=["bars", "eps", "meta"]
)
def test_missing_file_is_a_clear_error(run, tmp_path: Path, extra: list[str]) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope.csv"
    code, _, err = run("data", "import", str(missing), *extra)
    assert code == 1
    assert f"{missing}: file not found" in err
    assert "Traceback" not in err


def test_import_lists_the_symbols_whose_stored_values_it_changed(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text("date,symbol,close\n2024-01-02,AAA,10\n2024-01-03,AAA,11\n2024-01-02,BBB,5\n")
    code, out, _ = run("data", "import", str(first))
    assert code == 0
    assert "overwrote" not in out
    second = tmp_path / "second.csv"
    second.write_text("date,symbol,close\n2024-01-02,AAA,10\n2024-01-03,AAA,12\n2024-01-02,BBB,6\n")
    code, out, _ = run("data", "import", str(second), "--json")
    assert code == 0
    assert json.loads(out)["changed"] == {"rows": 2, "by_symbol": {"AAA": 1, "BBB": 1}}
    third = tmp_path / "third.csv"
    third.write_text("date,symbol,close\n2024-01-03,AAA,13\n")
    code, out, _ = run("data", "import", str(third))
    assert code == 0
    assert "overwrote 1 stored bars of 1 symbol(s) (AAA 1)" in " ".join(out.split())
