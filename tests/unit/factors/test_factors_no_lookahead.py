"""No look-ahead: changing anything after date t leaves every score and rank at t bit-for-bit.

Prices, volumes, the benchmark, earnings rows reported after t and universe membership after t
are all perturbed; each component, the composite, the ranks and the sector ranks at t must not
move (NaN positions included).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.panel import Panel
from quantdesk.factors import (
    CompositeMomentumConfig,
    align_earnings,
    atr,
    composite_momentum,
    etf_factor_scores,
    macd,
    month_end_rows,
    rsi,
    sector_rotation_signal,
    support_resistance,
    volatility,
)

DAYS, WIDTH = 700, 30

PriceMaker = Callable[[int, int], np.ndarray]
World = tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]


@pytest.fixture
def world(make_prices: PriceMaker, rng: np.random.Generator) -> World:
    dates = pd.bdate_range("2016-01-01", periods=DAYS)
    close = make_prices(DAYS, WIDTH)
    close[:300, 0] = np.nan
    close[400:420, 1] = np.nan
    volume = rng.integers(1_000, 100_000, size=(DAYS, WIDTH)).astype(float)
    bench = make_prices(DAYS, 1)[:, 0]
    universe = rng.random((DAYS, WIDTH)) > 0.1
    rows = []
    for j in range(WIDTH):
        for end in pd.date_range("2015-03-31", "2018-12-31", freq="QE"):
            report = end + pd.Timedelta(days=int(rng.integers(15, 45)))
            release = ["pre", "post", None][int(rng.integers(0, 3))]
            rows.append((f"S{j:02d}", end, report, release, rng.normal(1, 0.5), rng.normal(1, 0.5)))
    earnings = pd.DataFrame(
        rows,
        columns=[
            "symbol",
            "fiscal_period_end",
            "report_date",
            "release_time",
            "eps",
            "eps_estimate",
        ],
    )
    return dates, close, volume, bench, universe, earnings


def _score(inputs: World, t: int) -> dict[str, np.ndarray]:
    dates, close, volume, bench, universe, earnings = inputs
    panel = Panel(
        dates.to_numpy(dtype="datetime64[ns]"),
        tuple(f"S{j:02d}" for j in range(WIDTH)),
        {"close": close, "volume": volume},
    )
    sectors = np.array(["a", "b", "c"] * (WIDTH // 3))
    panels = align_earnings(earnings, panel.dates, panel.symbols)
    at = np.array([r for r in month_end_rows(dates, include_final=True) if r <= t] + [t])
    result = composite_momentum(
        panel, bench, panels, CompositeMomentumConfig(), universe=universe, sectors=sectors, at=at
    )
    etf = etf_factor_scores(close, universe=universe, at=at)
    rotation = sector_rotation_signal(close, 5, universe, at=at)
    # Every row evaluated is at or before t, so the whole block must be unchanged.
    return {
        "score": result.score,
        "rank": result.rank,
        "sector_rank": result.sector_rank,
        **{f"component:{k}": v for k, v in result.components.items()},
        **{f"raw:{k}": v for k, v in result.raw.items()},
        "etf_score": etf.score,
        "etf_rank": etf.rank,
        "rotation_weights": rotation.target_weights,
        "ttm": panels.ttm_eps[at],
        "beat_rate": panels.beat_rate[at],
        "stability": panels.eps_stability[at],
        "volatility": volatility(close, at=at),
        "rsi": rsi(close)[at],
        "macd": macd(close).histogram[at],
        "atr": atr(close * 1.01, close * 0.99, close)[at],
        "support": support_resistance(close, close).support[at],
    }


@pytest.mark.parametrize("t", [450, 520, 699 - 60])
def test_changing_anything_after_t_never_changes_scores_at_t(
    world: World, rng: np.random.Generator, t: int
) -> None:
    dates, close, volume, bench, universe, earnings = world
    before = _score(world, t)
    assert np.isfinite(before["score"][-1]).sum() > WIDTH // 2
    assert np.isfinite(before["component:eps_momentum"][-1]).sum() > WIDTH // 2

    later = slice(t + 1, None)
    close2, volume2, bench2, universe2 = close.copy(), volume.copy(), bench.copy(), universe.copy()
    close2[later] *= rng.uniform(0.2, 5.0, close2[later].shape)
    close2[t + 1 :, 2] = np.nan
    volume2[later] = rng.uniform(0, 1e7, volume2[later].shape)
    bench2[later] *= 3.0
    universe2[later] = ~universe2[later]
    t_date = dates[t]
    after = earnings["report_date"] > t_date
    # A pre-market report on t+1's date, or any later report: scrambled, and new rows added.
    earnings2 = earnings.copy()
    earnings2.loc[after, "eps"] = rng.normal(50, 30, after.sum())
    earnings2.loc[after, "release_time"] = "pre"
    extra = earnings.iloc[:5].assign(report_date=dates[t + 1], release_time="pre", eps=99.0)
    earnings2 = pd.concat([earnings2, extra], ignore_index=True)

    changed = _score((dates, close2, volume2, bench2, universe2, earnings2), t)
    for name, values in before.items():
        np.testing.assert_array_equal(changed[name], values, err_msg=name)


def test_perturbing_data_at_t_does_change_scores(world: World) -> None:
    """The probe has teeth: a change on date t itself must show up."""
    dates, close, volume, bench, universe, earnings = world
    t = 520
    before = _score(world, t)
    close2 = close.copy()
    close2[t - 21] *= 2.0
    changed = _score((dates, close2, volume, bench, universe, earnings), t)
    assert not np.array_equal(changed["score"][-1], before["score"][-1], equal_nan=True)
