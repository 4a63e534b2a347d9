"""Deflated Sharpe ratio and probability of backtest overfitting (CSCV)."""

from __future__ import annotations

import itertools
import math
from math import comb

import numpy as np
import pytest
from scipy.stats import norm

from quantdesk.analytics import (
    deflated_sharpe_ratio,
    deflated_sharpe_ratio_of_trials,
    expected_maximum_sharpe_ratio,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)


def test_numerical_example_of_bailey_and_lopez_de_prado_2014() -> None:
    # Paper, section "A numerical example": annualised SR 2.5 over 5 years of daily data
    # (T = 1250), 100 trials with annualised Sharpe variance 0.5, skew -3, kurtosis 10.
    sharpe = 2.5 / math.sqrt(250)
    benchmark = expected_maximum_sharpe_ratio(0.5 / 250, 100)
    assert benchmark == pytest.approx(0.1132, abs=5e-5)
    probability = probabilistic_sharpe_ratio(sharpe, benchmark, 1250, -3.0, 10.0)
    assert probability == pytest.approx(0.9004, abs=5e-4)


def test_probabilistic_sharpe_ratio_by_hand() -> None:
    # normal returns: variance term 1 + SR²/2
    expected = norm.cdf(0.1 * 10 / math.sqrt(1 + 0.5 * 0.01))
    assert probabilistic_sharpe_ratio(0.1, 0.0, 101, 0.0, 3.0) == pytest.approx(expected)
    assert probabilistic_sharpe_ratio(0.0, 0.0, 50, 0.0, 3.0) == pytest.approx(0.5)


def test_expected_maximum_grows_with_trials_and_spread() -> None:
    assert expected_maximum_sharpe_ratio(0.01, 1) == 0.0
    values = [expected_maximum_sharpe_ratio(0.01, n) for n in (2, 5, 10, 100, 1000)]
    assert values == sorted(values)
    assert expected_maximum_sharpe_ratio(0.04, 10) == pytest.approx(2 * values[2])


def test_deflated_sharpe_decreases_with_the_number_of_trials() -> None:
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0008, 0.01, 1000)
    trials = rng.normal(0.0, 0.03, 20)
    probabilities = [
        deflated_sharpe_ratio(returns, trials, number_of_trials=n).probability
        for n in (1, 2, 5, 20, 100, 1000)
    ]
    assert all(a > b for a, b in itertools.pairwise(probabilities))
    # with one trial there is no selection: the DSR is the PSR against zero
    assert probabilities[0] == pytest.approx(
        deflated_sharpe_ratio(returns, trials, number_of_trials=1).probability
    )


def test_deflated_sharpe_ratio_fields_by_hand() -> None:
    rng = np.random.default_rng(3)
    returns = rng.standard_t(5, 500) * 0.01 + 0.001
    trials = np.array([0.02, 0.05, -0.01, 0.08])
    result = deflated_sharpe_ratio(returns, trials)
    centred = returns - returns.mean()
    second = np.mean(centred**2)
    skewness = np.mean(centred**3) / second**1.5
    kurt = np.mean(centred**4) / second**2
    sharpe = returns.mean() / returns.std(ddof=1)
    benchmark = math.sqrt(np.var(trials, ddof=1)) * (
        (1 - np.euler_gamma) * norm.ppf(1 - 1 / 4) + np.euler_gamma * norm.ppf(1 - 1 / (4 * math.e))
    )
    z = (
        (sharpe - benchmark)
        * math.sqrt(499)
        / math.sqrt(1 - skewness * sharpe + (kurt - 1) / 4 * sharpe**2)
    )
    assert result.skewness == pytest.approx(skewness)
    assert result.kurtosis == pytest.approx(kurt)
    assert result.sharpe_ratio == pytest.approx(sharpe)
    assert result.expected_maximum_sharpe_ratio == pytest.approx(benchmark)
    assert result.probability == pytest.approx(norm.cdf(z))
    assert (result.number_of_trials, result.observations) == (4, 500)


def test_deflated_sharpe_of_trials_picks_the_best_column() -> None:
    rng = np.random.default_rng(5)
    matrix = rng.normal(0.0, 0.01, (750, 10))
    matrix[:, 6] += 0.002
    result = deflated_sharpe_ratio_of_trials(matrix)
    column = matrix[:, 6]
    assert result.sharpe_ratio == pytest.approx(column.mean() / column.std(ddof=1))
    assert result.number_of_trials == 10
    assert result.probability > 0.95
    other = deflated_sharpe_ratio_of_trials(matrix, selected=0)
    assert other.probability < result.probability


