"""Composite scores: weighting, missing-component policies, config validation, momentum score."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.panel import Panel
from quantdesk.factors import (
    DEFAULT_MOMENTUM_WEIGHTS,
    CompositeMomentumConfig,
    FactorInputError,
    MissingPolicy,
    align_earnings,
    composite_momentum,
    composite_score,
    percentile,
    price_momentum,
    rank,
    relative_strength,
    volume_momentum,
    zscore,
)

PriceMaker = Callable[[int, int], np.ndarray]


def test_default_weights_are_the_design_weights() -> None:
    assert dict(DEFAULT_MOMENTUM_WEIGHTS) == {
        "relative_strength": 0.40,
        "eps_momentum": 0.25,
        "price_momentum": 0.25,
        "pe_momentum": 0.05,
        "volume_momentum": 0.05,
    }
    assert sum(DEFAULT_MOMENTUM_WEIGHTS.values()) == pytest.approx(1.0)


def test_renormalise_and_exclude_hand_worked() -> None:
    a = np.array([[1.0, 2.0, 3.0, np.nan]])
    b = np.array([[3.0, np.nan, 1.0, np.nan]])
    weights = {"a": 0.75, "b": 0.25}
    kept = composite_score({"a": a, "b": b}, weights, winsorize=None)
    za, zb = zscore(a)[0], zscore(b)[0]
    np.testing.assert_allclose(
        kept.score[0], [0.75 * za[0] + 0.25 * zb[0], za[1], 0.75 * za[2] + 0.25 * zb[2], np.nan]
    )
    excluded = composite_score({"a": a, "b": b}, weights, winsorize=None, missing="exclude")
    np.testing.assert_allclose(
        excluded.score[0], [kept.score[0, 0], np.nan, kept.score[0, 2], np.nan]
    )
    np.testing.assert_array_equal(kept.components["a"], zscore(a))


def test_percentile_normalisation_and_winsorising(rng: np.random.Generator) -> None:
    a = rng.normal(size=(5, 50))
    a[:, 0] = 100.0  # an outlier is clipped before normalising
    result = composite_score({"a": a}, {"a": 1.0}, normalise="percentile")
    np.testing.assert_allclose(result.score, percentile(a))
    clipped = composite_score({"a": a}, {"a": 1.0})
    assert clipped.score[0, 0] < zscore(a)[0, 0]


def test_zero_weight_components_are_not_required(rng: np.random.Generator) -> None:
    a = rng.normal(size=(3, 4))
    result = composite_score({"a": a}, {"a": 1.0, "b": 0.0}, winsorize=None)
    np.testing.assert_allclose(result.score, zscore(a))


@pytest.mark.parametrize(
    ("components", "weights", "message"),
    [
        ({"a": np.ones((2, 2))}, {"a": -1.0}, "weight"),
        ({"a": np.ones((2, 2))}, {"b": 1.0}, "not supplied"),
        ({"a": np.ones((2, 2)), "b": np.ones((3, 2))}, {"a": 1.0, "b": 1.0}, "shape"),
        ({"a": np.ones((2, 2))}, {}, "at least one"),
    ],
)
def test_composite_rejects_bad_input(
    components: dict[str, np.ndarray], weights: dict[str, float], message: str
) -> None:
    with pytest.raises(FactorInputError, match=message):
        composite_score(components, weights)


def test_config_validates_weights() -> None:
    with pytest.raises(FactorInputError, match="sum to 1"):
        CompositeMomentumConfig(weights={"relative_strength": 0.5})
    with pytest.raises(FactorInputError, match="unknown component"):
        CompositeMomentumConfig(weights={"relative_strength": 0.5, "magic": 0.5})
    with pytest.raises(FactorInputError, match=">= 0"):
        CompositeMomentumConfig(weights={"relative_strength": 1.5, "price_momentum": -0.5})
    config = CompositeMomentumConfig(weights={"relative_strength": 0.5, "price_momentum": 0.5})
    with pytest.raises(TypeError):
        config.weights["price_momentum"] = 1.0  # type: ignore[index]


@pytest.fixture
def panel(make_prices: PriceMaker, rng: np.random.Generator) -> Panel:
    days, width = 400, 8
    dates = pd.bdate_range("2018-01-01", periods=days)
    close = make_prices(days, width)
    close[:200, 7] = np.nan  # too short a history to score
    volume = rng.integers(10_000, 90_000, size=(days, width)).astype(float)
    return Panel(
        dates.to_numpy(dtype="datetime64[ns]"),
        tuple(f"S{j}" for j in range(width)),
        {"close": close, "adj_close": close * 0.9, "volume": volume},
    )


def test_composite_momentum_without_earnings_rescales_the_price_weights(
    panel: Panel, make_prices: PriceMaker
) -> None:
    bench = make_prices(400, 1)[:, 0]
    result = composite_momentum(panel, bench)
    prices = panel["adj_close"]
    raw = {
        "relative_strength": relative_strength(prices, bench),
        "price_momentum": price_momentum(prices),
        "volume_momentum": volume_momentum(panel["volume"]),
    }
    expected = composite_score(
        raw,
        {
            "relative_strength": 0.4 / 0.7,
            "price_momentum": 0.25 / 0.7,
            "volume_momentum": 0.05 / 0.7,
        },
    )
    covered = result.coverage >= 0.6
    np.testing.assert_allclose(result.score[covered], expected.score[covered], rtol=1e-12)
    np.testing.assert_array_equal(result.rank, rank(result.score, ascending=False))
    # S7 is 100 days old at row 300: only its volume momentum exists (5 % of the weights), below
    # the default 60 % minimum coverage; with no minimum 'renormalise' scores it on that alone
    # and 'exclude' leaves it out.
    assert np.isnan(result.score[300, 7])
    lenient = composite_momentum(panel, bench, config=CompositeMomentumConfig(min_coverage=0.0))
    np.testing.assert_allclose(lenient.score, expected.score, rtol=1e-12)
    assert lenient.score[300, 7] == lenient.components["volume_momentum"][300, 7]
    assert lenient.coverage[300, 7] == pytest.approx(0.05)
    strict = composite_momentum(
        panel, bench, config=CompositeMomentumConfig(missing=MissingPolicy.EXCLUDE)
    )
    assert np.isnan(strict.score[300, 7])
    assert np.nanmin(result.rank[399]) == 1.0
    assert np.isnan(result.sector_rank).all()
    assert set(result.raw) == set(raw)


def test_composite_momentum_sector_rank_and_universe(panel: Panel, make_prices: PriceMaker) -> None:
    bench = make_prices(400, 1)[:, 0]
    sectors = np.array(["tech", "tech", "energy", "energy", "tech", "energy", "tech", "tech"])
    universe = np.ones(panel.shape, dtype=bool)
    universe[:, 0] = False
    result = composite_momentum(panel, bench, sectors=sectors, universe=universe, at=[399])
    assert np.isnan(result.score[0, 0])
    energy = [2, 3, 5]
    np.testing.assert_array_equal(np.sort(result.sector_rank[0, energy]), [1.0, 2.0, 3.0])
    best_energy = energy[int(np.nanargmax(result.score[0, energy]))]
    assert result.sector_rank[0, best_energy] == 1.0
    assert result.dates[0] == panel.dates[399]


def test_composite_momentum_with_earnings_uses_all_five(
    panel: Panel, make_prices: PriceMaker
) -> None:
    bench = make_prices(400, 1)[:, 0]
    rows = []
    for j, symbol in enumerate(panel.symbols):
        for q, end in enumerate(pd.date_range("2017-03-31", periods=9, freq="QE")):
            rows.append((symbol, end, end + pd.Timedelta(days=25), "post", 1.0 + 0.1 * q * j, 1.0))
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
    panels = align_earnings(earnings, panel.dates, panel.symbols)
    result = composite_momentum(panel, bench, panels, at=[380, 399])
    assert set(result.components) == set(DEFAULT_MOMENTUM_WEIGHTS)
    assert np.isfinite(result.raw["eps_momentum"][1, 1:7]).all()
    assert np.isfinite(result.score[1, :7]).all()


def test_a_name_scored_on_one_small_component_never_ranks_first(
    panel: Panel, make_prices: PriceMaker
) -> None:
    """Regression: 2015-06-30 ranked three names first on volume momentum (5 %) alone."""
    bench = make_prices(400, 1)[:, 0]
    volume = panel["volume"].copy()
    volume[280:, 7] *= 50.0  # S7's volume surges: the best volume momentum by far
    surging = Panel(panel.dates, panel.symbols, {**panel.fields, "volume": volume})
    lenient = composite_momentum(
        surging, bench, config=CompositeMomentumConfig(min_coverage=0.0), at=[300]
    )
    assert lenient.rank[0, 7] == 1.0  # what happened before a minimum coverage existed

    result = composite_momentum(surging, bench, at=[300])
    assert np.isnan(result.score[0, 7])
    assert np.isnan(result.rank[0, 7])
    assert np.isnan(result.coverage[0, 7])
    # every name that is scored carries at least 60 % of the configured weights (here RS 40 %
    # + price 25 % + volume 5 % = 70 %: EPS and P/E need earnings)
    scored = np.isfinite(result.score[0])
    assert scored.sum() == 7
    np.testing.assert_allclose(result.coverage[0, scored], 0.70)
    assert np.nanmin(result.rank[0]) == 1.0


def test_min_coverage_must_be_a_fraction() -> None:
    with pytest.raises(FactorInputError, match="min_coverage"):
        CompositeMomentumConfig(min_coverage=1.5)
