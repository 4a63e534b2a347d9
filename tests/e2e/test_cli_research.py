"""``quantdesk scores | signal | recommend`` end to end on a fresh SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from quantdesk.cli.app import app

SECTOR_FILE = Path("ap03_sector_etfs_vix") / "sector_etfs_daily.csv.gz"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the offline sample and the sector ETFs since 2018."""
    folder = tmp_path_factory.mktemp("quantdesk")
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    frame = pd.read_csv(shared / SECTOR_FILE)
    sector = folder / "sector.csv"
    frame[frame["date"] >= "2018-01-01"].to_csv(sector, index=False)
    assert run(folder, "data", "sample").exit_code == 0
    assert run(folder, "data", "import", str(sector)).exit_code == 0
    return folder


def run(data_dir: Path, *args: str) -> Result:
    env = {"QUANTDESK_DATA_DIR": str(data_dir), "QUANTDESK_DATABASE_URL": None}
    return CliRunner().invoke(app, list(args), env=env)


def as_json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_scores_json_computes_then_lists_the_latest(data_dir: Path) -> None:
    payload = as_json(run(data_dir, "scores", "--top", "5", "--json"))
    assert isinstance(payload, dict)
    assert payload["computed"]["benchmark"] == "SP500"
    rows = payload["rows"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert len({r["date"] for r in rows}) == 1
    assert all(r["score"] is not None for r in rows)

    again = as_json(run(data_dir, "scores", "--top", "5", "--json"))
    assert isinstance(again, dict)
    assert again["computed"] is None  # already stored: shown, not recomputed
    assert again["rows"] == rows

    table = run(data_dir, "scores", "--top", "3")
    assert table.exit_code == 0
    assert rows[0]["symbol"] in table.stdout


def test_scores_history_json(data_dir: Path) -> None:
    payload = as_json(run(data_dir, "scores", "history", "AAPL", "--json"))
    assert isinstance(payload, dict)
    assert payload["symbol"] == "AAPL"
    dates = [r["date"] for r in payload["rows"]]
    assert dates == sorted(dates)
    assert len(dates) > 100


def test_signal_sector_momentum_json(data_dir: Path) -> None:
    payload = as_json(
        run(
            data_dir,
            "signal",
            "sector-momentum",
            "--date",
            "2021-06-30",
            "--cash",
            "100000",
            "--json",
        )
    )
    assert isinstance(payload, dict)
    assert payload["date"] == "2021-06-30"
    assert len(payload["selected"]) == 3
    spent = sum(float(t["notional"]) for t in payload["trades"] if t["side"] == "buy")
    assert 0 < spent <= 100_000
    assert float(payload["cash_after"]) == pytest.approx(100_000 - spent)
    assert "Trade list" in payload["report"]

    text = run(data_dir, "signal", "sector-momentum", "--date", "2021-06-30", "--report")
    assert text.exit_code == 0
    assert "Cash remaining" in text.stdout


def test_recommend_hrp_json(data_dir: Path) -> None:
    payload = as_json(
        run(data_dir, "recommend", "--optimizer", "hrp", "--positions", "5", "--json")
    )
    assert isinstance(payload, dict)
    weights = [r["weight"] for r in payload["weights"]]
    assert len(weights) == 5
    assert sum(weights) <= 1 + 1e-9
    assert payload["strategy"] == "recommend:momentum-composite:hrp"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scores", "--universe", "AAPL,NOPE"), "NOPE"),
        (("scores", "history", "NOPE"), "NOPE"),
        (("recommend", "--optimizer", "hrpp", "--positions", "5"), "did you mean 'hrp'"),
        (("scores", "--set", "value"), "unknown score set"),
    ],
)
def test_bad_input_exits_1_with_a_message(
    data_dir: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(data_dir, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_scores_refresh_after_new_bars_arrive(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Regression: `scores` kept showing the last stored date after an import of newer bars."""
    import json

    from typer.testing import CliRunner

    from quantdesk.cli.app import app

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "home"))
    runner = CliRunner()
    assert runner.invoke(app, ["data", "sample", "--json"]).exit_code == 0
    first = json.loads(runner.invoke(app, ["scores", "--json"]).stdout)
    assert first["date"] == "2022-12-28"
    newer = tmp_path / "newer.csv"
    newer.write_text(
        "date,symbol,close,adj_close\n"
        + "".join(
            f"2023-01-03,{s},{p},{p}\n"
            for s, p in (("AAPL", 125.07), ("MSFT", 239.58), ("XOM", 108.18))
        )
        # the index has closes only, like the sample's: no adjusted close to mix in
        + "2023-01-03,SP500,3824.14,\n"
    )
    assert runner.invoke(app, ["data", "import", str(newer)]).exit_code == 0
    second = json.loads(runner.invoke(app, ["scores", "--json"]).stdout)
    assert second["date"] == "2023-01-03"
    assert second["computed"] is not None
