"""check_quality on hand-built bars frames, plus the real shared parquet (slow)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import DataValidationError, InvalidRequestError
from quantdesk.data.calendar import TradingCalendar
from quantdesk.data.quality import IssueKind, QualityReport, check_quality, check_quality_columns

# Sessions 2024-07-01 .. 2024-07-10 (07-04 is a holiday): 1, 2, 3, 5, 8, 9, 10.
SESSIONS = ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08", "2024-07-09"]
AS_OF = date(2024, 7, 9)
SHARED_PARQUET = Path(__file__).parents[3].parent / "shared" / "data" / "us_equities_daily.parquet"


@pytest.fixture(scope="module")
def nyse() -> TradingCalendar:
    return TradingCalendar("XNYS")


def bars(symbol: str, days: list[str], close: list[float], **fields: list[float]) -> pd.DataFrame:
    """Daily bars with open=close, high=close+1, low=close-1 unless given."""
    close_array = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {
            "symbol": symbol,
            "ts": pd.to_datetime(days).tz_localize("UTC"),
            "open": fields.get("open", close_array),
            "high": fields.get("high", close_array + 1),
            "low": fields.get("low", close_array - 1),
            "close": close_array,
            "volume": fields.get("volume", np.full(len(days), 1000.0)),
            "adj_close": fields.get("adj_close", close_array),
        }
    )


def clean() -> pd.DataFrame:
    return pd.concat(
        [bars("AAA", SESSIONS, [10, 11, 12, 11, 12, 13]), bars("BBB", SESSIONS, [50.0] * 6)],
        ignore_index=True,
    )


def test_clean_data_passes_with_summary_counts(nyse: TradingCalendar) -> None:
    report = check_quality(clean(), nyse, AS_OF)
    assert report.ok
    assert report.error_count == 0
    assert report.warning_count == 0
    assert (report.symbols, report.bars) == (2, 12)
    assert (report.first_date, report.last_date) == (date(2024, 7, 1), date(2024, 7, 9))
    assert report.skipped_checks == ()


def test_bad_values_are_counted_per_cell_with_examples(nyse: TradingCalendar) -> None:
    frame = clean()
    frame.loc[1, "close"] = np.nan
    frame.loc[2, "low"] = -1.0
    frame.loc[7, ["high", "low"]] = [49.0, 51.0]
    frame.loc[8, "open"] = 60.0  # above high 51
    report = check_quality(frame, nyse, AS_OF)
    assert not report.ok
    missing = report.issue(IssueKind.MISSING_PRICE)
    assert (missing.count, missing.symbols) == (1, 1)
    example = missing.examples[0]
    assert (example.symbol, example.field) == ("AAA", "close")
    assert example.ts == datetime(2024, 7, 2, tzinfo=UTC)
    non_positive = report.issue(IssueKind.NON_POSITIVE_PRICE)
    assert non_positive.count == 1
    assert non_positive.examples[0].value == -1.0
    inverted = report.issue(IssueKind.HIGH_BELOW_LOW)
    assert inverted.count == 1
    assert inverted.examples[0].symbol == "BBB"
    outside = report.issue(IssueKind.OUTSIDE_HIGH_LOW)
    assert outside.count == 1
    assert (outside.examples[0].field, outside.examples[0].value) == ("open", 60.0)
    assert report.error_count == 4


def test_duplicates_are_counted_once_and_told_apart(nyse: TradingCalendar) -> None:
    frame = clean()
    same = frame.iloc[[0]]
    conflicting = frame.iloc[[6]].assign(close=51.0)
    report = check_quality(pd.concat([frame, same, conflicting]), nyse, AS_OF)
    duplicates = report.issue(IssueKind.DUPLICATE_BAR)
    assert (duplicates.count, duplicates.symbols) == (2, 2)
    notes = sorted(example.note for example in duplicates.examples)
    assert notes == ["conflicts with the previous bar", "identical to the previous bar"]
    # a duplicate is not also a gap or a jump
    assert report.issue(IssueKind.MISSING_SESSION).count == 0


def test_gaps_count_missing_sessions_but_not_holidays(nyse: TradingCalendar) -> None:
    days = ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-09"]  # 07-05, 07-08 missing
    frame = pd.concat([bars("AAA", days, [10, 10, 10, 10]), bars("BBB", SESSIONS, [5.0] * 6)])
    report = check_quality(frame, nyse, AS_OF)
    gaps = report.issue(IssueKind.MISSING_SESSION)
    assert (gaps.count, gaps.symbols) == (2, 1)
    assert report.missing_sessions_by_symbol == {"AAA": 2}
    assert gaps.examples[0].ts == datetime(2024, 7, 5, tzinfo=UTC)
    assert "2024-07-05 to 2024-07-08" in gaps.examples[0].note
    assert report.ok  # gaps are warnings


def test_a_bar_on_a_holiday_is_off_calendar(nyse: TradingCalendar) -> None:
    frame = pd.concat([clean(), bars("AAA", ["2024-07-04"], [11.5])])
    off = check_quality(frame, nyse, AS_OF).issue(IssueKind.OFF_CALENDAR_BAR)
    assert off.count == 1
    assert off.examples[0].ts == datetime(2024, 7, 4, tzinfo=UTC)


def test_halving_close_with_steady_adj_close_is_a_likely_split(nyse: TradingCalendar) -> None:
    close = [100.0, 101.0, 50.0, 51.0, 50.0, 50.0]
    adjusted = [50.0, 50.5, 50.0, 51.0, 50.0, 50.0]
    crash = [100.0, 100.0, 50.0, 50.0, 65.0, 64.0]  # -50 %, then +30 % (below 40 %)
    frame = pd.concat(
        [
            bars("SPLT", SESSIONS, close, adj_close=adjusted),
            bars("CRSH", SESSIONS, crash),
        ]
    )
    report = check_quality(frame, nyse, AS_OF)
    split = report.issue(IssueKind.UNADJUSTED_SPLIT)
    assert (split.count, split.examples[0].symbol) == (1, "SPLT")
    assert split.examples[0].ts == datetime(2024, 7, 3, tzinfo=UTC)
    assert "2:1 split" in split.examples[0].note
    jump = report.issue(IssueKind.PRICE_JUMP)
    assert (jump.count, jump.examples[0].symbol) == (1, "CRSH")
    assert "-50.0%" in jump.examples[0].note


def test_reverse_split_without_adj_close_is_flagged(nyse: TradingCalendar) -> None:
    close = [1.0, 1.02, 10.1, 10.0, 10.0, 10.0]
    frame = bars("REV", SESSIONS, close, adj_close=[np.nan] * 6)
    split = check_quality(frame, nyse, AS_OF).issue(IssueKind.UNADJUSTED_SPLIT)
    assert split.count == 1
    assert "1:10 reverse split" in split.examples[0].note


def test_jump_threshold_is_a_fraction(nyse: TradingCalendar) -> None:
    frame = bars("AAA", SESSIONS, [100, 100, 130, 130, 130, 130])
    assert check_quality(frame, nyse, AS_OF).issue(IssueKind.PRICE_JUMP).count == 0
    lower = check_quality(frame, nyse, AS_OF, jump_threshold=0.25)
    assert lower.issue(IssueKind.PRICE_JUMP).count == 1


def test_stale_means_more_than_n_sessions_behind_the_newest_data(nyse: TradingCalendar) -> None:
    # The newest bar is LEAD's 07-10: OLD (last 07-01) is 6 sessions behind (2, 3, 5, 8, 9,
    # 10); NEW (07-02) is 5 behind, within the allowance.
    frame = pd.concat(
        [
            bars("OLD", ["2024-06-28", "2024-07-01"], [5, 5]),
            bars("NEW", ["2024-07-02"], [5]),
            bars("LEAD", ["2024-07-10"], [5]),
        ]
    )
    report = check_quality(frame, nyse, date(2024, 7, 10), stale_after_days=5)
    stale = report.issue(IssueKind.STALE_SYMBOL)
    assert stale.count == 1
    assert report.stale_symbols == {"OLD": date(2024, 7, 1)}
    assert stale.examples[0].value == 6.0
    assert report.reference_date == date(2024, 7, 10)


def test_historical_data_is_not_stale_against_the_wall_clock(nyse: TradingCalendar) -> None:
    # regression: every symbol of a 2021 database was "stale" when checked in 2026
    frame = pd.concat([bars("AAA", SESSIONS, [5.0] * 6), bars("BBB", SESSIONS[:-3], [5.0] * 3)])
    report = check_quality(frame, nyse, date(2026, 11, 29), stale_after_days=2)
    assert report.stale_symbols == {"BBB": date(2024, 7, 3)}  # 3 sessions behind AAA
    assert report.reference_date == date(2024, 7, 9)


def test_without_a_calendar_gap_checks_are_skipped_and_staleness_uses_weekdays() -> None:
    frame = pd.concat([bars("OLD", ["2024-07-01"], [5]), bars("NEW", ["2024-07-09"], [5])])
    report = check_quality(frame, None, date(2024, 7, 9), stale_after_days=5)
    assert set(report.skipped_checks) == {IssueKind.MISSING_SESSION, IssueKind.OFF_CALENDAR_BAR}
    # weekdays 07-02 .. 07-09 = 6 (the holiday counts without a calendar)
    assert report.issue(IssueKind.STALE_SYMBOL).examples[0].value == 6.0
    assert report.to_dict()["skipped_checks"] == ["off_calendar_bar", "missing_session"]


def test_to_dict_is_strict_json(nyse: TradingCalendar) -> None:
    frame = clean()
    frame.loc[0, "open"] = np.nan
    payload = check_quality(frame, nyse, AS_OF).to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text)["issues"]["missing_price"]["examples"][0]["value"] is None
    assert payload["summary"]["first_date"] == "2024-07-01"
    assert payload["ok"] is False


def test_empty_frame_reports_nothing(nyse: TradingCalendar) -> None:
    report = check_quality(clean().iloc[:0], nyse, AS_OF)
    assert (report.bars, report.symbols, report.first_date) == (0, 0, None)
    assert report.ok


def test_frames_breaking_the_bars_contract_are_refused(nyse: TradingCalendar) -> None:
    with pytest.raises(DataValidationError, match="field 'adj_close': column is missing"):
        check_quality(clean().drop(columns="adj_close"), nyse, AS_OF)
    naive = clean().assign(ts=lambda f: f["ts"].dt.tz_localize(None))
    with pytest.raises(DataValidationError, match="field 'ts': must be timezone-aware"):
        check_quality(naive, nyse, AS_OF)
    text = clean().assign(close="n/a")
    with pytest.raises(DataValidationError, match="field 'close': values are not numeric"):
        check_quality(text, nyse, AS_OF)
    with pytest.raises(ValueError, match="jump_threshold"):
        check_quality(clean(), nyse, AS_OF, jump_threshold=0)


@pytest.mark.slow
def test_real_us_equities_file(nyse: TradingCalendar) -> None:
    raw = pd.read_parquet(SHARED_PARQUET)
    frame = pd.DataFrame(
        {
            "symbol": raw["symbol"],
            "ts": raw["date"].dt.tz_localize("UTC"),
            **{
                name: raw[name].astype("float64")
                for name in ("open", "high", "low", "close", "volume", "adj_close")
            },
        }
    )
    report: QualityReport = check_quality(frame, nyse, date(2021, 12, 30))
    assert (report.bars, report.symbols) == (2_441_594, 515)
    assert report.ok
    # Stocks end 2021-04-21, the sector ETFs 2021-12-30.
    assert report.issue(IssueKind.STALE_SYMBOL).count == 504
    split_symbols = {e.symbol for e in report.issue(IssueKind.UNADJUSTED_SPLIT).examples}
    assert "GOOGL" in split_symbols  # 2014-04-03 class C share distribution


def as_columns(frame: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray, dict]:
    """The frame as the database hands bars to ``data check``: symbol codes, Unix seconds."""
    codes, names = pd.factorize(frame["symbol"], sort=True)
    seconds = frame["ts"].dt.tz_convert(None).to_numpy().astype("datetime64[s]").astype(np.int64)
    fields = ("open", "high", "low", "close", "volume", "adj_close")
    return list(names), codes, seconds, {f: frame[f].to_numpy(dtype=float) for f in fields}


def messy() -> pd.DataFrame:
    """Every kind of finding at once, rows out of order."""
    frame = pd.concat(
        [
            bars("AAA", SESSIONS, [10, 11, 12, 11, 12, 13]),
            bars("BBB", [*SESSIONS[:3], SESSIONS[2], "2024-07-04"], [50.0, 100.0, 50, 51, 50]),
            bars("CCC", ["1850-01-02", "2024-07-01", "2024-07-09"], [1.0, 2.0, 20.0]),
            bars("DDD", SESSIONS[:2], [5.0, 2.5], adj_close=[5.0, 5.0]),
        ],
        ignore_index=True,
    )
    frame.loc[1, "close"] = np.nan
    frame.loc[2, "low"] = -1.0
    frame.loc[7, ["high", "low"]] = [49.0, 51.0]
    frame.loc[8, "open"] = 60.0
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


@pytest.mark.parametrize("make", [clean, messy])
def test_the_columns_check_reports_what_the_frame_check_reports(
    nyse: TradingCalendar, make: object
) -> None:
    frame = make()  # type: ignore[operator]
    names, codes, seconds, values = as_columns(frame)
    for calendar in (nyse, None):
        expected = check_quality(frame, calendar, AS_OF, stale_after_days=1).to_dict()
        found = check_quality_columns(
            names, codes, seconds, values, calendar, AS_OF, stale_after_days=1
        ).to_dict()
        assert found == expected
    if make is messy:
        assert expected["summary"]["errors"] > 0
        assert {"duplicate_bar", "date_out_of_range", "unadjusted_split"} <= {
            k for k, v in expected["issues"].items() if v["count"]
        }


def test_the_columns_check_refuses_bad_options(nyse: TradingCalendar) -> None:
    names, codes, seconds, values = as_columns(clean())
    with pytest.raises(InvalidRequestError, match="stale_after_days"):
        check_quality_columns(names, codes, seconds, values, nyse, AS_OF, stale_after_days=-1)
