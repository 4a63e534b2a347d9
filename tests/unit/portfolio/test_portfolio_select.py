from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.portfolio import PortfolioInputError, rank_order, top_fraction, top_n


def chosen(mask: pd.Series) -> list[str]:
    return sorted(mask[mask].index)


def test_top_n_picks_highest_scores_and_skips_nan() -> None:
    scores = pd.Series({"AAA": 0.1, "BBB": np.nan, "CCC": 0.5, "DDD": 0.3, "EEE": -0.2})
    mask = top_n(scores, 2)
    assert chosen(mask) == ["CCC", "DDD"]
    assert list(mask.index) == list(scores.index)
    assert mask.dtype == bool


def test_ties_go_to_the_symbol_that_sorts_first_whatever_the_input_order() -> None:
    scores = pd.Series({"ZZZ": 1.0, "MMM": 1.0, "AAA": 1.0, "QQQ": 2.0})
    assert chosen(top_n(scores, 2)) == ["AAA", "QQQ"]
    shuffled = scores.iloc[[2, 0, 3, 1]]
    assert chosen(top_n(shuffled, 2)) == ["AAA", "QQQ"]
    assert rank_order(scores) == ["QQQ", "AAA", "MMM", "ZZZ"]


def test_top_n_matches_a_plain_pandas_sort(sp500_returns: pd.DataFrame) -> None:
    scores = sp500_returns.iloc[-126:].sum()
    expected = scores.sort_values(ascending=False).index[:7]
    assert chosen(top_n(scores, 7)) == sorted(expected)


def test_top_n_with_more_names_than_eligible_selects_all_eligible() -> None:
    scores = pd.Series({"A": 1.0, "B": np.nan, "C": 2.0})
    assert chosen(top_n(scores, 10)) == ["A", "C"]
    assert not top_n(scores, 0).any()


def test_all_nan_scores_select_nothing() -> None:
    scores = pd.Series({"A": np.nan, "B": np.nan})
    assert not top_n(scores, 1).any()
    assert not top_fraction(scores, 0.5, minimum=0).any()
    assert not top_fraction(scores, 0.5).any()  # minimum cannot exceed what is eligible


@pytest.mark.parametrize(
    ("fraction", "minimum", "expected_count"),
    [(0.2, 1, 2), (0.25, 1, 2), (0.05, 1, 1), (0.05, 0, 0), (0.05, 3, 3), (1.0, 1, 10)],
)
def test_top_fraction_count(fraction: float, minimum: int, expected_count: int) -> None:
    scores = pd.Series(np.arange(10.0), index=[f"S{i:02d}" for i in range(10)])
    scores.iloc[3] = np.nan
    scores = pd.concat([scores, pd.Series({"S10": 99.0})])  # 10 eligible of 11
    assert int(top_fraction(scores, fraction, minimum).sum()) == expected_count


def test_top_fraction_floor_is_not_fooled_by_float_noise() -> None:
    # 0.29 × 100 is 28.999999999999996 in floating point; the user means 29 names.
    scores = pd.Series(np.arange(100.0), index=[f"S{i:03d}" for i in range(100)])
    mask = top_fraction(scores, 0.29)
    assert int(mask.sum()) == 29
    assert chosen(mask) == [f"S{i:03d}" for i in range(71, 100)]


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_top_n_rejects_bad_n(n: object) -> None:
    with pytest.raises(PortfolioInputError, match="n must be"):
        top_n(pd.Series({"A": 1.0}), n)  # type: ignore[arg-type]


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, float("nan")])
def test_top_fraction_rejects_fraction_outside_zero_one(fraction: float) -> None:
    with pytest.raises(PortfolioInputError, match="fraction"):
        top_fraction(pd.Series({"A": 1.0}), fraction)


def test_bad_scores_are_rejected_with_the_symbol_named() -> None:
    with pytest.raises(PortfolioInputError, match="'B'"):
        top_n(pd.Series({"A": 1.0, "B": np.inf}), 1)
    with pytest.raises(PortfolioInputError, match="duplicate"):
        top_n(pd.Series([1.0, 2.0], index=["A", "A"]), 1)
    with pytest.raises(PortfolioInputError, match="pandas Series"):
        top_n(np.array([1.0, 2.0]), 1)  # type: ignore[arg-type]
