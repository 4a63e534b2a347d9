"""Walk-forward folds (hand-checked boundaries, no leakage) and the walk-forward loop."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantdesk.backtest.executors import TaskError
from quantdesk.backtest.optimize import TrialOutcome
from quantdesk.backtest.walk_forward import (
    Fold,
    FoldError,
    FoldScheme,
    check_folds,
    walk_forward,
)

DATES = pd.bdate_range("2021-01-01", periods=600)
NOISE = pd.Series(np.random.default_rng(5).normal(0.0, 0.01, len(DATES)), index=DATES)
SPACE = {"lookback": [21, 63, 126]}


def window_evaluation(
    params: dict[str, Any], start: pd.Timestamp, end: pd.Timestamp
) -> TrialOutcome:
    """Lookback 63 has the best drift; returns only inside ``[start, end]``."""
    drift = 0.0005 - 1e-7 * (params["lookback"] - 63) ** 2
    return TrialOutcome.from_returns(NOISE.loc[start:end] + drift)


def leaky_evaluation(
    params: dict[str, Any], start: pd.Timestamp, end: pd.Timestamp
) -> TrialOutcome:
    """Returns a year beyond its window; walk-forward must not stitch what lies outside."""
    return TrialOutcome.from_returns(NOISE.loc[start : end + pd.Timedelta(days=365)])


def failing_out_of_sample(
    params: dict[str, Any], start: pd.Timestamp, end: pd.Timestamp
) -> TrialOutcome:
    if start >= DATES[400]:
        raise RuntimeError("no data")
    return window_evaluation(params, start, end)


def positions(fold: Fold, dates: pd.DatetimeIndex) -> tuple[int, int, int, int]:
    bounds = (
        fold.in_sample_start,
        fold.in_sample_end,
        fold.out_of_sample_start,
        fold.out_of_sample_end,
    )
    first_in, last_in, first_out, last_out = (int(dates.searchsorted(day)) for day in bounds)
    return first_in, last_in, first_out, last_out


SMALL = pd.bdate_range("2024-01-01", periods=20)


def test_rolling_folds_with_a_gap_hand_checked() -> None:
    folds = FoldScheme(in_sample=5, out_of_sample=3, gap=1).split(SMALL)
    assert [positions(fold, SMALL) for fold in folds] == [
        (0, 4, 6, 8),
        (3, 7, 9, 11),
        (6, 10, 12, 14),
        (9, 13, 15, 17),
    ]
    assert [fold.number for fold in folds] == [0, 1, 2, 3]
    assert folds[0].in_sample_start == pd.Timestamp("2024-01-01")
    assert folds[0].out_of_sample_start == pd.Timestamp("2024-01-09")  # Mon 8th is the gap


def test_partial_last_window_reaches_the_end_when_allowed() -> None:
    folds = FoldScheme(5, 3, gap=1, allow_partial=True).split(SMALL)
    assert positions(folds[-1], SMALL) == (12, 16, 18, 19)


def test_anchored_folds_expand_from_the_first_date() -> None:
    folds = FoldScheme(in_sample=5, out_of_sample=3, anchored=True).split(SMALL)
    assert [positions(fold, SMALL) for fold in folds] == [
        (0, 4, 5, 7),
        (0, 7, 8, 10),
        (0, 10, 11, 13),
        (0, 13, 14, 16),
        (0, 16, 17, 19),
    ]


@given(
    dates=st.integers(10, 80),
    in_sample=st.integers(2, 20),
    out_of_sample=st.integers(2, 10),
    gap=st.integers(0, 5),
    anchored=st.booleans(),
    partial=st.booleans(),
)
def test_folds_never_leak_and_out_of_sample_is_contiguous(
    dates: int, in_sample: int, out_of_sample: int, gap: int, anchored: bool, partial: bool
) -> None:
    index = pd.bdate_range("2020-01-01", periods=dates)
    scheme = FoldScheme(in_sample, out_of_sample, gap, anchored, partial)
    shortest_out = 2 if partial else out_of_sample
    if in_sample + gap + shortest_out > dates:
        with pytest.raises(FoldError, match=f"dates has {dates} rows"):
            scheme.split(index)
        return
    folds = scheme.split(index)
    check_folds(folds)
    spots = [positions(fold, index) for fold in folds]
    for first_in, last_in, first_out, last_out in spots:
        assert last_in + gap + 1 == first_out  # exactly the embargo between IS and OOS
        assert last_in - first_in + 1 >= in_sample
        assert first_in == 0 or not anchored
        assert last_out - first_out + 1 <= out_of_sample
    for previous, current in itertools.pairwise(spots):
        assert current[2] == previous[3] + 1  # OOS windows touch, never overlap


def test_too_short_an_index_says_what_one_fold_needs() -> None:
    with pytest.raises(FoldError, match=r"dates has 20 rows; one fold needs .* = 23"):
        FoldScheme(in_sample=15, out_of_sample=5, gap=3).split(SMALL)


def test_fold_scheme_rejects_bad_lengths_and_unsorted_dates() -> None:
    with pytest.raises(FoldError, match="must each be at least 2 dates"):
        FoldScheme(in_sample=1, out_of_sample=5)
    with pytest.raises(FoldError, match="gap must be >= 0"):
        FoldScheme(5, 5, gap=-1)
    with pytest.raises(FoldError, match="sorted ascending"):
        FoldScheme(2, 2).split(SMALL[::-1])


def test_fold_scheme_parse() -> None:
    assert FoldScheme.parse("756:252") == FoldScheme(756, 252)
    assert FoldScheme.parse("756:252:5:anchored") == FoldScheme(756, 252, 5, anchored=True)
    assert FoldScheme.parse("756:252:rolling") == FoldScheme(756, 252)
    for bad in ("756", "756:x", "756:252:5:6", "anchored"):
        with pytest.raises(FoldError, match="write IN:OUT"):
            FoldScheme.parse(bad)


def test_check_folds_rejects_leaking_or_overlapping_folds() -> None:
    day = SMALL
    leaking = Fold(0, day[0], day[5], day[5], day[8])
    with pytest.raises(FoldError, match="fold 0: the in-sample window must end before"):
        check_folds([leaking])
    first = Fold(0, day[0], day[4], day[5], day[8])
    overlapping = Fold(1, day[3], day[7], day[8], day[10])
    with pytest.raises(FoldError, match="fold 1: its out-of-sample window overlaps"):
        check_folds([first, overlapping])


def test_walk_forward_optimises_in_sample_and_stitches_out_of_sample() -> None:
    scheme = FoldScheme(in_sample=200, out_of_sample=100, gap=5)
    result = walk_forward(DATES, SPACE, window_evaluation, scheme)
    assert len(result.folds) == 3
    for fold_result in result.folds:
        fold = fold_result.fold
        assert dict(fold_result.params) == {"lookback": 63}
        assert len(fold_result.sweep.trials) == 3
        # every in-sample run stayed before the embargo and the out-of-sample window
        for trial in fold_result.sweep.trials:
            assert trial.returns.index.min() == fold.in_sample_start
            assert trial.returns.index.max() == fold.in_sample_end < fold.out_of_sample_start
        assert fold_result.in_sample_score == fold_result.sweep.best.score
        assert fold_result.sweep.deflated_sharpe is not None
        assert fold_result.sweep.overfitting is not None
    stitched = result.out_of_sample_returns
    assert stitched.index.equals(DATES[205:505])
    expected = NOISE.iloc[205:505] + 0.0005
    np.testing.assert_allclose(stitched.to_numpy(), expected.to_numpy())
    frame = result.to_frame()
    assert list(frame.index) == [0, 1, 2]
    assert frame.loc[1, "out_of_sample_start"] == DATES[305]
    assert frame["pbo"].between(0.0, 1.0).all()


def test_stitched_returns_stay_inside_each_out_of_sample_window() -> None:
    result = walk_forward(DATES, SPACE, leaky_evaluation, FoldScheme(200, 100))
    assert result.out_of_sample_returns.index.equals(DATES[200:600])
    assert result.out_of_sample_returns.index.is_unique


def test_bayesian_walk_forward_is_reproducible_with_a_seed() -> None:
    space = {"lookback": (21, 126)}
    runs = [
        walk_forward(
            DATES,
            space,
            window_evaluation,
            FoldScheme(250, 150),
            search="bayesian",
            n_trials=6,
            seed=11,
            batch_size=3,
        )
        for _ in range(2)
    ]
    assert [dict(f.params) for f in runs[0].folds] == [dict(f.params) for f in runs[1].folds]
    assert runs[0].out_of_sample_returns.equals(runs[1].out_of_sample_returns)
    # folds are seeded differently so they do not repeat the same trials
    first, second = (runs[0].folds[k].sweep.trials for k in (0, 1))
    assert [t.params for t in first] != [t.params for t in second]


def test_walk_forward_streams_trials_with_their_fold() -> None:
    seen: list[tuple[int, int]] = []
    walk_forward(
        DATES,
        SPACE,
        window_evaluation,
        FoldScheme(200, 200),
        on_result=lambda fold, trial: seen.append((fold.number, trial.number)),
    )
    assert seen == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_out_of_sample_error_names_the_fold_and_params() -> None:
    with pytest.raises(TaskError, match=r"OutOfSampleTask\(fold=2, params=\{'lookback': 63\}"):
        walk_forward(DATES, SPACE, failing_out_of_sample, FoldScheme(200, 100, gap=5))


def test_walk_forward_argument_errors() -> None:
    with pytest.raises(ValueError, match="needs n_trials"):
        walk_forward(DATES, SPACE, window_evaluation, FoldScheme(200, 100), search="bayesian")
    with pytest.raises(ValueError, match="search must be 'grid' or 'bayesian'"):
        walk_forward(DATES, SPACE, window_evaluation, FoldScheme(200, 100), search="random")  # type: ignore[arg-type]
