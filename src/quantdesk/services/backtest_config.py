"""A backtest run's complete configuration as JSON, and back.

Everything a re-run needs is stored with the run: strategy and every parameter, universe (its
full label), requested window, benchmark, engine, costs, stop-loss rule (stop, VIX bands,
trailing, take-profit), VIX symbol, timeframe, initial cash, look-ahead probe seed — plus what
explains a difference if there is one: a snapshot id of the data the run read and the package
version. :func:`request_from_config` rebuilds the :class:`RunRequest` (``quantdesk backtest
--from-run ID``).
"""

from __future__ import annotations

import hashlib
import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.stops import MissingVix, StopLossRule
from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import ConfigurationError
from quantdesk.data.panel import Panel
from quantdesk.research.universe import parse_universe
from quantdesk.services.backtest_run import RunRequest

CONFIG_VERSION = 1


@dataclass(frozen=True)
class RunConfig:
    """What a stored run was asked to do (the request, validated parameters, probe seed) and
    the data snapshot it read."""

    request: RunRequest
    params: dict[str, Any]
    lookahead_seed: int = 0
    data_snapshot: str | None = None
    package_version: str | None = None


def package_version() -> str:
    from quantdesk import __version__

    return __version__


def data_snapshot(panel: Panel, benchmark: Any = None, memo: SnapshotMemo | None = None) -> str:
    """A short content hash of the panel the run read (dates, symbols, every field) and its
    benchmark: equal snapshots mean the run saw the same data. ``memo``: panels hashed before
    (a server's cached panel is hashed once, not on every run)."""
    digest = memo.panel_digest(panel) if memo is not None else _panel_digest(panel)
    if benchmark is not None:
        digest.update(np.ascontiguousarray(benchmark, dtype=np.float64).data)
    return digest.hexdigest()


def snapshot_later(
    panel: Panel, benchmark: Any = None, memo: SnapshotMemo | None = None
) -> Callable[[], str]:
    """:func:`data_snapshot` made on a thread while the run goes on; call the result for it.

    Hashing releases the GIL, so the 20-70 MB of a large panel (≈ 0.03 s) are hashed beside
    the engine instead of after it (issue 11). Panels are never written into, so the thread
    reads what the run reads."""
    done: dict[str, str] = {}
    failed: list[BaseException] = []

    def work() -> None:
        try:
            done["snapshot"] = data_snapshot(panel, benchmark, memo)
        except BaseException as error:  # handed to the caller, who sees it as its own
            failed.append(error)

    thread = threading.Thread(target=work, name="data-snapshot", daemon=True)
    thread.start()

    def result() -> str:
        thread.join()
        if failed:
            raise failed[0]
        return done["snapshot"]

    return result


def _panel_digest(panel: Panel) -> hashlib.blake2b:
    digest = hashlib.blake2b(digest_size=12)
    digest.update(np.asarray(panel.dates).astype("datetime64[ns]").tobytes())
    digest.update("\x1f".join(panel.symbols).encode())
    for name in sorted(panel.fields):
        digest.update(name.encode())
        # the array's own buffer: ``tobytes()`` copied each field (23 MB on 515 symbols)
        digest.update(np.ascontiguousarray(panel.fields[name], dtype=np.float64).data)
    return digest


class SnapshotMemo:
    """The panel part of :func:`data_snapshot` for the panels hashed last, by identity: the
    same array objects (a cached panel, which nobody writes into) have the same content, so
    hashing 20-40 MB again on every run of a warm server is skipped.

    Entries hold weak references, so a memo never keeps a panel alive, and an entry whose
    arrays are gone can never match a new array that reuses their address."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._entries: list[
            tuple[tuple[str, ...], tuple[weakref.ref[Any], ...], hashlib.blake2b]
        ] = []
        self._lock = threading.Lock()

    def panel_digest(self, panel: Panel) -> hashlib.blake2b:
        arrays = (panel.dates, *(panel.fields[name] for name in sorted(panel.fields)))
        names = (*panel.symbols, "\x1e", *sorted(panel.fields))
        with self._lock:
            for key, refs, digest in self._entries:
                if key == names and all(r() is a for r, a in zip(refs, arrays, strict=True)):
                    return digest.copy()
        digest = _panel_digest(panel)
        refs = tuple(weakref.ref(a) for a in arrays)
        with self._lock:
            live = [e for e in self._entries if all(r() is not None for r in e[1])]
            self._entries = [*live, (names, refs, digest.copy())][-self._size :]
        return digest


def config_to_json(config: RunConfig) -> dict[str, Any]:
    """The JSON document stored in ``backtest_runs.config`` (floats exact, inf as a string)."""
    request = config.request
    return {
        "version": CONFIG_VERSION,
        "strategy": request.strategy,
        "params": config.params,
        "universe": request.universe.label,
        "start": _iso(request.start),
        "end": _iso(request.end),
        "benchmark": request.benchmark,
        "engine": request.engine,
        "costs": {**asdict(request.costs), "fill_timing": request.costs.fill_timing.value},
        "initial_cash": request.initial_cash,
        "stop_loss": _stop_to_json(request.stop_loss),
        "vix_symbol": request.vix_symbol,
        "timeframe": request.timeframe.value,
        "lookahead_seed": config.lookahead_seed,
        "data_snapshot": config.data_snapshot,
        "package_version": config.package_version,
    }


def config_from_json(document: dict[str, Any], run_id: str) -> RunConfig:
    """The configuration of stored run ``run_id``; a run stored before configurations were
    kept (or a malformed one) raises :class:`ConfigurationError` naming the run."""
    if not document:
        raise ConfigurationError(
            f"run {run_id} was stored without its configuration (before it was kept); "
            "it cannot be re-run"
        )
    try:
        costs = dict(document["costs"])
        costs["fill_timing"] = FillTiming(costs["fill_timing"])
        request = RunRequest(
            strategy=str(document["strategy"]),
            start=_date(document["start"]),
            end=_date(document["end"]),
            universe=parse_universe(str(document["universe"])),
            benchmark=document["benchmark"],
            engine=str(document["engine"]),
            costs=CostModel(**costs),
            initial_cash=float(document["initial_cash"]),
            stop_loss=_stop_from_json(document["stop_loss"]),
            vix_symbol=str(document["vix_symbol"]),
            timeframe=Timeframe(document["timeframe"]),
        )
        return RunConfig(
            request=request,
            params=dict(document["params"]),
            lookahead_seed=int(document["lookahead_seed"]),
            data_snapshot=document.get("data_snapshot"),
            package_version=document.get("package_version"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigurationError(
            f"run {run_id}: stored configuration is not readable ({error})"
        ) from None


def _stop_to_json(rule: StopLossRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "stop": rule.stop,
        # LOW:HIGH:STOP as typed on the command line: JSON has no infinity
        "bands": None if rule.bands is None else [":".join(map(repr, b)) for b in rule.bands],
        "take_profit": rule.take_profit,
        "trailing": rule.trailing,
        "before_vix": rule.before_vix.value,
    }


def _stop_from_json(document: dict[str, Any] | None) -> StopLossRule | None:
    if document is None:
        return None
    bands = document["bands"]
    parsed = None if bands is None else tuple(_band(text) for text in bands)
    return StopLossRule(
        stop=document["stop"],
        bands=parsed,
        take_profit=document["take_profit"],
        trailing=bool(document["trailing"]),
        before_vix=MissingVix(document["before_vix"]),
    )


def _band(text: str) -> tuple[float, float, float]:
    low, high, stop = (float(part) for part in text.split(":"))
    return (low, high if not math.isnan(high) else math.inf, stop)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)
