"""momentum-composite: picks vs a plain-pandas composite, bound data, caps, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import CostModel, run_allocation
from quantdesk.data import Panel
from quantdesk.strategies import StrategyParameterError, StrategyRegistry, default_registry
from quantdesk.strategies.momentum_composite import MomentumComposite, StrategyDataError

RS_ONLY = {
    "relative_strength": 1.0,
    "eps_momentum": 0.0,
    "price_momentum": 0.0,
    "pe_momentum": 0.0,
    "volume_momentum": 0.0,
}
EPS_ONLY = {**RS_ONLY, "relative_strength": 0.0, "eps_momentum": 1.0}


def random_market(
    seed: int = 0, rows: int = 420, width: int = 30
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Closes, volumes and a benchmark; S00 lists at row 250 (only volume momentum by the end)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2018-01-01", periods=rows)
    symbols = [f"S{i:02d}" for i in range(width)]
    steps = rng.normal(0.0004, 0.015, size=(rows, width)) + rng.normal(0, 0.0005, size=width)
    close = pd.DataFrame(50 * np.exp(np.cumsum(steps, axis=0)), index=dates, columns=symbols)
    volume = pd.DataFrame(
        rng.lognormal(13, 0.3, size=(rows, width))
        * np.linspace(1, 2, rows)[:, None] ** rng.normal(0, 1, size=width),
        index=dates,
        columns=symbols,
    )
    close.iloc[:250, 0] = np.nan
    volume.iloc[:250, 0] = np.nan
    benchmark = pd.Series(
        100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, size=rows))), index=dates, name="SPX"
    )
    return close, volume, benchmark


def reference_alpha(close: pd.DataFrame, benchmark: pd.Series, t: int) -> pd.Series:
    """Relative strength: annualised alpha of daily returns on the benchmark's, t-252 → t-21."""
    stock = close.pct_change(fill_method=None).iloc[t - 251 : t - 20]
    market = benchmark.pct_change().iloc[t - 251 : t - 20].to_numpy()
    out = {}
    for symbol in close.columns:
        y = stock[symbol].to_numpy()
        ok = np.isfinite(y) & np.isfinite(market)
        out[symbol] = np.polyfit(market[ok], y[ok], 1)[1] * 252 if ok.sum() >= 0.8 * 231 else np.nan
    return pd.Series(out)


def reference_scores(
    close: pd.DataFrame, volume: pd.DataFrame, benchmark: pd.Series, t: int
) -> pd.Series:
    """The default composite without earnings, one date, in plain pandas."""

    def window_return(lookback: int, skip: int) -> pd.Series:
        return close.iloc[t - skip] / close.iloc[t - lookback] - 1

    components = {
        "relative_strength": reference_alpha(close, benchmark, t),
        "price_momentum": pd.concat([window_return(h, 0) for h in (63, 126, 252)], axis=1).mean(
            axis=1, skipna=False
        ),
        "volume_momentum": volume.iloc[t - 19 : t + 1].mean(skipna=False)
        / volume.iloc[t - 119 : t + 1].mean(skipna=False)
        - 1,
    }
    weights = {"relative_strength": 0.40, "price_momentum": 0.25, "volume_momentum": 0.05}
    total = pd.Series(0.0, index=close.columns)
    weight_sum = pd.Series(0.0, index=close.columns)
    for name, raw in components.items():
        values = raw[close.iloc[t] > 0].dropna()
        values = values.clip(values.quantile(0.01), values.quantile(0.99))
        z = (values - values.mean()) / values.std(ddof=0)
        total = total.add(weights[name] * z, fill_value=0.0)
        weight_sum = weight_sum.add(pd.Series(weights[name], index=z.index), fill_value=0.0)
    # at least 60 % of the configured weights (RS 40 + EPS 25 + price 25 + P/E 5 + volume 5)
    return (total / weight_sum).where(weight_sum >= 0.60 - 1e-12)


