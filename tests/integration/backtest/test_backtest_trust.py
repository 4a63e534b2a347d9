"""Backtests a user can trust and reproduce, on a small synthetic database (SQLite and
PostgreSQL): one universe grammar, default universes by asset class, symbols whose data ends,
``start`` as the first decision date, the complete stored configuration and re-runs from it,
sparse weight storage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import AssetClass
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.data.panel import Panel
from quantdesk.db.database import Database
from quantdesk.research.universe import UniverseError, UniverseKind, parse_universe
from quantdesk.services import Services, build_services
from quantdesk.strategies.base import AllocationStrategy

EQUITIES = ("AAA", "ALL", "BBB", "CCC", "DDD", "EEE", *(f"LONGNAME{i}" for i in range(8)))
DELISTED = "DDD"
DELISTED_LAST = pd.Timestamp("2013-06-28")


def _bars() -> tuple[pd.DataFrame, list[InstrumentInfo]]:
    days = pd.bdate_range("2010-01-01", "2014-12-31")
    rng = np.random.default_rng(7)
    frames, infos = [], []
    classes = {**dict.fromkeys(EQUITIES, AssetClass.EQUITY), "XLK": AssetClass.ETF}
    classes["SP500"] = AssetClass.INDEX
    for k, (symbol, asset_class) in enumerate(classes.items()):
        drift = 0.0002 * (k + 1)
        prices = 50.0 * np.exp(np.cumsum(drift + 0.01 * rng.standard_normal(len(days))))
        dates = days
        if symbol == DELISTED:
            dates = days[days <= DELISTED_LAST]
            prices = prices[: len(dates)]
        frames.append(
            pd.DataFrame(
                {
                    "date": dates.strftime("%Y-%m-%d"),
                    "symbol": symbol,
                    "close": prices,
                    "adj_close": prices,
                }
            )
        )
        infos.append(
            InstrumentInfo(
                symbol=symbol,
                name=symbol,
                asset_class=asset_class,
                sector=None,
                industry=None,
                exchange="XNYS",
                currency="USD",
                price_fields="close (adjusted)",
                source="test",
            )
        )
    return pd.concat(frames, ignore_index=True), infos


@pytest.fixture(scope="module")
def services(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("trust")
    url = module_database_url
    built = build_services(
        Settings(data_dir=folder / "data", database_url=url),
        clock=SimulatedClock(datetime(2015, 1, 2, 21, 0, tzinfo=UTC)),
        database=Database(url),
    )
    bars, infos = _bars()
    built.data.import_frame(bars, source="test", target="synthetic", instruments=infos)
    yield built
    built.close()


# -- one universe grammar ----------------------------------------------------------------------
def test_universe_keywords_are_reserved_and_a_ticker_spelling_one_needs_symbol_prefix() -> None:
    assert parse_universe("ALL").kind is UniverseKind.ALL
    assert parse_universe("Etf").kind is UniverseKind.ETF
    assert parse_universe("INDEX:SP500").index == "sp500"
    ticker = parse_universe("symbol:ALL")
    assert (ticker.kind, ticker.symbols) == (UniverseKind.LIST, ("ALL",))
    assert parse_universe("aapl, Symbol:all").symbols == ("AAPL", "ALL")
    with pytest.raises(UniverseError, match=r"'ALL' is a keyword.*symbol:ALL"):
        parse_universe("AAPL,ALL")
    # the label is complete (never cut at 64 characters) and parses back to the same spec
    long = parse_universe(",".join(f"S{i:03d}" for i in range(40)) + ",symbol:ETF")
    assert len(long.label) > 64
    assert parse_universe(long.label) == long


def test_backtest_universe_all_means_every_equity_and_symbol_all_the_ticker(
    services: Services,
) -> None:
    everything = services.backtest.run("momentum-12-1", universe="ALL", store=False)
    assert everything.result is not None
    assert set(everything.result.symbols) == set(EQUITIES)  # no ETF, no index
    assert everything.universe == "all"
    ticker = services.backtest.run(
        "momentum-12-1", universe=parse_universe("symbol:ALL"), store=False
    )
    assert ticker.result is not None
    assert list(ticker.result.symbols) == ["ALL"]
    assert ticker.universe == "symbol:ALL"


def test_default_universe_of_a_stock_strategy_never_mixes_in_etfs(services: Services) -> None:
    run = services.backtest.run("momentum-12-1", store=False)
    assert run.result is not None
    assert "XLK" not in run.result.symbols
    etf_run = services.backtest.run("sector-rotation", store=False)
    assert etf_run.result is not None
    assert list(etf_run.result.symbols) == ["XLK"]


def test_a_long_symbol_list_is_stored_whole(services: Services) -> None:
    spec = parse_universe("aaa,symbol:all," + ",".join(EQUITIES[6:]))
    run = services.backtest.run("momentum-12-1", universe=spec, end=date(2012, 12, 31))
    loaded = services.backtest.get_run(run.run_id)
    assert loaded.universe == "AAA,symbol:ALL," + ",".join(EQUITIES[6:])
    assert len(loaded.universe) > 64


# -- symbols whose data ends ------------------------------------------------------------------
def test_a_run_warns_when_symbols_data_ends_before_its_end(services: Services) -> None:
    run = services.backtest.run("momentum-12-1", params={"top_fraction": 0.5})
    assert any(DELISTED in w and "2013-06-28" in w for w in run.warnings), run.warnings
    assert services.backtest.get_run(run.run_id).warnings == run.warnings
    assert "warnings" in run.meta()


# -- complete configuration, re-run, delete ---------------------------------------------------
def test_a_stored_run_keeps_its_complete_configuration_and_reruns_bit_for_bit(
    services: Services,
) -> None:
    from quantdesk.backtest.costs import CostModel
    from quantdesk.backtest.stops import StopLossRule

    costs = CostModel(commission_per_order=0.5, commission_bps=3.0, slippage_bps=2.5)
    rule = StopLossRule(stop=0.07, take_profit=0.4, trailing=True)
    first = services.backtest.run(
        "momentum-12-1",
        {"top_fraction": 0.4, "lookback": 200},
        universe="aaa,bbb,ccc,eee,symbol:ALL",
        start=date(2011, 3, 1),
        end=date(2014, 6, 30),
        costs=costs,
        stop_loss=rule,
        initial_cash=250_000.0,
        benchmark="none",
    )
    config = services.backtest.get_run(first.run_id).config
    assert config["params"]["top_fraction"] == 0.4
    assert config["params"]["skip"] == 21  # defaults kept too
    assert config["universe"] == "AAA,BBB,CCC,EEE,symbol:ALL"
    assert config["costs"]["slippage_bps"] == 2.5
    assert config["stop_loss"]["trailing"] is True
    assert config["stop_loss"]["take_profit"] == 0.4
    assert config["engine"] == "auto"
    assert config["data_snapshot"]
    assert config["package_version"]

    again = services.backtest.rerun(first.run_id[:8])
    assert again.run_id != first.run_id
    assert again.warnings == first.warnings  # same data: no "data differs" note
    np.testing.assert_array_equal(again.equity.to_numpy(), first.equity.to_numpy())
    pd.testing.assert_frame_equal(again.fills, first.fills)
    assert {k: v for k, v in again.config.items() if k != "rerun_of"} == config
    assert again.config["rerun_of"] == first.run_id


def test_a_stored_run_can_be_deleted(services: Services) -> None:
    from quantdesk.core.errors import NotFoundError

    run = services.backtest.run("momentum-12-1", end=date(2012, 12, 31))
    assert services.backtest.delete_run(run.run_id[:10]) == run.run_id
    with pytest.raises(NotFoundError, match="unknown run id"):
        services.backtest.get_run(run.run_id)


# -- sparse weight storage --------------------------------------------------------------------
def test_signal_runs_store_weight_changes_only_and_reload_equal(services: Services) -> None:
    run = services.backtest.run("ma-crossover", {"fast": 5, "slow": 20}, engine="event")
    assert run.result is not None
    held = run.result.weights.to_numpy()
    rebalances = run.result.dates.get_indexer(run.result.rebalance_dates)
    dense = int(np.count_nonzero(np.nan_to_num(held[rebalances])))
    traded = run.fills[["date", "symbol"]].drop_duplicates()
    # one row per (day, symbol) traded, not every held weight on every trading day
    assert len(run.weights) == len(traded)
    assert len(run.weights) * 3 < dense
    loaded = services.backtest.get_run(run.run_id)
    pd.testing.assert_frame_equal(loaded.weights, run.weights)


def test_allocation_runs_store_target_changes_and_rebuild_every_decision(
    services: Services,
) -> None:
    run = services.backtest.run("momentum-12-1", {"top_fraction": 0.5})
    assert run.result is not None
    loaded = services.backtest.get_run(run.run_id)
    pd.testing.assert_frame_equal(loaded.weights, run.weights)
    held = loaded.held_weights()
    targets = run.result.weights  # held after trading; on decision days ≈ the targets
    assert held.index.isin(run.result.rebalance_dates).all()
    assert held.sum(axis=1).round(12).eq(1.0).all()
    decisions = run.result.rebalance_dates
    assert len(loaded.weights) < len(decisions) * int((held > 0).sum(axis=1).max())
    assert set(held.columns) <= set(targets.columns)


# -- optimize: best_trial names a listed trial; optimize show ---------------------------------
class _ReversedExecutor:
    """Completes tasks in reverse order, as a process pool might."""

    def __enter__(self) -> _ReversedExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map_unordered(self, function, items):  # type: ignore[no-untyped-def]
        for item in reversed(list(items)):
            yield item, function(item)

    def close(self) -> None:
        pass


def test_best_trial_numbers_the_stored_trial_it_names_whatever_the_completion_order(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quantdesk.backtest import executors

    monkeypatch.setattr(executors, "create_executor", lambda spec: _ReversedExecutor())
    outcome = services.backtest.optimize(
        "momentum-12-1", grid="lookback=63,126,252;top_fraction=0.3,0.5", executor="serial"
    )
    stored = services.backtest.get_sweep(outcome.sweep_id)
    numbers = [t["number"] for t in stored["trials"]]
    assert numbers == list(range(6))
    best = stored["trials"][stored["summary"]["best_trial"]]
    assert best["params"] == stored["best_params"] == outcome.best_params
    assert best["score"] == max(t["score"] for t in stored["trials"])
    assert [t.number for t in outcome.trials] == numbers
    assert services.backtest.get_sweep(outcome.sweep_id[:8])["id"] == outcome.sweep_id


# -- start is the first decision date ---------------------------------------------------------
def test_start_is_the_first_decision_date_with_the_lookback_loaded_before_it(
    services: Services,
) -> None:
    start = date(2012, 3, 1)
    run = services.backtest.run("momentum-12-1", {"top_fraction": 0.5}, start=start)
    assert run.result is not None
    assert run.start == date(2012, 3, 1)  # the reported window starts at the start
    first_decision = run.result.rebalance_dates[0]
    assert first_decision == pd.Timestamp("2012-03-30")  # the first month end, not a year later
    invested = 1.0 - run.series["cash"] / run.series["equity"]
    assert invested.loc["2012-04-02":"2012-04-30"].min() > 0.9
    # both engines replay the same decisions
    event = services.backtest.run(
        "momentum-12-1", {"top_fraction": 0.5}, start=start, engine="event", store=False
    )
    assert event.result is not None
    np.testing.assert_allclose(event.equity.to_numpy(), run.equity.to_numpy(), rtol=1e-9)
    assert event.result.rebalance_dates.equals(run.result.rebalance_dates)


class _HoldEverything(AllocationStrategy):
    """Equal weight in every symbol that ever had a price, at month ends: it never notices
    that a symbol's data ended."""

    name: ClassVar[str] = "hold-everything"

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        months = pd.DatetimeIndex(dates).to_period("M").asi8
        mask = np.zeros(len(dates), dtype=bool)
        mask[:-1] = months[1:] != months[:-1]
        return mask

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        _, prices = panel.prices()
        seen = np.maximum.accumulate(np.isfinite(prices), axis=0)
        weights = np.full(prices.shape, np.nan)
        rows = np.flatnonzero(rebalance_mask)
        weights[rows] = seen[rows] / np.maximum(seen[rows].sum(axis=1, keepdims=True), 1)
        return weights


