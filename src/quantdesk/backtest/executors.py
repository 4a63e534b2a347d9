"""Executors: where parameter sweeps and walk-forward folds run.

Three implementations of one small :class:`Executor` protocol:

- :class:`SerialExecutor` runs tasks one after another in this process (tests, debugging,
  ``local:1``);
- :class:`LocalExecutor` runs them on a process pool on this machine (the default); its
  workers fork from a server that already imported the engines and loaded their numba
  kernels, and the default ``local`` runs small batches serially where a pool is slower;
- :class:`DaskExecutor` runs them on a ``distributed`` cluster (``dask://host:port``).

``map_unordered`` yields ``(item, result)`` pairs as tasks finish, so a caller can store each
result and advance a progress bar without waiting for the slowest task.  The function and the
items cross process boundaries: both must be picklable, which means the function is defined at
the top level of an importable module (no lambdas, no nested functions) and the items are plain
data.  A task that raises stops the whole map with a :class:`TaskError` naming the item (for a
sweep: the parameters) that failed; tasks not started yet are cancelled.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

from quantdesk.core.errors import ConfigurationError, QuantdeskError

if TYPE_CHECKING:
    from distributed import Client

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")
ResultT_co = TypeVar("ResultT_co", covariant=True)

# Workers fork from a server process that imported these (forkserver preload): numba, pandas
# and the loaded kernels come with every worker instead of costing each ~1 s on its first task.
WORKER_PRELOAD = ("quantdesk.backtest.warm",)
# Below this many tasks a pool of warm workers is still slower than running in this process on
# a 2-core machine (measured with bench/bench_executors.py; see bench/README.md).
MIN_POOL_TASKS = 32

_SPEC_HINT = "use 'serial', 'local', 'local:N' (N worker processes) or 'dask://host:port'"


class TaskError(QuantdeskError):
    """A task raised inside an executor; ``item`` is the input it was given.

    The original exception is chained as ``__cause__`` (for process and Dask workers it carries
    the remote traceback).
    """

    def __init__(self, item: object, error: BaseException) -> None:
        self.item = item
        super().__init__(f"task failed for {item!r}: {type(error).__name__}: {error}")


class ExecutorSpecError(ConfigurationError):
    """An executor specification string (``--executor``) is not understood."""


class Executor(Protocol):
    """Runs one picklable function over many items, yielding results as they finish."""

    def map_unordered(
        self, function: Callable[[ItemT], ResultT], items: Iterable[ItemT]
    ) -> Iterator[tuple[ItemT, ResultT]]:
        """Yield ``(item, function(item))`` for every item, in completion order.

        Raises :class:`TaskError` (naming the item) when a task raises.
        """

    def close(self) -> None:
        """Release workers and connections the executor owns."""


class _ContextManaged:
    """``with executor: ...`` closes the executor on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class SerialExecutor(_ContextManaged):
    """Runs every task in this process, in the order given (completion order = input order).

    Nothing is pickled, so it also runs lambdas; use it for tests and debugging.
    """

    def map_unordered(
        self, function: Callable[[ItemT], ResultT], items: Iterable[ItemT]
    ) -> Iterator[tuple[ItemT, ResultT]]:
        """Yield ``(item, function(item))`` lazily, one item at a time."""
        for item in items:
            try:
                result = function(item)
            except Exception as error:
                raise TaskError(item, error) from error
            yield item, result

    def close(self) -> None:
        """Nothing to release."""


