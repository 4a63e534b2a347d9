"""Index membership history and the point-in-time membership mask."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import NotFoundError
from quantdesk.data.membership import (
    MEMBERSHIP_COLUMNS,
    load_index_membership,
    members_on,
    membership_mask,
)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return load_index_membership()


def test_frame_has_the_documented_columns_for_the_three_us_indices(history: pd.DataFrame) -> None:
    assert tuple(history.columns) == MEMBERSHIP_COLUMNS
    assert set(history["index"]) == {"sp500", "nasdaq100", "dow30"}
    assert history["start_date"].dtype == "datetime64[ns]"
    assert history["end_date"].dtype == "datetime64[ns]"


def test_alcoa_left_the_sp500_on_2016_11_01(history: pd.DataFrame) -> None:
    alcoa = history[(history["index"] == "sp500") & (history["symbol"] == "AA")]
    assert len(alcoa) == 1
    assert alcoa["start_date"].iloc[0] == pd.Timestamp("1976-07-01")
    assert alcoa["end_date"].iloc[0] == pd.Timestamp("2016-11-01")
    dates = pd.DatetimeIndex(["2016-10-31", "2016-11-01"])
    mask = membership_mask(history, "sp500", dates, ["AA", "AAPL", "NOT-A-SYMBOL"])
    np.testing.assert_array_equal(mask, [[True, True, False], [False, True, False]])


def test_apple_joined_the_dow_on_2015_03_19(history: pd.DataFrame) -> None:
    days = [date(2015, 3, 18), date(2015, 3, 19)]
    np.testing.assert_array_equal(membership_mask(history, "dow30", days, ["AAPL"]), [[0], [1]])


def test_about_five_hundred_sp500_and_thirty_dow_members_at_a_time(history: pd.DataFrame) -> None:
    day = date(2020, 1, 2)
    assert 495 <= len(members_on(history, "sp500", day)) <= 510
    assert len(members_on(history, "dow30", day)) == 30


def test_mask_accepts_utc_bar_timestamps_and_unsorted_dates() -> None:
    frame = pd.DataFrame(
        {
            "index": ["x", "x"],
            "symbol": ["AAA", "AAA"],
            "name": ["A", "A"],
            "start_date": pd.to_datetime(["2020-01-01", "2021-01-01"]),
            "end_date": pd.DatetimeIndex(["2020-06-01", "NaT"]),
        }
    )
    dates = pd.DatetimeIndex(
        ["2022-05-05", "2020-06-01", "2020-05-31", "2020-12-31"], tz="UTC"
    )  # left, rejoined: member in both spells, not between them
    mask = membership_mask(frame, "x", dates, ["AAA", "BBB"])
    np.testing.assert_array_equal(mask[:, 0], [True, False, True, False])
    assert not mask[:, 1].any()


def test_unknown_index_and_repeated_symbols_are_refused(history: pd.DataFrame) -> None:
    with pytest.raises(NotFoundError, match="ftse100"):
        load_index_membership(["ftse100"])
    with pytest.raises(ValueError, match="AA"):
        membership_mask(history, "sp500", [date(2016, 1, 4)], ["AA", "AA"])
