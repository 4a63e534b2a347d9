"""The backtest service on the offline sample, on SQLite and PostgreSQL: stored runs reload
equal, both engines agree, the bias block (and a probe that can fail), compare, export,
optimisation sweeps streamed to the database."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.core.errors import ConfigurationError, NotFoundError
from quantdesk.data.panel import Panel
from quantdesk.services import Services
from quantdesk.services.backtest import BacktestService
from quantdesk.strategies.base import (
    AllocationStrategy,
    StrategyParameterError,
    UnknownStrategyError,
)
from quantdesk.strategies.registry import default_registry

COSTS = CostModel(commission_per_order=0.0, commission_bps=10.0)
PERIOD = {"start": pd.Timestamp("2000-01-01").date(), "end": pd.Timestamp("2012-12-31").date()}


class TomorrowsWinners(AllocationStrategy):
    """Cheats on purpose: holds the two symbols with the best *next-day* return."""

    name: ClassVar[str] = "tomorrows-winners"

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(dates), dtype=bool)
        mask[::21] = True
        mask[-1] = False
        return mask

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        _, prices = panel.prices()
        weights = np.full(prices.shape, np.nan)
        for t in np.flatnonzero(rebalance_mask):
            ahead = prices[t + 1] / prices[t] - 1.0  # tomorrow's price: look-ahead
            ahead = np.where(np.isfinite(ahead), ahead, -np.inf)
            weights[t] = 0.0
            weights[t, np.argsort(-ahead, kind="stable")[:2]] = 0.5
        return weights


def _assert_frames_equal(left: pd.DataFrame, right: pd.DataFrame, columns: list[str]) -> None:
    assert len(left) == len(right)
    for column in columns:
        a, b = left[column].reset_index(drop=True), right[column].reset_index(drop=True)
        if pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(b.to_numpy(float), a.to_numpy(float), rtol=1e-12)
        else:
            assert a.tolist() == b.tolist(), column


def test_momentum_run_is_stored_and_reloads_equal(sample_services: Services) -> None:
    run = sample_services.backtest.run("momentum-12-1", {}, costs=COSTS, **PERIOD)
    loaded = sample_services.backtest.get_run(run.run_id)

    assert run.result is not None
    assert loaded.result is None
    assert loaded.strategy == "momentum-12-1"
    assert loaded.engine == "vector"
    assert loaded.params == run.params
    assert loaded.params["lookback"] == 252
    assert loaded.price_field == "adj_close"
    assert loaded.benchmark == "SP500"
    assert (loaded.start, loaded.end) == (run.start, run.end)
    np.testing.assert_allclose(loaded.equity.to_numpy(), run.equity.to_numpy(), rtol=1e-12)
    assert loaded.equity.index.equals(run.equity.index)
    assert loaded.final_equity == pytest.approx(run.result.final_equity, rel=1e-12)
    np.testing.assert_allclose(
        loaded.series["benchmark"].to_numpy(), run.series["benchmark"].to_numpy(), rtol=1e-12
    )
    _assert_frames_equal(
        run.fills, loaded.fills, ["date", "symbol", "side", "quantity", "price", "commission"]
    )
    _assert_frames_equal(
        run.trades,
        loaded.trades,
        ["symbol", "entry_date", "quantity", "entry_price", "pnl", "return", "is_open"],
    )
    _assert_frames_equal(run.weights, loaded.weights, ["date", "symbol", "weight"])
    assert len(run.fills) > 100
    assert len(run.trades) > 20
    assert loaded.held_weights().sum(axis=1).round(12).eq(1.0).all()
    assert set(loaded.metrics) == set(run.metrics)
    for key, value in run.metrics.items():
        stored = loaded.metrics[key]
        if isinstance(value, float) and not math.isfinite(value):
            assert stored is None
        elif isinstance(value, float):
            assert stored == pytest.approx(value, rel=1e-12, abs=1e-15), key
        else:
            assert stored == value, key
    assert loaded.bias.to_dict() == run.bias.to_dict()
    assert any(r.run_id == run.run_id for r in sample_services.backtest.list_runs())


def test_vector_and_event_engines_agree_through_the_service(sample_services: Services) -> None:
    vector = sample_services.backtest.run(
        "momentum-12-1", {}, engine="vector", costs=COSTS, store=False, **PERIOD
    )
    event = sample_services.backtest.run(
        "momentum-12-1", {}, engine="event", costs=COSTS, store=False, **PERIOD
    )
    assert (vector.engine, event.engine) == ("vector", "event")
    np.testing.assert_allclose(event.equity.to_numpy(), vector.equity.to_numpy(), rtol=1e-9)
    _assert_frames_equal(vector.fills, event.fills, ["date", "symbol", "side"])
    np.testing.assert_allclose(event.fills["quantity"], vector.fills["quantity"], rtol=1e-9)
    assert event.metrics["sharpe_ratio"] == pytest.approx(vector.metrics["sharpe_ratio"], 1e-9)


def test_bias_block_passes_the_lookahead_probe_for_momentum(sample_services: Services) -> None:
    run = sample_services.backtest.run("momentum-12-1", {}, store=False, **PERIOD)
    block = run.bias.to_dict()
    assert set(block["checks"]) == {"lookahead", "survivorship", "corporate_actions"}
    lookahead = run.bias["lookahead"]
    assert lookahead.status == "pass", lookahead.detail
    assert lookahead.data["decisions_compared"] > 10
    assert run.bias["survivorship"].status == "warn"
    assert "survivorship bias possible" in run.bias["survivorship"].detail
    assert run.bias["corporate_actions"].status == "pass"
    assert run.bias["corporate_actions"].data["price_field"] == "adj_close"
    assert block["status"] == "warn"  # a static universe is a warning, not a failure


def test_lookahead_probe_fails_for_a_strategy_reading_tomorrows_price(
    sample_services: Services,
) -> None:
    registry = default_registry()
    registry.register(TomorrowsWinners)
    service = BacktestService(
        sample_services.database,
        sample_services.clock,
        sample_services.data,
        sample_services.reference,
        registry=registry,
    )
    run = service.run("tomorrows-winners", {}, costs=COSTS, **PERIOD)
    lookahead = run.bias["lookahead"]
    assert lookahead.status == "fail"
    assert "reads future data" in lookahead.detail
    assert lookahead.data["first_change_date"] == lookahead.data["cut_date"]
    assert run.bias.status == "fail"
    assert service.get_run(run.run_id).bias["lookahead"].status == "fail"


def test_multi_symbol_signal_strategy_runs_vectorised_with_its_probe(
    sample_services: Services,
) -> None:
    run = sample_services.backtest.run("rsi", {"period": 14}, universe="AAPL,MSFT", store=False)
    assert run.engine == "vector"
    assert len(run.fills) > 0
    assert run.bias["lookahead"].status == "pass", run.bias["lookahead"].detail
    event = sample_services.backtest.run(
        "rsi", {"period": 14}, universe="AAPL,MSFT", engine="event", store=False
    )
    assert event.engine == "event"
    np.testing.assert_allclose(run.equity.to_numpy(), event.equity.to_numpy(), rtol=1e-9)
    for column in ("date", "symbol", "side"):
        assert run.fills[column].tolist() == event.fills[column].tolist()


def test_compare_two_runs_side_by_side(sample_services: Services) -> None:
    first = sample_services.backtest.run("momentum-12-1", {}, costs=COSTS, **PERIOD)
    second = sample_services.backtest.run(
        "momentum-12-1", {"top_fraction": 0.25}, costs=COSTS, **PERIOD
    )
    table = sample_services.backtest.compare([first.run_id, second.run_id[:10]])
    assert list(table.columns) == [first.run_id, second.run_id]
    assert table.loc["sharpe_ratio", first.run_id] == pytest.approx(first.metrics["sharpe_ratio"])
    assert table.loc["final_equity", second.run_id] == pytest.approx(second.final_equity)
    assert table.loc["final_equity", first.run_id] != table.loc["final_equity", second.run_id]


def test_export_writes_files_that_reload(sample_services: Services, export_dir: Path) -> None:
    run = sample_services.backtest.run("momentum-12-1", {}, costs=COSTS, **PERIOD)
    written = sample_services.backtest.export(run.run_id, export_dir)
    names = {p.name for p in written}
    for frame in ("series", "fills", "trades", "weights"):
        assert {f"{frame}.csv", f"{frame}.parquet"} <= names
    assert {"meta.json", "run.json"} <= names
    series = pd.read_parquet(export_dir / "series.parquet")
    np.testing.assert_allclose(series["equity"].to_numpy(), run.equity.to_numpy(), rtol=1e-12)
    from_csv = pd.read_csv(export_dir / "series.csv", index_col="date", parse_dates=True)
    np.testing.assert_allclose(from_csv["equity"].to_numpy(), run.equity.to_numpy(), rtol=1e-12)
    fills = pd.read_csv(export_dir / "fills.csv")
    assert len(fills) == len(run.fills)
    document = json.loads((export_dir / "run.json").read_text())
    assert document["run_id"] == run.run_id
    assert document["final_equity"] == pytest.approx(run.final_equity, rel=1e-12)
    assert len(document["series"]) == len(run.series)
    assert document["bias_checks"]["checks"]["lookahead"]["status"] == "pass"


def test_bad_input_gets_clear_errors(sample_services: Services) -> None:
    service = sample_services.backtest
    with pytest.raises(UnknownStrategyError, match="did you mean 'momentum-12-1'"):
        service.run("momentum-12-2", {})
    with pytest.raises(StrategyParameterError, match="did you mean 'lookback'"):
        service.run("momentum-12-1", {"lookbak": 100})
    with pytest.raises(NotFoundError, match="unknown run id 'nope'"):
        service.get_run("nope")
    known = service.list_runs()[0].run_id
    with pytest.raises(NotFoundError, match=f"did you mean '{known}'"):
        service.get_run(known[:-1] + ("0" if known[-1] != "0" else "1") + "x")
    with pytest.raises(NotFoundError, match=r"unknown symbol 'APPL'.*'AAPL'"):
        service.run("momentum-12-1", {}, universe="APPL,MSFT")
    with pytest.raises(ConfigurationError, match="unknown engine"):
        service.run("momentum-12-1", {}, engine="fast")


def test_grid_sweep_streams_trials_to_the_database(sample_services: Services) -> None:
    seen = []
    outcome = sample_services.backtest.optimize(
        "momentum-12-1",
        grid="lookback=126,252;top_fraction=0.2,0.3",
        executor="serial",
        on_trial=seen.append,
        **PERIOD,
    )
    assert [r.done for r in seen] == [1, 2, 3, 4]
    assert seen[-1].total == 4
    stored = sample_services.backtest.get_sweep(outcome.sweep_id)
    assert stored["status"] == "done"
    assert stored["method"] == "grid"
    assert len(stored["trials"]) == 4
    assert {(t["params"]["lookback"], t["params"]["top_fraction"]) for t in stored["trials"]} == {
        (126, 0.2),
        (126, 0.3),
        (252, 0.2),
        (252, 0.3),
    }
    best = max(stored["trials"], key=lambda t: t["score"])
    assert stored["best_params"] == best["params"] == outcome.best_params
    assert 0.0 <= stored["summary"]["deflated_sharpe"] <= 1.0
    assert 0.0 <= stored["summary"]["pbo"] <= 1.0


def test_walk_forward_sweep_reports_folds(sample_services: Services) -> None:
    outcome = sample_services.backtest.optimize(
        "momentum-12-1",
        grid="lookback=126,252",
        walk_forward="folds=2,train=756,test=252,anchored",
        executor="serial",
        **PERIOD,
    )
    summary = outcome.summary
    assert outcome.method == "walk-forward"
    assert len(summary["folds"]) == 2
    assert summary["trials"] == 4
    assert math.isfinite(summary["out_of_sample_sharpe"])
    stored = sample_services.backtest.get_sweep(outcome.sweep_id)
    assert sorted({t["fold"] for t in stored["trials"]}) == [f["fold"] for f in summary["folds"]]
    with pytest.raises(ConfigurationError, match="walk-forward"):
        sample_services.backtest.optimize(
            "momentum-12-1", grid="lookback=126", walk_forward="folds=2,train=x"
        )
