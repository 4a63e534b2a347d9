"""The staleness rule of stored scores: which date is scored, and that nothing is erased."""

from __future__ import annotations

from datetime import date

import pandas as pd

from quantdesk.services import Services

STOCKS_END = date(2022, 12, 28)  # the sample's stocks end here; the index is extended below


def _extend_index(services: Services) -> None:
    """The benchmark index gets bars after every stock (as an index or ETF often does)."""
    bars = pd.DataFrame(
        {
            "symbol": ["SP500", "SP500"],
            "date": ["2023-03-01", "2023-03-02"],
            "close": [4000.0, 4001.0],
        }
    )
    services.data.import_frame(bars, source="test", target="late index bars")


def test_second_scores_keeps_the_newest_scores_when_an_index_has_later_bars(
    sample_services: Services,
) -> None:
    _extend_index(sample_services)
    research = sample_services.research

    first = research.current_scores(top=5)
    assert first.computed is not None
    assert first.date == first.data_date == STOCKS_END  # the universe's newest date
    newest = research.latest_scores()
    assert newest["date"].iloc[0] == STOCKS_END
    assert len(newest) > 10

    second = research.current_scores(top=5)
    assert second.computed is None  # nothing stale: shown, not recomputed
    assert second.date == STOCKS_END
    assert second.note is None
    pd.testing.assert_frame_equal(research.latest_scores(), newest)

    recommendation = research.recommend("equal", 3)
    assert recommendation.date == recommendation.data_date == STOCKS_END
    assert recommendation.to_dict()["data_date"] == STOCKS_END.isoformat()


def test_a_date_that_scores_nothing_never_erases_stored_scores(sample_services: Services) -> None:
    research = sample_services.research
    research.compute_scores(dates=[STOCKS_END])
    stored = research.latest_scores(date=STOCKS_END)
    assert len(stored) > 10

    # Scored with the history window of a much later date, nothing on the stocks' last day
    # has a full lookback: the result is empty, and the stored set must survive it.
    empty = research.compute_scores(dates=["2023-03-02"])
    assert empty.rows_written == 0
    assert empty.dates_without_scores == (STOCKS_END,)
    pd.testing.assert_frame_equal(research.latest_scores(date=STOCKS_END), stored)


def test_stale_scores_are_refreshed_on_the_universe_data_date_and_the_date_is_named(
    sample_services: Services,
) -> None:
    research = sample_services.research
    research.compute_scores(dates=["2022-11-30"])
    kept = research.current_scores(compute=False)
    assert kept.date == date(2022, 11, 30)
    assert kept.data_date == STOCKS_END
    assert kept.note is not None
    assert "2022-11-30" in kept.note
    assert str(STOCKS_END) in kept.note

    refreshed = research.current_scores()
    assert refreshed.computed is not None
    assert refreshed.computed.dates == (STOCKS_END,)
    assert refreshed.date == STOCKS_END
    assert refreshed.note is None


def test_weight_coverage_is_stored_and_read_back_per_score(sample_services: Services) -> None:
    research = sample_services.research
    computed = research.compute_scores(dates=[STOCKS_END])
    stored = research.latest_scores(date=STOCKS_END)
    assert stored["weight_coverage"].notna().all()
    # the sample has no earnings: RS 40 % + price 25 % (+ volume 5 % for IBM and GOOG)
    assert set(stored["weight_coverage"].round(6)) <= {0.65, 0.70}
    assert (stored["weight_coverage"] >= 0.6).all()
    by_symbol = computed.frame.set_index("symbol")["weight_coverage"]
    pd.testing.assert_series_equal(
        stored.set_index("symbol")["weight_coverage"], by_symbol.loc[stored["symbol"]]
    )
    history = research.score_history("AAPL")
    assert history["weight_coverage"].notna().all()
