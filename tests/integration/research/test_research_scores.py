"""Stored factor scores on the offline sample: idempotent recompute, ranks, queries, universes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import NotFoundError
from quantdesk.research import ResearchInputError, UniverseError
from quantdesk.services import Services


def _stored_rows(services: Services) -> int:
    from quantdesk.db.repositories import research as research_repo

    with services.database.read() as connection:
        return research_repo.count_scores(connection, "momentum-composite")


def test_scores_are_stored_and_recomputed_idempotently(sample_services: Services) -> None:
    research = sample_services.research
    first = research.compute_scores()

    assert first.benchmark == "SP500"
    assert first.universe == "all"
    assert "SP500" not in set(first.frame["symbol"])  # an index is a benchmark, not a member
    assert first.rows_written == len(first.frame) == _stored_rows(sample_services)
    assert first.dates[0] == date(1990, 1, 31)
    assert set(first.components) == {"relative_strength", "price_momentum", "volume_momentum"}
    assert first.symbols_per_component["volume_momentum"] == 2  # only IBM and GOOG have volume

    again = research.compute_scores()
    assert _stored_rows(sample_services) == first.rows_written
    pd.testing.assert_frame_equal(first.frame, again.frame)

    latest = research.latest_scores()
    assert latest["date"].nunique() == 1
    assert latest["date"].iloc[0] == first.dates[-1]
    stored = first.frame[first.frame["date"] == first.dates[-1]].sort_values("rank")
    np.testing.assert_allclose(latest["score"], stored["score"])
    assert latest["rank"].tolist() == list(range(1, len(latest) + 1))
    assert latest["score"].is_monotonic_decreasing  # rank 1 = best score
    for _, group in latest.groupby("sector"):
        ordered = group.sort_values("sector_rank")
        assert ordered["sector_rank"].tolist() == list(range(1, len(group) + 1))
        assert ordered["score"].is_monotonic_decreasing
    for _, day in first.frame.groupby("date"):
        expected = day["score"].rank(ascending=False, method="first").astype(int)
        assert day["rank"].tolist() == expected.tolist()

    # Scoring one date loads only the history it needs, and scores exactly as the full run.
    single = research.compute_scores(dates=["2008-09-30"])
    assert single.dates == (date(2008, 9, 30),)
    expected = first.frame[first.frame["date"] == date(2008, 9, 30)].reset_index(drop=True)
    assert single.frame["symbol"].tolist() == expected["symbol"].tolist()
    np.testing.assert_allclose(single.frame["score"], expected["score"], rtol=1e-12)
    assert single.frame["rank"].tolist() == expected["rank"].tolist()
    assert _stored_rows(sample_services) == first.rows_written


def test_queries_top_n_history_and_as_of_dates(sample_services: Services) -> None:
    research = sample_services.research
    research.compute_scores(dates=["2010-06-30", "2011-06-30", "2011-12-30"])

    top = research.top_n("2011-09-15", 3)
    assert len(top) == 3
    assert set(top["date"]) == {date(2011, 6, 30)}  # latest stored on or before the date
    assert top["rank"].tolist() == [1, 2, 3]

    assert research.latest_scores(date="2009-01-01").empty
    only = research.latest_scores(universe="AAPL,MSFT")
    assert set(only["symbol"]) == {"AAPL", "MSFT"}

    history = research.score_history("AAPL")
    assert history["date"].tolist() == [date(2010, 6, 30), date(2011, 6, 30), date(2011, 12, 30)]
    assert history["score"].notna().all()
    assert {"relative_strength_raw", "price_momentum_raw"} <= set(history.columns)
    assert research.stored_dates() == history["date"].tolist()

    with pytest.raises(NotFoundError, match="NOPE"):
        research.score_history("NOPE")
    with pytest.raises(NotFoundError, match="NOPE"):
        research.compute_scores(universe="AAPL,NOPE")
    with pytest.raises(ResearchInputError, match="unknown score set"):
        research.latest_scores("momentum")
    with pytest.raises(ResearchInputError, match="before the first price date"):
        research.compute_scores(dates=["1900-01-31", "2010-06-30"])
    with pytest.raises(NotFoundError, match="1900-01-31"):
        research.compute_scores(dates=["1900-01-31"])


def test_index_universe_scores_members_at_each_date_only(sample_services: Services) -> None:
    research = sample_services.research
    with pytest.raises(UniverseError, match="sp500"):
        research.compute_scores(universe="index:sp500", dates=["2015-06-30"])
    sample_services.reference.import_membership(("sp500",))

    table = research.compute_scores(
        universe="index:sp500", dates=["2012-06-29", "2015-06-30", "2019-06-28"]
    )
    symbols = {day: set(group["symbol"]) for day, group in table.frame.groupby("date")}
    # AMD left the S&P 500 on 2013-09-20 and came back on 2017-03-20; RRC left on 2018-06-18.
    assert "AMD" in symbols[date(2012, 6, 29)]
    assert "AMD" not in symbols[date(2015, 6, 30)]
    assert "AMD" in symbols[date(2019, 6, 28)]
    assert "RRC" in symbols[date(2015, 6, 30)]
    assert "RRC" not in symbols[date(2019, 6, 28)]
    for _, group in table.frame.groupby("date"):
        # Ranks at t only see the members at t: 1..k without gaps.
        assert sorted(group["rank"].astype(int)) == list(range(1, len(group) + 1))
    assert table.universe == "index:sp500"


def test_etf_factor_set_and_equal_weight_benchmark(services: Services, tmp_path) -> None:
    rows = ["date,symbol,close"]
    days = pd.bdate_range("2020-01-01", periods=300)
    rng = np.random.default_rng(7)
    for symbol in ("AAA", "BBB", "CCC"):
        prices = 50 * np.cumprod(1 + rng.normal(0.0005, 0.01, len(days)))
        rows += [f"{d.date()},{symbol},{p:.4f}" for d, p in zip(days, prices, strict=True)]
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(rows) + "\n")
    services.data.import_files([path])

    momentum = services.research.compute_scores(dates=[days[-1].date()])
    assert momentum.benchmark == "equal-weight universe average"
    assert len(momentum.frame) == 3

    etf = services.research.compute_scores("etf-factor", universe="AAA,BBB,CCC")
    assert etf.components == ("momentum", "quality", "value", "volatility")
    assert etf.frame["date"].iloc[-1] == days[-1].date()
    latest = services.research.latest_scores("etf-factor")
    assert latest["rank"].tolist() == [1, 2, 3]