def _mean(rows: np.ndarray) -> np.ndarray:
    return np.asarray(rows.mean(axis=0))


def test_pbo_two_blocks_by_hand_when_the_winner_always_flips() -> None:
    # S = 2: blocks are rows 0-1 and rows 2-3, two splits. Trial 0 wins the first block,
    # trial 1 the second, so the in-sample winner is last of 2 out of sample every time:
    # ω = 1/3, logit = ln(1/2) in both splits.
    matrix = np.array([[0.02, 0.0], [0.02, 0.0], [-0.01, 0.01], [-0.01, 0.01]])
    result = probability_of_backtest_overfitting(matrix, blocks=2, performance=_mean)
    assert result.splits == 2
    assert result.probability == 1.0
    assert result.logits == pytest.approx((math.log(0.5), math.log(0.5)))
    assert result.in_sample_performance == pytest.approx((0.02, 0.01))
    assert result.out_of_sample_performance == pytest.approx((-0.01, 0.0))
    assert result.probability_of_loss == 0.5


def test_pbo_two_blocks_by_hand_when_one_trial_dominates() -> None:
    matrix = np.array([[0.02, 0.0], [0.02, 0.0], [0.02, 0.01], [0.03, 0.01]])
    result = probability_of_backtest_overfitting(matrix, blocks=2, performance=_mean)
    assert result.probability == 0.0
    assert result.logits == pytest.approx((math.log(2.0), math.log(2.0)))


def test_pbo_sharpe_fast_path_equals_brute_force() -> None:
    rng = np.random.default_rng(2)
    matrix = rng.normal(0.0003, 0.01, (203, 7))  # 203 rows: blocks of unequal size

    def sharpe(rows: np.ndarray) -> np.ndarray:
        return np.asarray(rows.mean(axis=0) / rows.std(axis=0, ddof=1))

    fast = probability_of_backtest_overfitting(matrix, blocks=8)
    slow = probability_of_backtest_overfitting(matrix, blocks=8, performance=sharpe)
    assert fast.splits == slow.splits == comb(8, 4)
    assert fast.probability == slow.probability
    np.testing.assert_allclose(fast.logits, slow.logits, rtol=1e-12)
    np.testing.assert_allclose(fast.in_sample_performance, slow.in_sample_performance, rtol=1e-9)
    np.testing.assert_allclose(
        fast.out_of_sample_performance, slow.out_of_sample_performance, rtol=1e-9
    )


def test_pbo_is_high_for_noise_and_near_zero_for_a_dominant_trial() -> None:
    noise_pbo, skill_pbo = [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        matrix = rng.normal(0.0, 0.01, (800, 40))
        noise_pbo.append(probability_of_backtest_overfitting(matrix, blocks=8).probability)
        matrix[:, 17] += 0.003
        skill_pbo.append(probability_of_backtest_overfitting(matrix, blocks=8).probability)
    # skill-less selection is a coin flip out of sample on average
    assert 0.35 < float(np.mean(noise_pbo)) < 0.75
    assert max(skill_pbo) < 0.05


@pytest.mark.parametrize(
    ("matrix", "blocks", "message"),
    [
        (np.zeros((100, 3)), 5, "even"),
        (np.zeros((10, 3)), 16, "rows"),
        (np.zeros((100, 1)), 4, "at least 2 trials"),
        (np.zeros(100), 4, "2-d"),
        (np.full((100, 3), math.nan), 4, "row 0, column 0"),
    ],
)
def test_pbo_rejects_bad_input(matrix: np.ndarray, blocks: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        probability_of_backtest_overfitting(matrix, blocks=blocks)


def test_deflated_sharpe_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="trial_sharpe_ratios"):
        deflated_sharpe_ratio([0.01, 0.02, -0.01], [0.1])
    with pytest.raises(ValueError, match="do not vary"):
        deflated_sharpe_ratio([0.01, 0.01, 0.01], [0.1, 0.2])
    with pytest.raises(ValueError, match="number_of_trials"):
        expected_maximum_sharpe_ratio(0.1, 0)
