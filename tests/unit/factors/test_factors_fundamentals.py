"""Point-in-time earnings alignment and the EPS / P/E / value / quality factors, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.factors import (
    FactorInputError,
    align_earnings,
    earnings_yield,
    eps_momentum,
    pe_momentum,
    pe_ratio,
)

DATES = pd.bdate_range("2019-01-01", "2020-12-31")


def _row(date: str) -> int:
    return int(np.flatnonzero(pd.Timestamp(date) == DATES)[0])


def _earnings(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(
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


QUARTERS = _earnings(
    [
        ("AAA", "2019-03-31", "2019-04-24", "post", 1.0, 0.9),  # Wednesday, after close
        ("AAA", "2019-06-30", "2019-07-24", "pre", 2.0, 2.5),  # before the open
        ("AAA", "2019-09-30", "2019-10-26", "pre", 3.0, 2.0),  # a Saturday
        ("AAA", "2019-12-31", "2020-01-29", None, 4.0, 3.0),  # release time unknown
        ("AAA", "2020-03-31", "2020-04-29", "post", 5.0, np.nan),
        ("ZZZ", "2019-03-31", "2019-04-24", "post", 9.0, 9.0),  # not in the panel
    ]
)


def test_known_date_rule_post_pre_weekend_unknown() -> None:
    panels = align_earnings(QUARTERS, DATES, ("AAA", "BBB"))
    latest = panels.latest_eps[:, 0]
    assert np.isnan(latest[_row("2019-04-24")])  # post: not known on the report day
    assert latest[_row("2019-04-25")] == 1.0
    assert latest[_row("2019-07-23")] == 1.0
    assert latest[_row("2019-07-24")] == 2.0  # pre: known on the report day
    assert latest[_row("2019-10-25")] == 2.0
    assert latest[_row("2019-10-28")] == 3.0  # Saturday release: next session
    assert latest[_row("2020-01-29")] == 3.0  # unknown release time counts as after close
    assert latest[_row("2020-01-30")] == 4.0
    assert np.isnan(panels.latest_eps[:, 1]).all()  # a symbol without earnings


def test_ttm_needs_four_consecutive_quarters() -> None:
    panels = align_earnings(QUARTERS, DATES, ("AAA",))
    ttm = panels.ttm_eps[:, 0]
    assert np.isnan(ttm[_row("2020-01-29")])
    assert ttm[_row("2020-01-30")] == 10.0
    assert ttm[_row("2020-04-30")] == 14.0
    gapped = QUARTERS.drop(index=2)  # the September quarter never arrives
    assert np.isnan(align_earnings(gapped, DATES, ("AAA",)).ttm_eps[:, 0]).all()


def test_stale_earnings_expire() -> None:
    panels = align_earnings(QUARTERS, DATES, ("AAA",), max_age_days=200)
    ttm = panels.ttm_eps[:, 0]
    assert ttm[_row("2020-11-13")] == 14.0  # 198 days after 2020-04-29
    assert np.isnan(ttm[_row("2020-11-17")])  # 202 days after


def test_restatement_replaces_from_its_own_known_date() -> None:
    restated = pd.concat(
        [QUARTERS, _earnings([("AAA", "2020-03-31", "2020-05-12", "pre", 6.0, np.nan)])]
    )
    ttm = align_earnings(restated, DATES, ("AAA",)).ttm_eps[:, 0]
    assert ttm[_row("2020-05-11")] == 14.0
    assert ttm[_row("2020-05-12")] == 15.0


def test_quality_panels_hand_worked() -> None:
    panels = align_earnings(QUARTERS, DATES, ("AAA",))
    row = _row("2020-01-30")
    # Four quarters, beats in Q1, Q3, Q4 (1 > 0.9, 3 > 2, 4 > 3), a miss in Q2.
    assert panels.beat_rate[row, 0] == pytest.approx(0.75)
    eps = np.array([1.0, 2.0, 3.0, 4.0])
    assert panels.eps_stability[row, 0] == pytest.approx(-eps.std(ddof=1) / np.abs(eps).mean())
    assert panels.latest_surprise[row, 0] == pytest.approx(1.0)
    # The fifth quarter has no estimate: the beat rate keeps the four estimated ones.
    assert panels.beat_rate[_row("2020-04-30"), 0] == pytest.approx(0.75)
    assert np.isnan(panels.latest_surprise[_row("2020-04-30"), 0])


def test_report_before_first_date_is_known_from_row_zero() -> None:
    panels = align_earnings(QUARTERS, DATES[pd.Timestamp("2020-02-03") <= DATES], ("AAA",))
    assert panels.ttm_eps[0, 0] == 10.0


def test_tz_aware_report_dates_and_missing_optional_columns() -> None:
    frame = QUARTERS[["symbol", "report_date", "eps"]].assign(
        report_date=pd.to_datetime(QUARTERS["report_date"]).dt.tz_localize("UTC")
    )
    panels = align_earnings(frame, DATES, ("AAA",))
    # Without period ends the report dates key the quarters; still four consecutive quarters.
    assert panels.ttm_eps[_row("2020-01-30"), 0] == 10.0
    assert np.isnan(panels.beat_rate).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"report_date": "not a date"}, "report_date"),
        ({"release_time": "lunch"}, "release_time"),
    ],
)
def test_bad_earnings_rows_are_named(change: dict[str, str], message: str) -> None:
    bad = QUARTERS.copy()
    for column, value in change.items():
        bad[column] = bad[column].astype(object)
        bad.loc[3, column] = value
    with pytest.raises(FactorInputError, match=message):
        align_earnings(bad, DATES, ("AAA",))


def test_missing_required_column() -> None:
    with pytest.raises(FactorInputError, match="eps"):
        align_earnings(QUARTERS.drop(columns="eps"), DATES, ("AAA",))


def test_eps_momentum_scales_by_absolute_old_ttm() -> None:
    ttm = np.full((260, 4), np.nan)
    ttm[0] = [2.0, -2.0, 0.0, 1.0]
    ttm[252] = [3.0, -1.0, 1.0, np.nan]
    result = eps_momentum(ttm, 252)
    np.testing.assert_allclose(result[252], [0.5, 0.5, np.nan, np.nan])
    assert np.isnan(result[:252]).all()
    np.testing.assert_array_equal(eps_momentum(ttm, 252, at=[252, 3]), result[[252, 3]])


def test_pe_ratio_momentum_and_earnings_yield() -> None:
    close = np.array([[20.0, 20.0, 30.0], [30.0, 20.0, 30.0]])
    ttm = np.array([[2.0, -1.0, 3.0], [2.0, 1.0, 0.0]])
    np.testing.assert_allclose(pe_ratio(close, ttm), [[10.0, np.nan, 10.0], [15.0, 20.0, np.nan]])
    np.testing.assert_allclose(pe_momentum(close, ttm, 1)[1], [0.5, np.nan, np.nan])
    np.testing.assert_allclose(earnings_yield(close, ttm)[0], [0.1, -0.05, 0.1])
    with pytest.raises(FactorInputError, match="ttm_eps"):
        pe_ratio(close, ttm[:1])