def test_holds_the_ten_best_composite_scores_equally_at_month_ends() -> None:
    close, volume, benchmark = random_market()
    panel = Panel.from_frames({"close": close, "volume": volume})
    strategy = MomentumComposite(benchmark=benchmark)
    mask = strategy.rebalance_mask(panel.dates)
    weights = strategy.target_weights(panel, mask)
    decided = np.flatnonzero(np.isfinite(weights).any(axis=1))
    month = pd.DatetimeIndex(close.index).to_period("M")
    assert all(month[t] != month[t + 1] for t in decided.tolist())
    # volume momentum (120 days) alone is 5 % of the weights: the first decision waits for RS
    # and price momentum (a year of history)
    assert decided.min() >= 252
    checked = 0
    for t in decided:
        scores = reference_scores(close, volume, benchmark, int(t))
        if t < 252:
            continue  # before a year of history only volume momentum exists
        best = sorted(scores.dropna().index, key=lambda s: (-scores[s], s))[:10]
        expected = pd.Series(0.0, index=close.columns)
        expected[best] = 0.1
        np.testing.assert_allclose(weights[t], expected.to_numpy(), rtol=0, atol=1e-15)
        checked += 1
    assert checked >= 6
    # the late listing has only its volume momentum (5 % of the weights): not scored, not held
    late = reference_scores(close, volume, benchmark, int(decided[-1]))
    assert np.isnan(late["S00"])
    assert np.isnan(close["S00"].iloc[decided[-1] - 252])
    assert weights[decided[-1], 0] == 0.0


def test_relative_strength_only_picks_the_largest_alphas_and_quarterly_rebalances() -> None:
    close, volume, benchmark = random_market(seed=1)
    panel = Panel.from_frames({"close": close, "volume": volume})
    strategy = MomentumComposite(
        benchmark=benchmark.to_numpy(), weights=RS_ONLY, positions=3, frequency="quarterly"
    )
    mask = strategy.rebalance_mask(panel.dates)
    quarter = pd.DatetimeIndex(close.index).to_period("Q")
    assert all(quarter[t] != quarter[t + 1] for t in np.flatnonzero(mask).tolist())
    weights = strategy.target_weights(panel, mask)
    for t in np.flatnonzero(np.isfinite(weights).any(axis=1)):
        alpha = reference_alpha(close, benchmark, int(t)).dropna()
        assert set(close.columns[weights[t] > 0]) == set(alpha.nlargest(3).index)
        assert weights[t][weights[t] > 0] == pytest.approx([1 / 3] * 3)


def quarterly_earnings(symbols: list[str], growth: list[float]) -> pd.DataFrame:
    """Quarterly EPS growing geometrically per symbol, reported 30 days after quarter end."""
    ends = pd.date_range("2016-03-31", "2020-12-31", freq="QE")
    rows = [
        {
            "symbol": symbol,
            "fiscal_period_end": end,
            "report_date": end + pd.Timedelta(days=30),
            "eps": 1.0 * (1 + g) ** q,
        }
        for symbol, g in zip(symbols, growth, strict=True)
        for q, end in enumerate(ends)
    ]
    return pd.DataFrame(rows)


def test_eps_momentum_uses_reports_once_they_are_public() -> None:
    close, volume, benchmark = random_market(seed=2, rows=520, width=6)
    close = close.fillna(50.0)
    earnings = quarterly_earnings(list(close.columns), [0.01, 0.05, -0.02, 0.08, 0.0, 0.03])
    panel = Panel.from_frames({"close": close, "volume": volume.fillna(1e5)})
    strategy = MomentumComposite(
        benchmark=benchmark, earnings=earnings, weights=EPS_ONLY, positions=2
    )
    mask = strategy.rebalance_mask(panel.dates)
    weights = strategy.target_weights(panel, mask)
    decided = np.flatnonzero(np.isfinite(weights).any(axis=1))
    assert len(decided) >= 5
    for t in decided:
        assert set(close.columns[weights[t] > 0]) == {"S01", "S03"}  # +5 % and +8 % a quarter
    # S00 reports a collapse after the last decision: nothing up to it changes
    late = earnings.copy()
    after = late["report_date"] > close.index[decided[-1]]
    late.loc[after & (late["symbol"] == "S00"), "eps"] = 1e6
    changed = strategy.bind(earnings=late).target_weights(panel, mask)
    np.testing.assert_array_equal(weights[: decided[-1] + 1], changed[: decided[-1] + 1])


