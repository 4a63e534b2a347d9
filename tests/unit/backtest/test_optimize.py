"""Grid and Bayesian search over toy evaluations, overfitting statistics, space parsing."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.executors import SerialExecutor, TaskError
from quantdesk.backtest.optimize import (
    GridSpace,
    OptimizationError,
    SearchSpaceError,
    Trial,
    TrialOutcome,
    bayesian_search,
    grid_search,
    parse_grid,
    parse_search_space,
    trial_returns_matrix,
)

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

DATES = pd.bdate_range("2020-01-01", periods=750)
# one shared noise path: a trial's Sharpe ratio then rises with its drift, so the best is known
SHARED_NOISE = np.random.default_rng(0).normal(0.0, 0.01, len(DATES))
GRID: GridSpace = {"lookback": [63, 126, 252], "top_fraction": [0.1, 0.2, 0.3]}


def toy_evaluation(params: dict[str, Any]) -> TrialOutcome:
    """Drift peaks at lookback 126, top_fraction 0.2."""
    drift = 0.0008 - 2e-8 * (params["lookback"] - 126) ** 2
    drift -= 0.002 * abs(params["top_fraction"] - 0.2)
    returns = pd.Series(SHARED_NOISE + drift, index=DATES)
    return TrialOutcome.from_returns(returns, {"mean": float(returns.mean())})


def noise_evaluation(params: dict[str, Any]) -> TrialOutcome:
    """Skill-less trials: independent noise, nothing to find."""
    rng = np.random.default_rng(1000 + params["seed"])
    return TrialOutcome.from_returns(pd.Series(rng.normal(0.0, 0.01, len(DATES)), index=DATES))


def short_evaluation(params: dict[str, Any]) -> TrialOutcome:
    dates = DATES[: params["days"]]
    rng = np.random.default_rng(params["seed"])
    return TrialOutcome.from_returns(pd.Series(rng.normal(0.001, 0.01, len(dates)), index=dates))


def flat_unless_positive(params: dict[str, Any]) -> TrialOutcome:
    level = 0.001 * params["x"] if params["x"] > 0 else 0.0
    noise = SHARED_NOISE if params["x"] > 0 else 0.0
    return TrialOutcome.from_returns(pd.Series(level + noise, index=DATES))


def failing_evaluation(params: dict[str, Any]) -> TrialOutcome:
    if params["lookback"] == 252:
        raise ValueError("not enough history")
    return toy_evaluation(params)


def wrong_type_evaluation(params: dict[str, Any]) -> float:
    return 1.0


class ReversedExecutor:
    """Completes tasks in reverse order, as a pool might, to check streaming and re-ordering."""

    def map_unordered(
        self, function: Callable[[ItemT], ResultT], items: Iterable[ItemT]
    ) -> Iterator[tuple[ItemT, ResultT]]:
        for item in reversed(list(items)):
            yield item, function(item)

    def close(self) -> None:
        pass


def test_grid_search_finds_the_best_params_and_keeps_every_trial() -> None:
    result = grid_search(GRID, toy_evaluation, SerialExecutor())
    assert result.method == "grid"
    assert dict(result.best_params) == {"lookback": 126, "top_fraction": 0.2}
    assert [trial.number for trial in result.trials] == list(range(9))
    assert [dict(trial.params) for trial in result.trials][:2] == [
        {"lookback": 63, "top_fraction": 0.1},
        {"lookback": 63, "top_fraction": 0.2},
    ]
    assert result.best.score == max(trial.score for trial in result.trials)
    frame = result.to_frame()
    assert list(frame.columns) == ["lookback", "top_fraction", "score", "mean"]
    assert len(frame) == 9


def test_grid_search_streams_results_in_completion_order() -> None:
    seen: list[Trial] = []
    result = grid_search(GRID, toy_evaluation, ReversedExecutor(), on_result=seen.append)
    assert [trial.number for trial in seen] == list(range(8, -1, -1))
    # the result itself is in trial order whatever the completion order
    assert [trial.number for trial in result.trials] == list(range(9))
    assert dict(result.best_params) == {"lookback": 126, "top_fraction": 0.2}


def test_every_sweep_reports_deflated_sharpe_and_pbo() -> None:
    result = grid_search(GRID, toy_evaluation)
    assert result.deflated_sharpe is not None
    assert result.deflated_sharpe.number_of_trials == 9
    assert result.deflated_sharpe.observations == len(DATES)
    assert result.overfitting is not None
    assert result.overfitting.blocks == 16
    assert result.overfitting.trials == 9
    # every split picks the highest-drift trial, which stays best out of sample
    assert result.overfitting.probability == 0.0
    assert result.notes == ()


def test_pbo_is_high_and_dsr_low_for_a_noise_only_sweep() -> None:
    result = grid_search({"seed": list(range(20))}, noise_evaluation)
    assert result.overfitting is not None
    # skill-less trials: the in-sample winner is a coin flip out of sample (PBO ≈ 0.5)
    assert result.overfitting.probability > 0.3
    assert result.deflated_sharpe is not None
    assert result.deflated_sharpe.probability < 0.9


def test_pbo_blocks_shrink_on_short_common_history() -> None:
    result = grid_search({"days": [20, 40], "seed": [1, 2]}, short_evaluation)
    assert result.overfitting is not None
    assert result.overfitting.blocks == 10
    assert trial_returns_matrix(result.trials).shape == (20, 4)
    assert result.notes == ("PBO uses 10 blocks (not 16): 20 dates",)


def test_pbo_is_skipped_with_a_note_when_trials_share_too_few_dates() -> None:
    result = grid_search({"days": [3], "seed": [1, 2]}, short_evaluation)
    assert result.overfitting is None
    assert "PBO not computed: trials share only 3 dates" in result.notes[0]


def test_trials_without_a_finite_score_are_kept_but_never_best() -> None:
    result = grid_search({"x": [0, 1, 2]}, flat_unless_positive)
    assert math.isnan(result.trials[0].score)
    assert dict(result.best_params) == {"x": 2}
    with pytest.raises(OptimizationError, match="none of the 1 trials has a finite score"):
        grid_search({"x": [0]}, flat_unless_positive)


def test_evaluation_error_names_the_failing_params() -> None:
    with pytest.raises(TaskError, match=r"'lookback': 252, 'top_fraction': 0.1.*not enough"):
        grid_search(GRID, failing_evaluation)


def test_evaluation_must_return_a_trial_outcome() -> None:
    with pytest.raises(TypeError, match=r"trial 0 with params .* returned float"):
        grid_search({"lookback": [1]}, wrong_type_evaluation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({}, "the grid has no parameters"),
        ({"lookback": []}, "'lookback' has no values"),
        ({"lookback": (63, 252)}, "give a list of values.*bayesian_search"),
    ],
)
def test_grid_search_rejects_malformed_spaces(space: Any, message: str) -> None:
    with pytest.raises(SearchSpaceError, match=message):
        grid_search(space, toy_evaluation)


BAYES_SPACE: dict[str, Any] = {"lookback": (21, 252), "top_fraction": (0.05, 0.5)}


def test_bayesian_search_with_a_seed_is_reproducible() -> None:
    first = bayesian_search(BAYES_SPACE, toy_evaluation, n_trials=12, seed=7, batch_size=4)
    second = bayesian_search(BAYES_SPACE, toy_evaluation, n_trials=12, seed=7, batch_size=4)
    assert [dict(t.params) for t in first.trials] == [dict(t.params) for t in second.trials]
    assert [t.score for t in first.trials] == [t.score for t in second.trials]
    other = bayesian_search(BAYES_SPACE, toy_evaluation, n_trials=12, seed=8, batch_size=4)
    assert [dict(t.params) for t in other.trials] != [dict(t.params) for t in first.trials]


def test_bayesian_search_does_not_depend_on_completion_order() -> None:
    serial = bayesian_search(BAYES_SPACE, toy_evaluation, n_trials=10, seed=3, batch_size=5)
    streamed: list[int] = []
    reordered = bayesian_search(
        BAYES_SPACE,
        toy_evaluation,
        n_trials=10,
        executor=ReversedExecutor(),
        seed=3,
        batch_size=5,
        on_result=lambda trial: streamed.append(trial.number),
    )
    assert [dict(t.params) for t in serial.trials] == [dict(t.params) for t in reordered.trials]
    assert streamed == [4, 3, 2, 1, 0, 9, 8, 7, 6, 5]


def test_bayesian_search_samples_inside_the_space() -> None:
    space = {"lookback": (21, 252, 21), "top_fraction": (0.05, 0.5), "weighting": ["equal", "rank"]}
    result = bayesian_search(space, toy_with_weighting, n_trials=10, seed=1)
    assert len(result.trials) == 10
    for trial in result.trials:
        assert trial.params["lookback"] in range(21, 253, 21)
        assert 0.05 <= trial.params["top_fraction"] <= 0.5
        assert trial.params["weighting"] in ("equal", "rank")
    assert result.deflated_sharpe is not None
    assert result.deflated_sharpe.number_of_trials == 10
    assert result.overfitting is not None


def toy_with_weighting(params: dict[str, Any]) -> TrialOutcome:
    return toy_evaluation(params)


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"lookback": (252, 21)}, "need low < high"),
        ({"lookback": (1, 5, 0)}, "step > 0"),
        ({"lookback": ("a", "b")}, "a range is low:high"),
        ({"lookback": []}, "has no choices"),
        ({"lookback": 5}, r"give \(low, high\)"),
        ({}, "no parameters"),
    ],
)
def test_bayesian_search_rejects_malformed_spaces(space: Any, message: str) -> None:
    with pytest.raises(SearchSpaceError, match=message):
        bayesian_search(space, toy_evaluation, n_trials=2)


def test_parse_grid_reads_lists_and_inclusive_ranges() -> None:
    assert parse_grid("lookback=126,252;top_fraction=0.1,0.2") == {
        "lookback": [126, 252],
        "top_fraction": [0.1, 0.2],
    }
    assert parse_grid("lookback=63:252:63") == {"lookback": [63, 126, 189, 252]}
    assert parse_grid("lookback = 63:250:63 ; weighting=equal,rank; short=true") == {
        "lookback": [63, 126, 189],
        "weighting": ["equal", "rank"],
        "short": [True],
    }
    assert parse_grid("top_fraction=0.1:0.3:0.1") == {"top_fraction": [0.1, 0.2, 0.3]}


def test_parse_search_space_reads_ranges_and_choices() -> None:
    assert parse_search_space("lookback=63:252;top_fraction=0.05:0.3;w=equal,rank;s=10:100:10") == {
        "lookback": (63, 252),
        "top_fraction": (0.05, 0.3),
        "w": ["equal", "rank"],
        "s": (10, 100, 10),
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "names no parameters"),
        ("lookback", "write name=value,value"),
        ("lookback=", "write name=value,value"),
        ("look back=1", "write name=value,value"),
        ("lookback=1;lookback=2", "'lookback' is given twice"),
        ("lookback=1,,2", "empty value"),
        ("lookback=63:252", "a range needs a step"),
        ("lookback=252:63:21", "need low < high"),
        ("lookback=63:x:21", "a range is low:high"),
        ("lookback=1:2:3:4", "a range is low:high"),
    ],
)
def test_parse_grid_errors_name_the_entry(spec: str, message: str) -> None:
    with pytest.raises(SearchSpaceError, match=message):
        parse_grid(spec)