class LocalExecutor(_ContextManaged):
    """Runs tasks on a pool of worker processes on this machine.

    ``max_workers`` defaults to the number of CPUs.  Workers start with ``forkserver`` where the
    platform has it (``spawn`` elsewhere): forking a parent that runs threads (a progress bar,
    a database pool) can deadlock a child.  The pool starts on first use.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        min_pool_tasks: int = 0,
        preload: tuple[str, ...] = WORKER_PRELOAD,
    ) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.max_workers = max_workers
        self.min_pool_tasks = min_pool_tasks
        self.preload = preload
        self._pool: ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            method = "forkserver" if "forkserver" in methods else "spawn"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(list(self.preload))
            self._pool = ProcessPoolExecutor(
                max_workers=self.max_workers,
                mp_context=context,
                initializer=_import_all,
                initargs=(self.preload,),
            )
        return self._pool

    def _serial_is_faster(self, tasks: int) -> bool:
        workers = self.max_workers or multiprocessing.cpu_count()
        return workers < 2 or tasks < self.min_pool_tasks

    def map_unordered(
        self, function: Callable[[ItemT], ResultT], items: Iterable[ItemT]
    ) -> Iterator[tuple[ItemT, ResultT]]:
        """Submit every item at once; yield results as they finish (in this process, in order,
        when there are fewer than ``min_pool_tasks`` items or only one CPU)."""
        _check_picklable(function)
        if self.min_pool_tasks:
            items = list(items)
            if self._serial_is_faster(len(items)):
                yield from SerialExecutor().map_unordered(function, items)
                return
        pool = self._ensure_pool()
        pending: dict[Future[ResultT], ItemT] = {}
        sequence: dict[Future[ResultT], int] = {}
        try:
            for number, item in enumerate(items):
                future = pool.submit(function, item)
                pending[future] = item
                sequence[future] = number
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                # tasks that finished together come out in submission order
                for future in sorted(done, key=sequence.__getitem__):
                    item = pending.pop(future)
                    yield item, _result_of(future, item)
        except TaskError as error:
            # a worker that died (killed, out of memory) breaks the pool: start afresh next time
            if isinstance(error.__cause__, BrokenProcessPool):
                self.close()
            raise
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Shut the pool down, cancelling tasks not started yet."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(_ContextManaged):
    """Runs tasks on a ``distributed`` cluster through ``Client.submit`` and ``as_completed``.

    ``address`` is a scheduler address (``tcp://host:port``) or an existing ``Client``.  An
    executor that opened its own client closes it in :meth:`close`; a client passed in stays
    open (its owner closes it).  Workers must be able to import the task function's module.
    """

    def __init__(self, address: str | Client) -> None:
        self._distributed = _import_distributed()
        if isinstance(address, self._distributed.Client):
            self.client: Client = address
            self._owns_client = False
        else:
            self.client = self._distributed.Client(address)
            self._owns_client = True

    def map_unordered(
        self, function: Callable[[ItemT], ResultT], items: Iterable[ItemT]
    ) -> Iterator[tuple[ItemT, ResultT]]:
        """Submit every item at once; yield results as workers finish them."""
        # pure=False: two equal items are two runs, never one cached result
        client: Any = self.client  # distributed ships no annotations
        pending = {client.submit(function, item, pure=False): item for item in items}
        try:
            for future in self._distributed.as_completed(list(pending)):
                item = pending.pop(future)
                yield item, _result_of(future, item)
        finally:
            if pending:
                client.cancel(list(pending))

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._owns_client:
            client: Any = self.client  # distributed is untyped
            client.close()


def create_executor(spec: str) -> SerialExecutor | LocalExecutor | DaskExecutor:
    """Build an executor from its command-line form.

    ``serial`` (this process), ``local`` (a process per CPU, or this process for fewer than
    :data:`MIN_POOL_TASKS` tasks or on one CPU, where a pool is slower), ``local:N`` (always N
    processes; ``local:1`` runs serially, one worker process would only add start-up cost) and
    ``dask://host:port`` (a ``distributed`` scheduler).  Anything else raises
    :class:`ExecutorSpecError` with the accepted forms.
    """
    text = spec.strip()
    kind, _, argument = text.partition(":")
    if text == "serial":
        return SerialExecutor()
    if text == "local":
        return LocalExecutor(min_pool_tasks=MIN_POOL_TASKS)
    if kind == "local":
        workers = _worker_count(argument, spec)
        return SerialExecutor() if workers == 1 else LocalExecutor(workers)
    if text.startswith("dask://"):
        address = text.removeprefix("dask://")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ExecutorSpecError(
                f"executor {spec!r}: the dask address needs a host and a port, "
                "e.g. 'dask://127.0.0.1:8786'"
            )
        return DaskExecutor(f"tcp://{address}")
    raise ExecutorSpecError(f"unknown executor {spec!r}: {_SPEC_HINT}")


def _import_all(modules: tuple[str, ...]) -> None:
    """Pool initializer: import ``modules`` (already there when forked from a preloaded
    server; under ``spawn`` this is where the warm-up happens)."""
    for name in modules:
        importlib.import_module(name)


def _import_distributed() -> Any:
    """The ``distributed`` module, typed loosely (it ships no annotations)."""
    try:
        return importlib.import_module("distributed")
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            "the dask executor needs the 'distributed' package: pip install 'quantdesk[dask]'"
        ) from error


def _worker_count(argument: str, spec: str) -> int:
    if not argument.isdigit() or int(argument) < 1:
        raise ExecutorSpecError(
            f"executor {spec!r}: the worker count must be a whole number >= 1, e.g. 'local:4'"
        )
    return int(argument)


def _check_picklable(function: Callable[..., Any]) -> None:
    # a pool reports an unpicklable function per task, long after the cause; say it up front
    try:
        pickle.dumps(function)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        name = getattr(function, "__qualname__", repr(function))
        raise TypeError(
            f"task function {name} cannot be sent to worker processes ({error}); "
            "define it at the top level of a module (no lambdas or nested functions)"
        ) from error


class _Pending(Protocol[ResultT_co]):
    def result(self) -> ResultT_co: ...


def _result_of(future: _Pending[ResultT], item: object) -> ResultT:
    """The future's result, or a :class:`TaskError` naming ``item``."""
    try:
        return future.result()
    except Exception as error:
        raise TaskError(item, error) from error