def test_sector_caps_move_the_excess_out_of_the_capped_sector() -> None:
    close, volume, benchmark = random_market(seed=3, width=8)
    close = close.fillna(50.0)
    panel = Panel.from_frames({"close": close, "volume": volume.fillna(1e5)})
    plain = MomentumComposite(benchmark=benchmark, weights=RS_ONLY, positions=4)
    mask = plain.rebalance_mask(panel.dates)
    t = int(np.flatnonzero(np.isfinite(plain.target_weights(panel, mask)).any(axis=1))[-1])
    best = list((close.iloc[t - 21] / close.iloc[t - 252]).nlargest(4).index)
    sectors = {s: "Tech" if s in best[:3] else "Energy" for s in close.columns}
    capped = MomentumComposite(
        benchmark=benchmark,
        sectors=sectors,
        weights=RS_ONLY,
        positions=4,
        sector_caps={"Tech": 0.3},
    )
    weights = pd.Series(capped.target_weights(panel, mask)[t], index=close.columns)
    assert weights[best[:3]].tolist() == pytest.approx([0.1, 0.1, 0.1])
    assert weights[best[3]] == pytest.approx(0.7)
    assert weights.sum() == pytest.approx(1.0)
    with pytest.raises(StrategyParameterError, match="sector"):
        MomentumComposite(benchmark=benchmark, sector_caps={"Tech": 0.3}).target_weights(
            panel, mask
        )


def test_universe_and_benchmark_column_are_respected() -> None:
    close, volume, benchmark = random_market(seed=4, width=10)
    close = close.fillna(50.0)
    volume = volume.fillna(1e5)
    panel = Panel.from_frames({"close": close, "volume": volume})
    base = MomentumComposite(benchmark=benchmark, weights=RS_ONLY, positions=2)
    mask = base.rebalance_mask(panel.dates)
    weights = base.target_weights(panel, mask)
    rows = np.flatnonzero(np.isfinite(weights).any(axis=1))
    leader = close.columns[int(np.argmax(weights[rows[0]]))]

    # drop the first decision's leader from the universe until (not including) the last decision
    member = pd.DataFrame(True, index=close.index, columns=close.columns)
    member.loc[: close.index[rows[-1] - 1], leader] = False
    bound = base.bind(universe=member).target_weights(panel, mask)
    assert bound[rows[0], close.columns.get_loc(leader)] == 0.0
    np.testing.assert_array_equal(bound[rows[-1]], weights[rows[-1]])

    # a benchmark held as a panel column: never held, same picks as binding its prices
    with_spy = Panel.from_frames({"close": close.assign(SPY=benchmark), "volume": volume})
    by_column = MomentumComposite(benchmark_symbol="SPY", weights=RS_ONLY, positions=2)
    column_weights = by_column.target_weights(with_spy, mask)
    spy = with_spy.symbols.index("SPY")
    assert np.nan_to_num(column_weights[:, spy]).max() == 0.0
    np.testing.assert_array_equal(np.delete(column_weights, spy, axis=1), weights)


