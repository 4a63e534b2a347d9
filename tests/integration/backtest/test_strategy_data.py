"""Strategies declare the data they read and the service loads exactly that (SQLite and
PostgreSQL), on a small synthetic database with OHLCV bars, a benchmark ETF, an index and
earnings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import AssetClass
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.data.panel import Panel
from quantdesk.db.database import Database
from quantdesk.services import Services, build_services
from quantdesk.services.backtest import BacktestService
from quantdesk.services.backtest_run import RunRequest, prepare_inputs
from quantdesk.services.strategy_data import StrategyData
from quantdesk.strategies.base import AllocationStrategy, StrategyParams
from quantdesk.strategies.registry import default_registry
from quantdesk.strategies.requirements import PRICE, DataRequirements

STOCKS = ("AAA", "BBB", "CCC")


def _bars() -> tuple[pd.DataFrame, list[InstrumentInfo]]:
    days = pd.bdate_range("2013-01-01", "2016-12-30")
    rng = np.random.default_rng(11)
    classes = {**dict.fromkeys(STOCKS, AssetClass.EQUITY), "SPY": AssetClass.ETF}
    classes["SP500"] = AssetClass.INDEX
    frames, infos = [], []
    for k, (symbol, asset_class) in enumerate(classes.items()):
        # slow waves, so moving averages cross a few times a year
        wave = 0.15 * np.sin(np.arange(len(days)) / (40.0 + 7 * k))
        close = 50.0 * np.exp(wave + 0.004 * rng.standard_normal(len(days)))
        frames.append(
            pd.DataFrame(
                {
                    "date": days.strftime("%Y-%m-%d"),
                    "symbol": symbol,
                    "open": close * 0.999,
                    "high": close * 1.01,
                    "low": close * 0.99,
                    "close": close,
                    "adj_close": close,
                    "volume": 1_000_000.0 + k,
                }
            )
        )
        infos.append(
            InstrumentInfo(
                symbol=symbol,
                name=symbol,
                asset_class=asset_class,
                sector="Tech" if symbol in STOCKS else None,
                industry=None,
                exchange="XNYS",
                currency="USD",
                price_fields="ohlcv+adj",
                source="test",
            )
        )
    return pd.concat(frames, ignore_index=True), infos


def _earnings(folder: Path) -> Path:
    ends = pd.date_range("2013-03-31", periods=15, freq="QE")
    frame = pd.concat(
        pd.DataFrame(
            {
                "symbol": symbol,
                "fiscal_period_end": ends.strftime("%Y-%m-%d"),
                "report_date": (ends + pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
                "release_time": "post",
                "eps": 1.0 + 0.1 * np.arange(len(ends)),
                "eps_estimate": 1.0,
            }
        )
        for symbol in ("AAA", "BBB")
    )
    path = folder / "earnings.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def services(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("declared")
    url = module_database_url
    built = build_services(
        Settings(data_dir=folder / "data", database_url=url),
        clock=SimulatedClock(datetime(2017, 1, 3, 21, 0, tzinfo=UTC)),
        database=Database(url),
    )
    try:
        bars, infos = _bars()
        built.data.import_frame(bars, source="test", target="synthetic", instruments=infos)
        built.reference.import_earnings(_earnings(folder))
        yield built
    finally:  # a failed set-up closes its connections too
        built.close()


class _Seen:
    """What the built :class:`_DeclaresInputs` objects received (the run's first; the
    look-ahead probe builds more on perturbed copies)."""

    keywords: ClassVar[list[dict[str, Any]]] = []
    fields: ClassVar[list[tuple[str, ...]]] = []


class _DeclaresInputs(AllocationStrategy):
    """Holds AAA; records the data keywords and the panel fields it was given."""

    name: ClassVar[str] = "declares-inputs"
    requirements: ClassVar[DataRequirements] = DataRequirements(
        fields=(PRICE,), benchmark_symbol="SPY", earnings=True
    )

    def __init__(self, params: StrategyParams | None = None, **keywords: Any) -> None:
        super().__init__(params)
        _Seen.keywords.append(dict(keywords))

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(dates), dtype=bool)
        mask[0] = True
        return mask

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        _Seen.fields.append(tuple(panel.fields))
        weights = np.full(panel.shape, np.nan)
        weights[rebalance_mask] = 0.0
        weights[rebalance_mask, panel.symbols.index("AAA")] = 1.0
        return weights


def _custom(services: Services) -> BacktestService:
    registry = default_registry()
    registry.register(_DeclaresInputs)
    return BacktestService(
        services.database, services.clock, services.data, services.reference, registry=registry
    )


def test_a_strategy_declaring_no_volume_gets_no_volume(services: Services) -> None:
    for name in ("ma-crossover", "rsi", "momentum-12-1"):
        inputs = prepare_inputs(services.data, services.reference, RunRequest(name))
        assert "volume" not in inputs.panel.fields, name
        assert set(inputs.strategy_data) <= {"universe"}, name  # no benchmark, no earnings
    # highs and lows only for the strategy that reads them
    levels = prepare_inputs(services.data, services.reference, RunRequest("support-resistance"))
    assert {"high", "low"} <= set(levels.panel.fields)
    assert (
        "high"
        not in prepare_inputs(
            services.data, services.reference, RunRequest("ma-crossover")
        ).panel.fields
    )


def test_a_strategy_needing_earnings_volume_and_a_benchmark_gets_them(
    services: Services,
) -> None:
    inputs = prepare_inputs(
        services.data, services.reference, RunRequest("momentum-composite", universe=_all())
    )
    assert "volume" in inputs.panel.fields
    assert set(inputs.strategy_data["earnings"]["symbol"]) == {"AAA", "BBB"}
    benchmark = inputs.strategy_data["benchmark"]
    assert benchmark.name == "SP500"  # the run's benchmark
    assert set(inputs.strategy_data["sectors"].index) == set(STOCKS)


def test_a_custom_strategy_declaring_a_benchmark_symbol_gets_that_series(
    services: Services,
) -> None:
    service = _custom(services)
    _Seen.keywords.clear()
    _Seen.fields.clear()
    run = service.run("declares-inputs", store=False, start=date(2015, 1, 2))
    given = _Seen.keywords[0]
    assert set(given) == {"benchmark", "earnings"}
    spy = services.data.load_panel(["SPY"], ("adj_close",), date(2015, 1, 2))
    series = given["benchmark"]
    assert series.name == "SPY"
    assert series.loc["2015-01-02":].to_numpy() == pytest.approx(spy["adj_close"][:, 0])
    assert set(given["earnings"]["symbol"]) == {"AAA", "BBB"}
    # the run's own benchmark (metrics) is still the default one, and SPY is never traded
    assert run.benchmark == "SP500"
    assert _Seen.fields[0] == ("adj_close",)  # every symbol has adjusted closes: no raw close
    assert run.result is not None
    assert "SPY" not in run.result.positions.columns


def test_a_missing_declared_benchmark_is_one_clear_error(services: Services) -> None:
    needs = DataRequirements(benchmark_symbol="QQQ")
    with pytest.raises(Exception, match="benchmark 'QQQ'"):
        StrategyData(services.data, services.reference).load_inputs(
            needs, ["AAA"], date(2015, 1, 2), None
        )


def test_strategies_show_lists_what_a_strategy_needs(services: Services) -> None:
    composite = services.backtest.strategy("momentum-composite")
    assert composite.requirements is not None
    assert composite.requirements.earnings
    assert composite.requirements.benchmark
    assert "volume" in composite.requirements.fields
    crossover = services.backtest.strategy("ma-crossover").to_dict()
    assert crossover["requirements"]["fields"] == ["price"]
    assert crossover["requirements"]["warmup"] == 50


def _all() -> Any:
    from quantdesk.research.universe import parse_universe

    return parse_universe("all")


# -- the start is the first decision date for signal strategies and sweeps too ----------------
START = date(2015, 1, 2)


def test_a_signal_strategy_warms_up_before_the_start_and_trades_in_its_first_month(
    services: Services,
) -> None:
    params = {"fast": 20, "slow": 200}
    run = services.backtest.run("ma-crossover", params, start=START, store=False)
    assert run.start == START  # the reported window starts at the start
    first_fill = pd.Timestamp(run.fills["date"].min())
    # main sat in cash until the 200-session average existed (October 2015)
    assert first_fill < pd.Timestamp("2015-02-01")
    event = services.backtest.run("ma-crossover", params, start=START, engine="event", store=False)
    np.testing.assert_allclose(event.equity.to_numpy(), run.equity.to_numpy(), rtol=1e-9)
    assert event.fills["date"].min() == run.fills["date"].min()
    assert run.bias["lookahead"].status == "pass"


def test_warmed_up_signals_equal_the_same_rows_of_a_run_over_the_whole_history(
    services: Services,
) -> None:
    from quantdesk.strategies.registry import create
    from quantdesk.strategies.signals import PrecomputedSignalStrategy

    inputs = prepare_inputs(
        services.data,
        services.reference,
        RunRequest("rsi", start=START),
        warmup=30,
    )
    assert inputs.warmup >= 30
    strategy = create("rsi", period=30)
    assert isinstance(strategy, PrecomputedSignalStrategy)
    whole = strategy.signals(inputs.panel)
    run = services.backtest.run("rsi", {"period": 30}, start=START, store=False)
    assert run.result is not None
    traded = inputs.traded().panel
    assert pd.Timestamp(traded.dates[0]) == pd.Timestamp(START)
    # the orders of the run are the whole-history signals' from the start on
    from quantdesk.strategies.warmup import warmed_up

    warm = warmed_up(strategy, inputs.panel, inputs.warmup)
    assert isinstance(warm, PrecomputedSignalStrategy)
    np.testing.assert_array_equal(warm.signals(traded), whole[inputs.warmup :])


def test_every_optimize_trial_starts_deciding_on_the_start(services: Services) -> None:
    end = date(2015, 3, 31)
    sweep = services.backtest.optimize(
        "ma-crossover",
        grid="slow=150,200",
        params={"fast": 20},
        start=START,
        end=end,
        executor="serial",
    )
    for trial in sweep.trials:
        run = services.backtest.run(
            "ma-crossover", {"fast": 20, **trial.params}, start=START, end=end, store=False
        )
        # a trial is the run with its parameters; neither sits in cash for want of history
        assert trial.metrics["final_equity"] == pytest.approx(run.final_equity, rel=1e-12)
        assert trial.metrics["final_equity"] != pytest.approx(1_000_000.0, rel=1e-9)
    momentum = services.backtest.optimize(
        "momentum-12-1",
        grid="lookback=126,252",
        params={"top_fraction": 0.5},
        start=START,
        end=date(2015, 12, 31),
        executor="serial",
    )
    for trial in momentum.trials:
        run = services.backtest.run(
            "momentum-12-1",
            {"top_fraction": 0.5, **trial.params},
            start=START,
            end=date(2015, 12, 31),
            store=False,
        )
        assert trial.metrics["final_equity"] == pytest.approx(run.final_equity, rel=1e-12)
