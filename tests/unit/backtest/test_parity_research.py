"""Parity: the research built-ins give the same weights, fills and equity in both engines.

Each strategy runs through the vectorised engine (``run_allocation``) and through the event
engine's allocation adapter (``run_events``) with identical fill rules and costs; everything a
user sees must agree to 1e-9 relative.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import BacktestResult, CostModel, FillTiming, run_allocation
from quantdesk.backtest.event import run_events
from quantdesk.data import Panel
from quantdesk.strategies import AllocationStrategy
from quantdesk.strategies.etf_factor import EtfFactor
from quantdesk.strategies.momentum_composite import MomentumComposite
from quantdesk.strategies.sector_rotation import SectorRotation

ROWS = 420
RELATIVE = 1e-9


def market(seed: int, width: int) -> tuple[Panel, pd.Series]:
    """OHLC-style panel with dividend-adjusted closes, gaps and a late listing; a benchmark."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2016-01-01", periods=ROWS)
    symbols = [f"X{i:02d}" for i in range(width)]
    steps = rng.normal(0.0004, 0.015, size=(ROWS, width)) + rng.normal(0, 0.0006, size=width)
    close = pd.DataFrame(40 * np.exp(np.cumsum(steps, axis=0)), index=dates, columns=symbols)
    opens = close.shift(1) * np.exp(rng.normal(0, 0.004, size=close.shape))
    adjustment = np.exp(-np.linspace(0.03, 0.0, ROWS))[:, None]  # dividends paid over time
    volume = pd.DataFrame(rng.lognormal(12, 0.4, size=close.shape), index=dates, columns=symbols)
    close = close.mask(rng.random(close.shape) < 0.01)  # scattered missing bars
    close.iloc[:200, 1] = np.nan  # a late listing
    opens = opens.where(close.notna())
    frames = {
        "open": opens,
        "close": close,
        "adj_close": close * adjustment,
        "volume": volume.where(close.notna()),
    }
    benchmark = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, ROWS))), index=dates)
    return Panel.from_frames(frames), benchmark


def sector_rotation(benchmark: pd.Series) -> AllocationStrategy:
    return SectorRotation()


def etf_factor_inverse_vol(benchmark: pd.Series) -> AllocationStrategy:
    return EtfFactor(positions=4, optimizer="inverse-vol", max_weight=0.4)


def etf_factor_default(benchmark: pd.Series) -> AllocationStrategy:
    return EtfFactor(positions=5)


def momentum_composite(benchmark: pd.Series) -> AllocationStrategy:
    return MomentumComposite(benchmark=benchmark, positions=5)


def momentum_composite_rank(benchmark: pd.Series) -> AllocationStrategy:
    return MomentumComposite(benchmark=benchmark, positions=6, weighting="rank", frequency="weekly")


STRATEGIES: dict[str, Callable[[pd.Series], AllocationStrategy]] = {
    "sector-rotation": sector_rotation,
    "etf-factor": etf_factor_default,
    "etf-factor-inverse-vol": etf_factor_inverse_vol,
    "momentum-composite": momentum_composite,
    "momentum-composite-rank-weekly": momentum_composite_rank,
}

FILL_RULES = {
    "close-fractional": (FillTiming.CLOSE, True),
    "next-open-fractional": (FillTiming.NEXT_OPEN, True),
    "close-whole-shares": (FillTiming.CLOSE, False),
}


def assert_same(vector: BacktestResult, event: BacktestResult) -> None:
    np.testing.assert_allclose(event.equity, vector.equity, rtol=RELATIVE, atol=0)
    np.testing.assert_allclose(event.cash, vector.cash, rtol=RELATIVE, atol=1e-6)
    np.testing.assert_allclose(event.weights, vector.weights, rtol=RELATIVE, atol=1e-12)
    assert list(event.rebalance_dates) == list(vector.rebalance_dates)
    fills_v = vector.fills.reset_index(drop=True)
    fills_e = event.fills.reset_index(drop=True)
    assert len(fills_v) == len(fills_e) > 0
    for column in ("date", "symbol", "side"):
        assert fills_e[column].astype(str).tolist() == fills_v[column].astype(str).tolist(), column
    for column in ("quantity", "price", "commission"):
        np.testing.assert_allclose(
            fills_e[column].to_numpy(dtype=float),
            fills_v[column].to_numpy(dtype=float),
            rtol=RELATIVE,
            atol=1e-9,
            err_msg=column,
        )


@pytest.mark.parametrize("rule", list(FILL_RULES))
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_vectorised_and_event_engines_agree(name: str, rule: str) -> None:
    width = 20 if name.startswith("momentum") else 9
    panel, benchmark = market(seed=len(name), width=width)
    strategy = STRATEGIES[name](benchmark)
    timing, fractional = FILL_RULES[rule]
    costs = CostModel(
        commission_per_order=1.0, commission_bps=10.0, slippage_bps=5.0, fill_timing=timing
    )
    vector = run_allocation(panel, strategy, costs, fractional=fractional)
    event = run_events(panel, strategy, costs, fractional=fractional)
    assert vector.strategy == event.strategy == strategy.name
    assert vector.final_equity != pytest.approx(1_000_000.0)  # it traded
    assert_same(vector, event)


SHARED = Path(__file__).resolve().parents[4] / "shared"  # beside the repository
SECTOR_ETFS = SHARED / "data/ap03_sector_etfs_vix/sector_etfs_daily.csv.gz"


@pytest.mark.parametrize("rule", ["close-fractional", "next-open-fractional"])
def test_sector_rotation_on_the_real_sector_etfs_agrees(rule: str) -> None:
    frame = pd.read_csv(SECTOR_ETFS, parse_dates=["date"])
    panel = Panel.from_frames(
        {
            f: frame.pivot(index="date", columns="symbol", values=f)
            for f in ("open", "close", "adj_close")
        }
    )
    timing, fractional = FILL_RULES[rule]
    costs = CostModel(
        commission_per_order=1.0, commission_bps=5.0, slippage_bps=5.0, fill_timing=timing
    )
    vector = run_allocation(panel, SectorRotation(), costs, fractional=fractional)
    event = run_events(panel, SectorRotation(), costs, fractional=fractional)
    assert_same(vector, event)
