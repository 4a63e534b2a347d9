"""Executors: serial and process-pool maps, task errors, and the ``--executor`` spec parser."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from quantdesk.backtest.executors import (
    ExecutorSpecError,
    LocalExecutor,
    SerialExecutor,
    TaskError,
    create_executor,
)


def square(value: int) -> int:
    return value * value


def fail_on_three(value: int) -> int:
    if value == 3:
        raise ValueError("three is not allowed")
    return value


def slow_on_zero(value: int) -> int:
    # item 0 finishes last, so completion order differs from submission order
    if value == 0:
        time.sleep(1.0)
    return value


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalExecutor]:
    executor = LocalExecutor(max_workers=2)
    # start both workers (and their imports) before tests that depend on timing
    list(executor.map_unordered(square, range(4)))
    yield executor
    executor.close()


def test_serial_executor_yields_every_item_in_input_order() -> None:
    with SerialExecutor() as executor:
        assert list(executor.map_unordered(square, [3, 1, 2])) == [(3, 9), (1, 1), (2, 4)]


def test_serial_executor_runs_lambdas_because_nothing_is_pickled() -> None:
    assert list(SerialExecutor().map_unordered(lambda value: value + 1, [1])) == [(1, 2)]


def test_serial_executor_error_names_the_failing_item() -> None:
    with pytest.raises(TaskError, match=r"task failed for 3: ValueError: three") as caught:
        list(SerialExecutor().map_unordered(fail_on_three, [1, 2, 3, 4]))
    assert caught.value.item == 3
    assert isinstance(caught.value.__cause__, ValueError)


def test_local_executor_returns_every_result(pool: LocalExecutor) -> None:
    results = dict(pool.map_unordered(square, range(10)))
    assert results == {value: value * value for value in range(10)}


def test_local_executor_yields_in_completion_order(pool: LocalExecutor) -> None:
    order = [item for item, _ in pool.map_unordered(slow_on_zero, range(6))]
    assert sorted(order) == list(range(6))
    assert order[-1] == 0


def test_local_executor_error_names_the_failing_item(pool: LocalExecutor) -> None:
    with pytest.raises(TaskError, match="task failed for 3: ValueError: three is not allowed"):
        list(pool.map_unordered(fail_on_three, range(6)))
    # the pool stays usable after a failed map
    assert dict(pool.map_unordered(square, [5])) == {5: 25}


def test_local_executor_rejects_an_unpicklable_function_up_front(pool: LocalExecutor) -> None:
    with pytest.raises(TypeError, match="define it at the top level of a module"):
        list(pool.map_unordered(lambda value: value, [1]))


def test_local_executor_rejects_zero_workers() -> None:
    with pytest.raises(ValueError, match="max_workers must be at least 1, got 0"):
        LocalExecutor(max_workers=0)


@pytest.mark.parametrize(
    ("spec", "kind", "workers"),
    [
        ("serial", SerialExecutor, None),
        ("local", LocalExecutor, None),
        (" local:4 ", LocalExecutor, 4),
        ("local:1", SerialExecutor, None),
    ],
)
def test_create_executor_parses_local_forms(spec: str, kind: type, workers: int | None) -> None:
    executor = create_executor(spec)
    try:
        assert type(executor) is kind
        if isinstance(executor, LocalExecutor):
            assert executor.max_workers == workers
    finally:
        executor.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("threads", r"unknown executor 'threads': use 'serial', 'local', 'local:N'"),
        ("", "unknown executor ''"),
        ("dask", "unknown executor 'dask'.*'dask://host:port'"),
        ("local:0", "worker count must be a whole number >= 1"),
        ("local:many", "worker count must be a whole number >= 1"),
        ("dask://scheduler", "needs a host and a port"),
        ("dask://scheduler:port", "needs a host and a port"),
    ],
)
def test_create_executor_rejects_bad_specs_with_a_hint(spec: str, message: str) -> None:
    with pytest.raises(ExecutorSpecError, match=message):
        create_executor(spec)


def exit_on_two(value: int) -> int:
    if value == 2:
        os._exit(3)  # a worker dying (killed, out of memory), not an exception
    return value


def test_local_executor_recovers_after_a_worker_dies() -> None:
    with LocalExecutor(max_workers=1) as executor:
        with pytest.raises(TaskError, match="BrokenProcessPool"):
            list(executor.map_unordered(exit_on_two, [2]))
        assert dict(executor.map_unordered(square, [4])) == {4: 16}


def warm_state(_: int) -> tuple[bool, int]:
    """In a worker, before any engine code ran: are the kernels imported and typed?"""
    import sys

    nb = sys.modules.get("quantdesk.backtest.nb")
    typed = 0 if nb is None else len(nb.allocation_nb.signatures)
    return nb is not None, typed


def current_pid(_: int) -> int:
    return os.getpid()


def test_pool_workers_start_with_the_kernels_loaded() -> None:
    with LocalExecutor(max_workers=2) as executor:
        states = [state for _, state in executor.map_unordered(warm_state, range(4))]
    assert all(imported and typed > 0 for imported, typed in states), states


def test_default_local_runs_a_small_batch_in_this_process_and_a_large_one_on_the_pool() -> None:
    from quantdesk.backtest.executors import MIN_POOL_TASKS

    with create_executor("local") as executor:
        small = {pid for _, pid in executor.map_unordered(current_pid, range(MIN_POOL_TASKS - 1))}
        large = {pid for _, pid in executor.map_unordered(current_pid, range(MIN_POOL_TASKS * 2))}
    assert small == {os.getpid()}
    if (os.cpu_count() or 1) >= 2:
        assert os.getpid() not in large
    with create_executor("local:2") as explicit:
        assert os.getpid() not in {pid for _, pid in explicit.map_unordered(current_pid, [1, 2])}
