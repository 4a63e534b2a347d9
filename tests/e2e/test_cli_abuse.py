"""Every command with a bad value of each option: a short message, a failing exit code, no
traceback, and the database exactly as it was.

Exit codes: the installed ``quantdesk`` command exits 1 for every refusal. Invoked in-process
(CliRunner), what Typer itself refuses while parsing (a value of the wrong type or outside an
option's declared range) still shows Click's status 2; the console script maps it to 1 (tested
below). Both print a short message and no traceback.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from quantdesk.cli.app import app

MARKUP = "[/x]"


def _bars_csv(path: Path) -> Path:
    days = pd.bdate_range("2021-01-04", periods=300)
    rows = []
    for k, symbol in enumerate(("AAA", "BBB", "CCC")):
        close = 50 + 10 * k + np.cumsum(np.sin(np.arange(len(days)) / (5 + k)))
        rows.append(
            pd.DataFrame(
                {
                    "date": days.strftime("%Y-%m-%d"),
                    "symbol": symbol,
                    "open": close,
                    "high": close + 1,
                    "low": close - 1,
                    "close": close,
                    "volume": 1000,
                }
            )
        )
    pd.concat(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a migrated SQLite database holding three symbols' bars."""
    root = tmp_path_factory.mktemp("abuse")
    files = root / "files"
    files.mkdir()
    _bars_csv(files / "bars.csv")
    (files / "markup.csv").write_text(f"date,symbol,close\n2024-01-02,AAA,{MARKUP}\n")
    (files / "markup_ok.csv").write_text(
        f"date,symbol,close\n2021-01-04,AAA,{MARKUP}\n2021-01-05,DDD,10\n"
    )
    (files / "nothing_good.csv").write_text("date,symbol,close\n2024-01-02,AAA,x\n")
    (files / "dup_close.csv").write_text("date,symbol,close,close\n2024-01-02,AAA,1,2\n")
    (files / "two_dates.csv").write_text(
        "date,timestamp,symbol,close\n2024-01-02,2024-01-02,AAA,1\n"
    )
    (files / "far.csv").write_text("date,symbol,close\n2262-04-01,AAA,1\n")
    (files / "jump.csv").write_text("date,symbol,close\n2021-01-04,ZZZ,1\n2021-01-05,ZZZ,1000\n")
    (files / "long_symbol.csv").write_text(f"date,symbol,close\n2024-01-02,{'A' * 40},1\n")
    whole = gzip.compress(b"date,symbol,close\n" + b"2024-01-02,AAA,1\n" * 50)
    (files / "truncated.csv.gz").write_bytes(whole[: len(whole) // 2])
    with zipfile.ZipFile(files / "two.zip", "w") as archive:
        archive.writestr("a.csv", "date,symbol,close\n2024-01-02,AAA,1\n")
        archive.writestr("b.csv", "date,symbol,close\n2024-01-02,BBB,1\n")
    (files / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    (files / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (files / "empty").mkdir()
    (files / "full").mkdir()
    (files / "full" / "keep.txt").write_text("mine")
    data_dir = root / "home"
    result = CliRunner().invoke(
        app, ["data", "import", str(files / "bars.csv")], env={"QUANTDESK_DATA_DIR": str(data_dir)}
    )
    assert result.exit_code == 0, result.output
    created = CliRunner().invoke(
        app,
        ["portfolio", "create", "P", "--cash", "100000"],
        env={"QUANTDESK_DATA_DIR": str(data_dir)},
    )
    assert created.exit_code == 0, created.output
    return root


def _snapshot(database: Path) -> dict[str, object]:
    with sqlite3.connect(database) as connection:
        names = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        counts: dict[str, object] = {
            name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in names
        }
        counts["close_sum"] = connection.execute("SELECT sum(close) FROM bars").fetchone()[0]
    return counts


F = "{files}"
CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    # data import
    "import --timeframe 2d": (["data", "import", "--timeframe", "2d", f"{F}/bars.csv"], {}),
    "import --timeframe markup": (["data", "import", "--timeframe", MARKUP, f"{F}/bars.csv"], {}),
    "import --fundamentals bad": (["data", "import", "--fundamentals", "x", f"{F}/bars.csv"], {}),
    "import missing file": (["data", "import", f"{F}/nope.csv"], {}),
    "import empty folder": (["data", "import", f"{F}/empty"], {}),
    "import markup cell": (["data", "import", f"{F}/markup.csv"], {}),
    "import --skip-bad nothing usable": (
        ["data", "import", "--skip-bad", f"{F}/nothing_good.csv"],
        {},
    ),
    "import duplicate close": (["data", "import", f"{F}/dup_close.csv"], {}),
    "import date and timestamp": (["data", "import", f"{F}/two_dates.csv"], {}),
    "import year 2262": (["data", "import", f"{F}/far.csv"], {}),
    "import --strict jump": (["data", "import", "--strict", f"{F}/jump.csv"], {}),
    "import symbol too long": (["data", "import", f"{F}/long_symbol.csv"], {}),
    "import truncated gz": (["data", "import", f"{F}/truncated.csv.gz"], {}),
    "import zip of two": (["data", "import", f"{F}/two.zip"], {}),
    "import broken parquet": (["data", "import", f"{F}/broken.parquet"], {}),
    "import binary --instruments": (["data", "import", "--instruments", f"{F}/binary.bin"], {}),
    "import binary bars": (["data", "import", f"{F}/binary.bin"], {}),
    # data check / update / membership / status
    "check --jump -1": (["data", "check", "--jump", "-1"], {}),
    "check --jump nan": (["data", "check", "--jump", "nan"], {}),
    "check --stale-after -1": (["data", "check", "--stale-after", "-1"], {}),
    "check --jump text": (["data", "check", "--jump", "lots"], {}),
    "check unknown symbol": (["data", "check", MARKUP], {}),
    "update unknown source": (["data", "update", MARKUP], {}),
    "update --start bad": (["data", "update", "yahoo", "AAA", "--start", MARKUP], {}),
    "membership unknown": (["data", "membership", MARKUP], {}),
    "status bad LOG_LEVEL": (["data", "status"], {"QUANTDESK_LOG_LEVEL": MARKUP}),
    "status bad CACHE_TTL": (["data", "status"], {"QUANTDESK_CACHE_TTL_SECONDS": "-1"}),
    "status bad LOG_JSON": (["data", "status"], {"QUANTDESK_LOG_JSON": "maybe"}),
    "status bad DATABASE_URL": (["data", "status"], {"QUANTDESK_DATABASE_URL": MARKUP}),
    # backtest
    "backtest unknown strategy": (["backtest", MARKUP], {}),
    "backtest --universe markup": (["backtest", "momentum-12-1", "--universe", MARKUP], {}),
    "backtest --params key markup": (["backtest", "momentum-12-1", "-p", f"{MARKUP}=1"], {}),
    "backtest --params value markup": (["backtest", "momentum-12-1", "-p", f"top_n={MARKUP}"], {}),
    "backtest --vix-bands markup": (["backtest", "momentum-12-1", "--vix-bands", MARKUP], {}),
    "backtest --cash 1e308": (["backtest", "momentum-12-1", "--cash", "1e308"], {}),
    "backtest --cash -1": (["backtest", "momentum-12-1", "--cash", "-1"], {}),
    "backtest --out empty": (["backtest", "momentum-12-1", "--out", ""], {}),
    "backtest --out full": (["backtest", "momentum-12-1", "--out", f"{F}/full"], {}),
    "backtest --start bad": (["backtest", "momentum-12-1", "--start", MARKUP], {}),
    "backtest --engine bad": (["backtest", "momentum-12-1", "--engine", MARKUP], {}),
    "backtest --timeframe 2d": (["backtest", "momentum-12-1", "--timeframe", "2d"], {}),
    # optimize
    "optimize --grid markup": (["optimize", "momentum-12-1", "--grid", MARKUP], {}),
    "optimize --grid huge": (
        ["optimize", "momentum-12-1", "--grid", "top_fraction=0:1:1e-9"],
        {},
    ),
    "optimize --grid inf": (["optimize", "momentum-12-1", "--grid", "top_fraction=0:inf:1"], {}),
    # research and stored runs
    "scores --universe markup": (["scores", "--universe", MARKUP, "--compute"], {}),
    "scores --date bad": (["scores", "--date", MARKUP], {}),
    "recommend --optimizer bad": (["recommend", "--optimizer", MARKUP], {}),
    "backtests show unknown": (["backtests", "show", MARKUP], {}),
    "backtests delete unknown": (["backtests", "delete", MARKUP], {}),
    "backtests export unknown": (["backtests", "export", MARKUP, "--out", f"{F}/new"], {}),
    "backtests export --out full": (["backtests", "export", "x", "--out", f"{F}/full"], {}),
    "backtests export --out empty": (["backtests", "export", "x", "--out", ""], {}),
    "backtest --from-run unknown": (["backtest", "--from-run", MARKUP], {}),
    "backtest --universe bare keyword in list": (
        ["backtest", "momentum-12-1", "--universe", "AAA,all"],
        {},
    ),
    "optimize show unknown": (["optimize", "show", MARKUP], {}),
    "strategies show unknown": (["strategies", "show", MARKUP], {}),
    # trading
    "portfolio create duplicate": (["portfolio", "create", "P"], {}),
    "portfolio create --cash -5": (["portfolio", "create", "Q", "--cash", "-5"], {}),
    "portfolio create --cash nan": (["portfolio", "create", "Q", "--cash", "nan"], {}),
    "portfolio create --mode bad": (["portfolio", "create", "Q", "--mode", MARKUP], {}),
    "portfolio show unknown": (["portfolio", "show", MARKUP], {}),
    "portfolio deposit text": (["portfolio", "deposit", "P", MARKUP], {}),
    "order submit unknown symbol": (["order", "submit", "P", "buy", "10", "ZZZZ"], {}),
    "order submit quantity 0": (["order", "submit", "P", "buy", "0", "AAA"], {}),
    "order submit quantity -5": (["order", "submit", "P", "buy", "-5", "AAA"], {}),
    "order submit quantity nan": (["order", "submit", "P", "buy", "nan", "AAA"], {}),
    "order submit bad side": (["order", "submit", "P", MARKUP, "10", "AAA"], {}),
    "order submit limit 0": (["order", "submit", "P", "buy", "10", "AAA", "--limit", "0"], {}),
    "order submit oversell": (["order", "submit", "P", "sell", "10", "AAA"], {}),
    "order submit no cash": (["order", "submit", "P", "buy", "10000000", "AAA"], {}),
    "order cancel unknown": (["order", "cancel", "P", MARKUP], {}),
    "order import missing": (["order", "import", "P", f"{F}/nope.csv"], {}),
    "order import binary": (["order", "import", "P", f"{F}/binary.bin"], {}),
    "rebalance unknown portfolio": (["rebalance", MARKUP, "--targets", "AAA=0.5"], {}),
    "rebalance --targets markup": (["rebalance", "P", "--targets", MARKUP], {}),
    "rebalance --signal bad": (["rebalance", "P", "--signal", MARKUP], {}),
    "rebalance --threshold -1": (
        ["rebalance", "P", "--targets", "AAA=0.5", "--threshold", "-1"],
        {},
    ),
    "trade run --replay bad": (
        ["trade", "run", "momentum-12-1", "--portfolio", "P", "--replay", MARKUP],
        {},
    ),
    "reconcile unknown": (["reconcile", MARKUP], {}),
    "journal add unknown portfolio": (["journal", "add", MARKUP, "--thesis", "x"], {}),
    "journal edit unknown": (["journal", "edit", "999999", "--lesson", "x"], {}),
    "tca --by bad": (["tca", "--by", MARKUP], {}),
    "tca unknown portfolio": (["tca", "--portfolio", MARKUP], {}),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_a_short_message_and_changes_nothing(home: Path, case: str) -> None:
    args, env = CASES[case]
    args = [a.replace(F, str(home / "files")) for a in args]
    database = home / "home" / "quantdesk.sqlite"
    before = _snapshot(database)
    result = CliRunner().invoke(app, args, env={"QUANTDESK_DATA_DIR": str(home / "home"), **env})
    output = result.stdout + result.stderr
    assert result.exit_code in (1, 2), (case, result.exit_code, output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        case,
        repr(result.exception),
    )
    assert "Traceback" not in output
    message = result.stderr.strip()
    assert message, case
    assert "unexpected error" not in message, message  # a refusal, not a crash caught late
    assert len(message.splitlines()) <= 8, message
    assert _snapshot(database) == before, case


def test_markup_in_a_cell_under_skip_bad_commits_and_reports_it(home: Path, tmp_path: Path) -> None:
    # regression: the good row was committed, then printing "[/x]" crashed the command
    data_dir = tmp_path / "home"
    result = CliRunner().invoke(
        app,
        ["data", "import", "--skip-bad", str(home / "files" / "markup_ok.csv")],
        env={"QUANTDESK_DATA_DIR": str(data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert f"not a number: '{MARKUP}'" in result.stdout


def test_an_unexpected_error_is_one_line_with_the_log_path(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quantdesk.services.data_status import DataStatusService

    def explode(self: DataStatusService) -> None:
        raise RuntimeError("boom [/x]")

    monkeypatch.setattr(DataStatusService, "status", explode)
    result = CliRunner().invoke(
        app, ["data", "status"], env={"QUANTDESK_DATA_DIR": str(tmp_path / "home")}
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    log = tmp_path / "home" / "logs" / "quantdesk-errors.log"
    assert len(lines) == 1, lines
    assert "RuntimeError: boom [/x]" in lines[0]
    assert str(log) in result.stderr.replace("\n", "")
    assert "Traceback" in log.read_text()
    assert "Traceback" not in result.output


def test_export_into_a_new_folder_then_refused_without_force(home: Path, tmp_path: Path) -> None:
    env = {"QUANTDESK_DATA_DIR": str(home / "home")}
    out = tmp_path / "export"
    args = ["backtest", "ma-crossover", "--universe", "AAA", "--no-store", "--out", str(out)]
    first = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    written = sorted(p.name for p in out.iterdir())
    assert written
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = CliRunner().invoke(app, args, env=env)
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamp
    forced = CliRunner().invoke(app, [*args, "--force"], env=env)
    assert forced.exit_code == 0, forced.output


def test_disk_full_during_an_import_is_one_line_and_writes_nothing(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from quantdesk.db.repositories import bars as bar_repo

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    data_dir = tmp_path / "home"
    env = {"QUANTDESK_DATA_DIR": str(data_dir)}
    assert CliRunner().invoke(app, ["data", "status"], env=env).exit_code == 0
    before = _snapshot(data_dir / "quantdesk.sqlite")
    monkeypatch.setattr(bar_repo, "write_bar_frame", full)
    result = CliRunner().invoke(app, ["data", "import", str(home / "files" / "bars.csv")], env=env)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: no space left on the device (database); nothing was written"
    ]
    assert _snapshot(data_dir / "quantdesk.sqlite") == before


def test_the_console_script_exits_1_on_a_value_typer_refuses(home: Path) -> None:
    """Typer refuses ``--cash -1`` while parsing (Click's status 2); the installed command
    reports it as every other refusal: a short message and exit 1."""
    script = Path(sys.executable).with_name("quantdesk")
    if not script.exists():
        pytest.fail(f"the console script {script} is not installed (pip install -e .)")
    result = subprocess.run(
        [str(script), "backtest", "momentum-12-1", "--cash", "-1"],
        capture_output=True,
        text=True,
        env={**os.environ, "QUANTDESK_DATA_DIR": str(home / "home")},
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "--cash" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