def test_changing_any_input_after_t_never_changes_decisions_up_to_t() -> None:
    close, volume, benchmark = random_market(seed=5, rows=560, width=12)
    earnings = quarterly_earnings(
        list(close.columns), list(np.random.default_rng(0).normal(0.01, 0.03, size=12))
    )
    member = pd.DataFrame(True, index=close.index, columns=close.columns)
    member.iloc[::7, 3] = False
    strategy = MomentumComposite(
        benchmark=benchmark, earnings=earnings, universe=member, positions=4, weighting="rank"
    )
    panel = Panel.from_frames({"close": close, "volume": volume})
    mask = strategy.rebalance_mask(panel.dates)
    cut = int(np.flatnonzero(mask)[-3])
    rng = np.random.default_rng(6)
    later = slice(cut + 1, None)
    shape = (len(close) - cut - 1, close.shape[1])
    close_p, volume_p, member_p = close.copy(), volume.copy(), member.copy()
    close_p.iloc[later] *= rng.uniform(0.5, 2.0, size=shape)
    volume_p.iloc[later] *= rng.uniform(0.5, 2.0, size=shape)
    member_p.iloc[later] = rng.random(shape) < 0.5
    benchmark_p = benchmark.copy()
    benchmark_p.iloc[later] *= rng.uniform(0.5, 2.0, size=shape[0])
    earnings_p = earnings.copy()
    after = earnings_p["report_date"] > close.index[cut]
    earnings_p.loc[after, "eps"] *= rng.uniform(-3.0, 3.0, size=int(after.sum()))
    perturbed = MomentumComposite(
        strategy.params, benchmark=benchmark_p, earnings=earnings_p, universe=member_p
    )
    before = strategy.target_weights(panel, mask)
    after_weights = perturbed.target_weights(
        Panel.from_frames({"close": close_p, "volume": volume_p}), mask
    )
    assert np.isfinite(before[cut]).all()
    np.testing.assert_array_equal(before[: cut + 1], after_weights[: cut + 1])
    assert not np.array_equal(before[cut + 1 :], after_weights[cut + 1 :], equal_nan=True)


def test_backtest_runs_with_sane_equity() -> None:
    close, volume, benchmark = random_market(seed=7)
    panel = Panel.from_frames({"close": close, "volume": volume})
    result = run_allocation(
        panel,
        MomentumComposite(benchmark=benchmark),
        CostModel(commission_per_order=1.0, commission_bps=10.0),
        benchmark=benchmark,
    )
    assert result.strategy == "momentum-composite"
    assert close.index[-1] not in result.rebalance_dates
    assert (result.cash >= 0).all()
    assert (result.positions > 0).sum(axis=1).max() == 10
    growth = close.iloc[-1] / close.ffill().bfill().iloc[0]
    assert growth.min() <= result.final_equity / 1_000_000 <= growth.max()
    assert result.costs.sum() > 0


def test_parameters_and_bound_data_are_validated() -> None:
    with pytest.raises(StrategyParameterError, match="did you mean 'positions'"):
        MomentumComposite(positons=5)
    with pytest.raises(StrategyParameterError, match="sum to 1"):
        MomentumComposite(weights={**RS_ONLY, "eps_momentum": 0.5})
    with pytest.raises(StrategyParameterError, match="unknown component 'size'"):
        MomentumComposite(weights={"size": 1.0})
    with pytest.raises(StrategyParameterError, match="did you mean 'inverse-vol'"):
        MomentumComposite(weighting="inverse-volatilty")
    with pytest.raises(StrategyParameterError, match="rs_skip"):
        MomentumComposite(rs_lookback=20, rs_skip=21)
    with pytest.raises(StrategyParameterError, match="positions"):
        MomentumComposite(positions=0)
    close, volume, benchmark = random_market(seed=8, rows=300, width=5)
    panel = Panel.from_frames({"close": close, "volume": volume})
    mask = np.zeros(300, dtype=bool)
    mask[-2] = True
    with pytest.raises(StrategyParameterError, match="needs a benchmark"):
        MomentumComposite().target_weights(panel, mask)
    with pytest.raises(StrategyDataError, match=r"shape \(300,\)"):
        MomentumComposite(benchmark=benchmark.to_numpy()[:-1]).target_weights(panel, mask)
    with pytest.raises(StrategyDataError, match="'SPY'"):
        MomentumComposite(benchmark_symbol="SPY").target_weights(panel, mask)


def test_registered_under_its_name() -> None:
    lazy = StrategyRegistry(
        {"momentum-composite": "quantdesk.strategies.momentum_composite:MomentumComposite"}
    )
    assert lazy.get("momentum-composite") is MomentumComposite
    assert "momentum-composite" in default_registry()
    assert isinstance(default_registry().create("momentum-composite"), MomentumComposite)
