"""A walk-forward Optuna sweep on a two-worker Dask ``LocalCluster`` (issue 4, acceptance 4)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.executors import DaskExecutor, Executor, TaskError, create_executor
from quantdesk.backtest.optimize import GridSpace, TrialOutcome, grid_search
from quantdesk.backtest.walk_forward import FoldScheme, WalkForwardResult, walk_forward

DATES = pd.bdate_range("2018-01-01", periods=750)
NOISE = pd.Series(np.random.default_rng(42).normal(0.0, 0.01, len(DATES)), index=DATES)
# an optional dependency (the "dask" extra); untyped, hence Any
distributed: Any = pytest.importorskip("distributed")

SPACE: dict[str, Any] = {"lookback": (21, 252), "top_fraction": (0.05, 0.5)}


def window_evaluation(
    params: dict[str, Any], start: pd.Timestamp, end: pd.Timestamp
) -> TrialOutcome:
    """Toy backtest: drift peaks near lookback 126 / top 20 %; records the worker's process."""
    # a little work per task so the scheduler spreads tasks over both workers
    time.sleep(0.01)
    drift = 0.0006 - 1e-8 * (params["lookback"] - 126) ** 2
    drift -= 0.001 * abs(params["top_fraction"] - 0.2)
    returns = NOISE.loc[start:end] + drift
    return TrialOutcome.from_returns(returns, {"process": float(os.getpid())})


def failing_evaluation(params: dict[str, Any]) -> TrialOutcome:
    if params["lookback"] == 126:
        raise ValueError("lookback too long for the data")
    return window_evaluation(params, DATES[0], DATES[-1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    # worker processes (not threads) so tasks really cross a process boundary, as on a cluster;
    # no dashboard: it would need bokeh and a fixed port
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local_cluster:
        yield local_cluster


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as dask_client:
        yield dask_client


def run_sweep(executor: Executor | None) -> WalkForwardResult:
    return walk_forward(
        DATES,
        SPACE,
        window_evaluation,
        FoldScheme(in_sample=250, out_of_sample=125, gap=5),
        search="bayesian",
        executor=executor,
        n_trials=12,
        seed=2024,
        batch_size=4,
    )


def test_walk_forward_optuna_sweep_on_two_dask_workers(client: Any) -> None:
    result = run_sweep(DaskExecutor(client))
    assert len(result.folds) == 3
    processes: set[int] = set()
    for fold_result in result.folds:
        sweep = fold_result.sweep
        assert sweep.method == "bayesian"
        assert len(sweep.trials) == 12
        assert sweep.deflated_sharpe is not None
        assert sweep.deflated_sharpe.number_of_trials == 12
        assert 0.0 <= sweep.deflated_sharpe.probability <= 1.0
        assert sweep.overfitting is not None
        assert 0.0 <= sweep.overfitting.probability <= 1.0
        processes.update(int(trial.metrics["process"]) for trial in sweep.trials)
    assert os.getpid() not in processes
    assert len(processes) == 2
    assert result.out_of_sample_returns.index.equals(DATES[255:630])
    frame = result.to_frame()
    assert frame["deflated_sharpe"].notna().all()
    assert frame["pbo"].notna().all()
    # the same seed and batch size give the same sweep as a serial run
    serial = run_sweep(None)
    assert [dict(f.params) for f in serial.folds] == [dict(f.params) for f in result.folds]
    assert serial.out_of_sample_returns.equals(result.out_of_sample_returns)


def test_dask_task_error_names_the_failing_params(client: Any) -> None:
    grid: GridSpace = {"lookback": [63, 126, 252], "top_fraction": [0.2]}
    with pytest.raises(
        TaskError, match=r"params=\{'lookback': 126, 'top_fraction': 0.2\}.*lookback too long"
    ):
        grid_search(grid, failing_evaluation, DaskExecutor(client))


def test_create_executor_connects_to_a_scheduler_address(cluster: Any) -> None:
    address = cluster.scheduler_address.removeprefix("tcp://")
    executor = create_executor(f"dask://{address}")
    try:
        assert isinstance(executor, DaskExecutor)
        results = dict(executor.map_unordered(abs, [-1, -2]))
        assert results == {-1: 1, -2: 2}
    finally:
        executor.close()
