"""Earnings CSV parsing: the messy Kaggle file and quantdesk's own format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from quantdesk.core.errors import DataValidationError
from quantdesk.data.fundamentals import (
    EarningsCleaning,
    parse_earnings_csv,
    parse_kaggle_earnings,
)
from quantdesk.data.ports import EARNINGS_COLUMNS

KAGGLE_HEADER = "symbol,date,qtr,eps_est,eps,release_time,surp\n"
SHARED_KAGGLE = (
    Path(__file__).parents[3].parent
    / "shared"
    / "data"
    / "kaggle_us_earnings_2012_2019"
    / "earnings_latest.csv"
)


def write(tmp_path: Path, text: str, name: str = "earnings.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


MESSY = KAGGLE_HEADER + (
    "A,11/19/12,12-Oct,0.8,0.84,post,0.04\n"  # line 2: fine
    "A,2/14/13,NULL,0.66,0.63,post,-0.03\n"  # 3: unknown quarter, kept
    "A,2/14/13,NULL,0.66,0.63,post,-0.03\n"  # 4: exact duplicate of line 3
    "B,5/6/15,Q2,-46,-61.2,,-15.2\n"  # 5: odd quarter, no release time
    "DCIX,7/29/13,13-Jun,-987.54,-987.54,pre,0\n"  # 6: |eps| > 100
    "C,13/45/19,19-Jun,1,1,pre,0\n"  # 7: bad date
    "D,5/1/19,19-Mar,1,abc,pre,0\n"  # 8: bad eps
    "E,5/1/19,19-Mar,1,1.10,pre,0.1\n"  # 9 and 10: conflicting eps on one date
    "E,5/1/19,19-Mar,1,1.20,pre,0.2\n"
    "BRK.B,8/3/19,19-Jun,3.1,2.79,pre,-0.31\n"  # 11: share class
    "AZO,5/21/19,19-May,15.142,15.99,pre,0.848\n"  # 12: period 'ends' after the report
)


def test_messy_kaggle_rows_are_parsed_cleaned_and_reported(tmp_path: Path) -> None:
    frame, report = parse_kaggle_earnings(write(tmp_path, MESSY))
    assert tuple(frame.columns) == EARNINGS_COLUMNS
    assert list(frame["symbol"]) == ["A", "A", "AZO", "B", "BRK-B"]
    first = frame.iloc[0]
    assert first["report_date"] == pd.Timestamp("2012-11-19")
    assert first["fiscal_period_end"] == pd.Timestamp("2012-10-31")
    assert (first["eps"], first["eps_estimate"], first["release_time"]) == (0.84, 0.8, "post")
    assert pd.isna(frame.iloc[1]["fiscal_period_end"])
    b = frame.iloc[3]
    assert (b["release_time"], b["eps"], pd.isna(b["fiscal_period_end"])) == (None, -61.2, True)
    assert pd.isna(frame.iloc[2]["fiscal_period_end"])  # AZO May end is after 2019-05-21

    assert (report.rows_read, report.rows_kept, report.rows_dropped) == (11, 5, 5)
    assert report.duplicates_collapsed == 1
    assert report.dropped == {
        "eps_out_of_range": 1,
        "bad_report_date": 1,
        "bad_eps": 1,
        "conflicting_duplicate": 2,
    }
    assert report.blanked == {"fiscal_period_unknown": 3, "fiscal_period_after_report": 1}
    lines = {reason: [e.line for e in found] for reason, found in report.examples.items()}
    assert lines["bad_report_date"] == [7]
    assert lines["bad_eps"] == [8]
    assert lines["conflicting_duplicate"] == [9, 10]
    assert lines["eps_out_of_range"] == [6]
    assert report.examples["bad_eps"][0].value == "abc"
    json.dumps(report.to_dict(), allow_nan=False)


def test_strict_mode_names_file_row_symbol_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, MESSY)
    with pytest.raises(DataValidationError) as caught:
        parse_kaggle_earnings(path, strict=True)
    problems = caught.value.problems
    assert [(p.row, p.symbol, p.field) for p in problems] == [
        (7, "C", "date"),
        (8, "D", "eps"),
        (9, "E", "eps"),
        (10, "E", "eps"),
    ]
    assert str(path) in str(caught.value)
    assert "'13/45/19'" in str(caught.value)


def test_outlier_cleaning_never_looks_ahead(tmp_path: Path) -> None:
    """Regression: the robust rule used the symbol's whole file, so keeping a 2015 report
    depended on what was reported years later. A report is judged by earlier reports only."""
    steady = [f"Q,{m}/1/15,15-Jan,1.0,1.0,pre,0\n" for m in range(1, 9)]  # 8 quarters at 1.00
    jump = "Q,10/1/15,15-Oct,1.0,3.5,pre,0\n"  # far from 1.00: dropped
    before = parse_kaggle_earnings(write(tmp_path, KAGGLE_HEADER + "".join(steady) + jump))[0]
    # later the company really earns 3-4 a quarter; the October 2015 verdict must not change
    later = [f"Q,{m}/1/17,17-Jan,3.5,{3.0 + m / 10},pre,0\n" for m in range(1, 10)]
    after = parse_kaggle_earnings(
        write(tmp_path, KAGGLE_HEADER + "".join(steady) + jump + "".join(later), "later.csv")
    )[0]
    cut = pd.Timestamp("2015-12-31")
    assert 3.5 not in before["eps"].tolist()
    pd.testing.assert_frame_equal(
        after[after["report_date"] <= cut].reset_index(drop=True), before.reset_index(drop=True)
    )


def test_strict_mode_still_drops_outliers_but_accepts_unknown_quarters(tmp_path: Path) -> None:
    text = KAGGLE_HEADER + "A,2/14/13,Q1,0.66,0.63,post,0\nX,2/14/13,12-Dec,1,500,pre,499\n"
    frame, report = parse_kaggle_earnings(write(tmp_path, text), strict=True)
    assert list(frame["symbol"]) == ["A"]
    assert report.dropped == {"eps_out_of_range": 1}


def test_robust_outlier_needs_history_and_a_far_value(tmp_path: Path) -> None:
    quarters = [
        f"Q,{m}/1/15,15-Jan,1.0,{eps},pre,0\n"
        for m, eps in zip(range(1, 10), [1.0, 1.1, 0.9, 1.0, 1.2, 1.0, 0.9, 1.1, 9.0], strict=True)
    ]
    frame, report = parse_kaggle_earnings(write(tmp_path, KAGGLE_HEADER + "".join(quarters)))
    # median 1.0, MAD 0.1 -> scale 0.148; (9.0 - 1.0) / 0.148 = 54 > 20
    assert report.dropped == {"eps_robust_outlier": 1}
    assert frame["eps"].max() == 1.2
    short = parse_kaggle_earnings(
        write(tmp_path, KAGGLE_HEADER + "".join(quarters[-5:]), "short.csv")
    )[1]
    assert short.rows_dropped == 0  # 5 quarters < min_quarters=8: too little history to judge
    lenient = EarningsCleaning(robust_z=None)
    assert parse_kaggle_earnings(tmp_path / "earnings.csv", cleaning=lenient)[1].rows_dropped == 0


def test_missing_column_and_empty_file_are_refused(tmp_path: Path) -> None:
    no_eps = write(tmp_path, "symbol,date,qtr,eps_est,release_time\nA,1/2/13,12-Dec,1,pre\n")
    with pytest.raises(DataValidationError, match="field 'eps': column is missing"):
        parse_kaggle_earnings(no_eps)
    with pytest.raises(DataValidationError, match="file is empty"):
        parse_kaggle_earnings(write(tmp_path, "", "empty.csv"))
    frame, report = parse_kaggle_earnings(write(tmp_path, KAGGLE_HEADER, "header.csv"))
    assert frame.empty
    assert tuple(frame.columns) == EARNINGS_COLUMNS
    assert report.rows_read == 0


OWN = (
    "symbol,fiscal_period_end,report_date,release_time,eps,eps_estimate\n"
    "AAPL,2019-06-30,2019-07-30,post,2.18,2.10\n"
    "MSFT,,2019-07-18,,1.37,\n"
)


def test_own_format_round_trips_into_the_earnings_frame(tmp_path: Path) -> None:
    frame, report = parse_earnings_csv(write(tmp_path, OWN))
    assert report.rows_kept == 2
    assert frame["report_date"].tolist() == [pd.Timestamp("2019-07-30"), pd.Timestamp("2019-07-18")]
    msft = frame.iloc[1]
    assert pd.isna(msft["fiscal_period_end"])
    assert msft["release_time"] is None
    assert math.isnan(msft["eps_estimate"])
    assert frame["report_date"].dtype == "datetime64[ns]"


def test_own_format_is_strict_by_default_and_lenient_on_request(tmp_path: Path) -> None:
    path = write(tmp_path, OWN + "IBM,2019-06-30,07/17/2019,post,3.17,3.08\n")
    with pytest.raises(DataValidationError, match=r"row 4, symbol IBM, field 'report_date'"):
        parse_earnings_csv(path)
    frame, report = parse_earnings_csv(path, strict=False)
    assert list(frame["symbol"]) == ["AAPL", "MSFT"]
    assert report.dropped == {"bad_report_date": 1}


def test_own_format_needs_exactly_the_frame_columns(tmp_path: Path) -> None:
    extra = write(tmp_path, OWN.replace("eps_estimate\n", "eps_estimate,note\n", 1))
    with pytest.raises(DataValidationError, match="field 'note': unexpected column"):
        parse_earnings_csv(extra)
    missing_date = write(tmp_path, "symbol,eps\nA,1\n", "bad.csv")
    with pytest.raises(DataValidationError, match="field 'report_date': column is missing"):
        parse_earnings_csv(missing_date)


@pytest.mark.slow
def test_real_kaggle_file() -> None:
    frame, report = parse_kaggle_earnings(SHARED_KAGGLE)
    assert report.rows_read == 72_970
    # 48 robust outliers, of which 26 were within 50 % of their consensus estimate: kept
    assert report.dropped == {"eps_out_of_range": 69, "eps_robust_outlier": 22}
    assert report.confirmed_by_consensus == 26
    assert report.blanked["fiscal_period_unknown"] == 1_663  # 695 NULL + 968 "Q1".."Q4"
    assert report.rows_kept == 72_879
    assert frame["eps"].abs().max() <= 100
    assert frame["report_date"].min() == pd.Timestamp("2012-07-16")


def test_genuine_quarters_confirmed_by_the_consensus_are_kept() -> None:
    """Regression: GILD 2015 Q1/Q2 and INTU's April 2015/2016 quarters were dropped as outliers
    although each was within 4-27 % of its consensus estimate, blanking their TTM EPS."""
    frame, report = parse_kaggle_earnings(SHARED_KAGGLE, max_examples=50)
    kept = frame.set_index(["symbol", "report_date"])["eps"]
    for symbol, day, eps in (
        ("GILD", "2015-04-30", 2.94),
        ("GILD", "2015-07-28", 3.15),
        ("INTU", "2015-05-21", 2.85),
        ("INTU", "2016-05-24", 3.43),
    ):
        assert kept[(symbol, pd.Timestamp(day))] == eps
    # what is still dropped says why: the EPS, its z-score and the estimate that disagrees
    dropped = {e.symbol: e for e in report.examples["eps_robust_outlier"]}
    assert "EQR" in dropped  # 10.05 against a consensus of 0.76: a one-off, not a quarter
    assert "consensus 0.76 does not confirm it" in dropped["EQR"].message
    assert "GILD" not in dropped
    assert "INTU" not in dropped


def test_a_far_quarter_without_a_consensus_is_still_dropped(tmp_path: Path) -> None:
    steady = [f"Q,{m}/1/15,15-Jan,1.0,1.0,pre,0\n" for m in range(1, 9)]
    confirmed = "Q,10/1/15,15-Oct,3.2,3.5,pre,0\n"  # far from history, near consensus: kept
    unknown = "Q,11/1/15,15-Nov,,9.5,pre,0\n"  # far, no estimate: dropped
    frame, report = parse_kaggle_earnings(
        write(tmp_path, KAGGLE_HEADER + "".join(steady) + confirmed + unknown)
    )
    assert 3.5 in frame["eps"].tolist()
    assert 9.5 not in frame["eps"].tolist()
    assert report.confirmed_by_consensus == 1
    assert "no consensus estimate" in report.examples["eps_robust_outlier"][0].message
