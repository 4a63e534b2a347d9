"""The 12-1 sector-momentum signal on the real sector ETFs, and recommendations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import NotFoundError
from quantdesk.research import ResearchInputError
from quantdesk.services import Services

SECTOR_FILE = Path("ap03_sector_etfs_vix") / "sector_etfs_daily.csv.gz"


@pytest.fixture
def sector_services(services: Services, shared_data: Path, tmp_path: Path) -> Services:
    """The sector ETFs from 2012 on (enough for 12-1 at the end of 2013 and later)."""
    frame = pd.read_csv(shared_data / SECTOR_FILE)
    path = tmp_path / "sector_etfs.csv"
    frame[frame["date"] >= "2012-01-01"].to_csv(path, index=False)
    services.data.import_files([path])
    return services


def independent_momentum(shared_data: Path, day: str) -> pd.Series:
    """12-1 momentum by plain pandas: adj_close[t-21] / adj_close[t-252] - 1 on trading rows."""
    frame = pd.read_csv(shared_data / SECTOR_FILE, parse_dates=["date"])
    frame = frame[frame["date"] >= "2012-01-01"]
    prices = frame.pivot(index="date", columns="symbol", values="adj_close").sort_index()
    t = prices.index.get_indexer([pd.Timestamp(day)], method="pad")[0]
    return (prices.iloc[t - 21] / prices.iloc[t - 252] - 1).dropna()


def test_sector_momentum_ranks_like_pandas_and_spends_at_most_cash(
    sector_services: Services, shared_data: Path
) -> None:
    research = sector_services.research
    signal = research.sector_momentum_signal(date="2019-12-31", cash=100_000, top_n=3)

    expected = independent_momentum(shared_data, "2019-12-31").sort_values(ascending=False)
    ranked = signal.ranking.dropna(subset=["rank"])
    assert signal.date == date(2019, 12, 31)
    assert ranked["symbol"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(ranked["momentum_pct"], expected.to_numpy() * 100, rtol=1e-12)
    assert len(ranked) == len(signal.ranking) == 11  # XLC and XLRE have 12 months by then

    assert signal.selected == tuple(expected.index[:3])
    assert signal.target_weights == dict.fromkeys(expected.index[:3], pytest.approx(1 / 3))
    buys = signal.plan.buys
    assert {t.symbol for t in buys} == set(signal.selected)
    spent = sum((t.notional for t in buys), Decimal(0))
    assert spent <= Decimal(100_000)
    assert signal.plan.cash_after == Decimal(100_000) - spent
    assert all(t.shares == t.shares.to_integral_value() for t in buys)
    for trade in buys:  # each buy is the whole shares a third of the cash affords
        assert trade.shares == int(Decimal(100_000) / 3 / trade.price)
    assert "Trade list" in signal.report
    assert all(symbol in signal.report for symbol in signal.selected)

    stored = research.signals("sector-rotation", signal.date)
    assert len(stored) == 11
    assert set(stored.loc[stored["action"] == "buy", "symbol"]) == set(signal.selected)
    research.sector_momentum_signal(date="2019-12-31", cash=100_000, top_n=3)
    assert len(research.signals("sector-rotation")) == 11  # recomputed, not duplicated


def test_sector_momentum_sells_what_is_no_longer_selected(sector_services: Services) -> None:
    research = sector_services.research
    first = research.sector_momentum_signal(date="2016-06-30", cash=50_000, top_n=2)
    loser = first.ranking["symbol"].iloc[-1]
    signal = research.sector_momentum_signal(
        date="2016-06-30", cash=0, top_n=2, positions={loser: 500}
    )
    sells = signal.plan.sells
    assert [(t.symbol, t.shares) for t in sells] == [(loser, Decimal(500))]
    assert sum((t.notional for t in signal.plan.buys), Decimal(0)) <= sells[0].notional

    with pytest.raises(NotFoundError, match="NOPE"):
        research.sector_momentum_signal(symbols=["XLK", "NOPE"])
    with pytest.raises(NotFoundError, match="1990-01-31"):
        research.sector_momentum_signal(date="1990-01-31")


def test_recommend_with_each_optimizer(sample_services: Services) -> None:
    research = sample_services.research
    for optimizer in ("equal", "rank", "inverse-vol", "mvo", "hrp"):
        result = research.recommend(optimizer, 5, date="2012-12-31")

        assert result.date == date(2012, 12, 31)
        assert result.optimizer == optimizer
        assert len(result.weights) == 5  # the five best names, whatever their weights
        top5 = research.top_n("2012-12-31", 5)
        assert set(result.weights["symbol"]) == set(top5["symbol"])
        total = result.weights["weight"].sum()
        assert total <= 1 + 1e-9
        assert (result.weights["weight"] >= 0).all()
        assert result.cash_weight == pytest.approx(max(0.0, 1 - total))
        if optimizer != "mvo":  # mean-variance may leave names at zero
            assert (result.weights["weight"] > 0).all()
        stored = research.signals(result.strategy, result.date)
        held = result.weights.loc[result.weights["weight"] > 0, "symbol"]
        assert set(stored["symbol"]) == set(held)
        np.testing.assert_allclose(stored["target_weight"].sum(), total)

    with pytest.raises(ResearchInputError, match="did you mean 'hrp'"):
        research.recommend("hrpp", 5)
    capped = research.recommend("rank", 4, date="2012-12-31", max_weight=0.2)
    assert capped.weights["weight"].max() <= 0.2 + 1e-12
    assert capped.cash_weight == pytest.approx(0.2)


def test_sector_momentum_with_no_eligible_etf_says_why(sector_services: Services) -> None:
    """Regression: a date before any ETF had a year of history (2006-06-30 on the full file)
    returned an empty ranking with no reason."""
    signal = sector_services.research.sector_momentum_signal("2012-06-29")
    assert signal.selected == ()
    assert signal.plan.trades == ()
    assert signal.reason is not None
    assert "no ETF is eligible on 2012-06-29" in signal.reason
    assert "252 trading days" in signal.reason
    assert "2012-01-03" in signal.reason  # where the data starts
    assert signal.to_dict()["reason"] == signal.reason
    assert signal.reason in signal.report

    ranked = sector_services.research.sector_momentum_signal("2013-12-31")
    assert ranked.reason is None
