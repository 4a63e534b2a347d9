"""Cross-sectional transforms vs pandas row operations, universes, groups and ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.factors import (
    FactorInputError,
    Term,
    bottom,
    demean,
    min_dollar_volume,
    min_history,
    min_price,
    percentile,
    rank,
    top,
    winsorize,
    zscore,
)


@pytest.fixture
def values(rng: np.random.Generator) -> np.ndarray:
    array = rng.normal(size=(30, 12))
    array[rng.random(array.shape) < 0.15] = np.nan
    array[5, :] = np.nan  # an empty date
    array[6, :] = 3.0  # everyone tied
    return array


def test_rank_matches_pandas_first_method(values: np.ndarray) -> None:
    expected = pd.DataFrame(values).rank(axis=1, method="first")
    np.testing.assert_array_equal(rank(values), expected.to_numpy())


def test_descending_rank_breaks_ties_by_column_order() -> None:
    scores = np.array([[1.0, 5.0, 5.0, np.nan, 2.0, 5.0]])
    np.testing.assert_array_equal(rank(scores, ascending=False), [[5, 1, 2, np.nan, 4, 3]])
    np.testing.assert_array_equal(rank(scores), [[1, 3, 4, np.nan, 2, 5]])
    np.testing.assert_array_equal(top(scores, 2), [[False, True, True, False, False, False]])
    np.testing.assert_array_equal(bottom(scores, 1), [[True, False, False, False, False, False]])


def test_percentile_matches_pandas_average_pct(values: np.ndarray) -> None:
    expected = pd.DataFrame(values).rank(axis=1, pct=True)
    np.testing.assert_allclose(percentile(values), expected.to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(percentile(values)[6], np.full(12, (12 + 1) / 2 / 12))


def test_zscore_matches_pandas_population_std(values: np.ndarray) -> None:
    frame = pd.DataFrame(values)
    expected = frame.sub(frame.mean(axis=1), axis=0).div(frame.std(axis=1, ddof=0), axis=0)
    result = zscore(values)
    np.testing.assert_allclose(result[7:], expected.to_numpy()[7:], rtol=1e-12, atol=1e-14)
    assert np.isnan(result[5]).all()
    np.testing.assert_array_equal(result[6], np.zeros(12))  # identical scores: no information


def test_winsorize_matches_series_quantile_clip(values: np.ndarray) -> None:
    result = winsorize(values, 0.1, 0.9)
    for row in range(values.shape[0]):
        series = pd.Series(values[row])
        expected = series.clip(float(series.quantile(0.1)), float(series.quantile(0.9)))
        np.testing.assert_allclose(result[row], expected.to_numpy(), rtol=1e-14)


def test_winsorize_rejects_inverted_bounds(values: np.ndarray) -> None:
    with pytest.raises(FactorInputError, match="lower"):
        winsorize(values, 0.9, 0.1)


def test_universe_excludes_non_members_from_statistics(values: np.ndarray) -> None:
    universe = np.ones(values.shape, dtype=bool)
    universe[:, 0] = False
    universe[10:, 1] = False  # leaves the universe
    universe[:20, 2] = False  # joins later
    masked = np.where(universe, values, np.nan)
    # Non-members get NaN and the members' results equal a computation without them.
    for function in (rank, percentile, zscore, demean):
        result = function(values, universe=universe)
        np.testing.assert_array_equal(result, function(masked))
        assert np.isnan(result[:, 0]).all()
    # Changing a non-member's value cannot move anyone's rank.
    changed = values.copy()
    changed[:, 0] = 1e9
    np.testing.assert_array_equal(rank(changed, universe=universe), rank(values, universe=universe))


def test_group_transforms_match_pandas_groupby(values: np.ndarray) -> None:
    sectors = np.array(["a", "b", "a", "c", "b", "a", None, "c", "a", "b", "b", "c"])
    frame = pd.DataFrame(values)
    result = demean(values, groups=sectors)
    ranks = rank(values, ascending=False, groups=sectors)
    for label in ("a", "b", "c"):
        columns = np.flatnonzero(sectors == label)
        block = frame.iloc[:, columns]
        np.testing.assert_allclose(
            result[:, columns], block.sub(block.mean(axis=1), axis=0).to_numpy(), atol=1e-14
        )
        np.testing.assert_array_equal(
            ranks[:, columns], block.rank(axis=1, ascending=False, method="first").to_numpy()
        )
    assert np.isnan(result[:, 6]).all()  # no sector label


def test_group_zscore_with_wrong_label_count(values: np.ndarray) -> None:
    with pytest.raises(FactorInputError, match="labels"):
        zscore(values, groups=["a", "b"])


def test_universe_mask_must_be_boolean_and_same_shape(values: np.ndarray) -> None:
    with pytest.raises(FactorInputError, match="boolean"):
        rank(values, universe=np.ones(values.shape))
    with pytest.raises(FactorInputError, match="shape"):
        rank(values, universe=np.ones((2, 2), dtype=bool))


def test_filters() -> None:
    close = np.array([[np.nan, 10.0], [4.0, 10.0], [6.0, np.nan], [6.0, 10.0]])
    volume = np.array([[1.0, 100.0], [1.0, 100.0], [1.0, 100.0], [1.0, 100.0]])
    np.testing.assert_array_equal(
        min_history(close, 2), [[False, False], [False, True], [True, True], [True, True]]
    )
    np.testing.assert_array_equal(
        min_price(close, 5.0), [[False, True], [False, True], [True, False], [True, True]]
    )
    dollar = min_dollar_volume(close, volume, 900.0, window=2)
    np.testing.assert_array_equal(
        dollar, [[False, False], [False, True], [False, False], [False, False]]
    )


def test_term_chain_equals_function_chain(values: np.ndarray) -> None:
    universe = np.isfinite(values) & (np.arange(12) % 2 == 0)
    term = Term(values, universe).winsorize(0.05, 0.95).zscore()
    expected = zscore(winsorize(values, 0.05, 0.95, universe=universe), universe=universe)
    np.testing.assert_array_equal(term.masked(), expected)
    combined = (0.5 * Term(values) + Term(values) * 0.5).values
    np.testing.assert_allclose(combined, values)
    narrowed = Term(values).mask(universe).rank()
    np.testing.assert_array_equal(narrowed.values, rank(values, universe=universe))
    np.testing.assert_array_equal(Term(values).top(3), top(values, 3))