def test_a_symbol_whose_data_ends_is_sold_at_its_last_price_not_held_for_ever(
    services: Services,
) -> None:
    from quantdesk.services.backtest import BacktestService
    from quantdesk.strategies.registry import default_registry

    registry = default_registry()
    registry.register(_HoldEverything)
    service = BacktestService(
        services.database, services.clock, services.data, services.reference, registry=registry
    )
    universe = "AAA,BBB,DDD,EEE"
    vector = service.run("hold-everything", universe=universe, store=False)
    event = service.run("hold-everything", universe=universe, engine="event", store=False)
    for run in (vector, event):
        assert run.result is not None
        held = run.result.positions[DELISTED]
        assert held.loc[:DELISTED_LAST].iloc[-1] > 0
        assert (held.loc["2013-08-01":] == 0).all()  # sold at the next decision (July's end)
        sale = run.fills[(run.fills["symbol"] == DELISTED) & (run.fills["side"] == "sell")]
        last_price = services.data.load_panel([DELISTED], ("adj_close",))["adj_close"][-1, 0]
        assert sale["price"].iloc[-1] == pytest.approx(last_price, rel=1e-12)
        assert any("delisted" in w and DELISTED in w for w in run.warnings)
    np.testing.assert_allclose(event.equity.to_numpy(), vector.equity.to_numpy(), rtol=1e-9)
