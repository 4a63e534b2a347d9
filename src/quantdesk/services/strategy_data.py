"""Load exactly the data a strategy declares (:class:`~quantdesk.strategies.requirements.
DataRequirements`), for the backtest service and the trading runner alike.

:meth:`StrategyData.load_inputs` reads the declared bar fields (plus whatever the caller's engine
needs) for a list of symbols from ``warmup`` sessions before ``start`` to ``end``, the benchmark
series, earnings, sector labels and the point-in-time membership mask when declared, and returns
them with the constructor keywords the strategy takes::

    needs = cls.data_requirements(params)
    inputs = StrategyData(data, reference).load_inputs(needs, symbols, start, end)
    strategy = cls(**params, **inputs.keywords)
    # inputs.panel starts inputs.warmup rows before `start`: the strategy's history
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import NotFoundError
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.data.panel import PANEL_FIELDS, Panel
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService
from quantdesk.strategies.requirements import PRICE, DataRequirements

DEFAULT_BENCHMARKS = ("SP500", "^GSPC")


@dataclass(frozen=True)
class StrategyInputs:
    """The data of one strategy run. ``panel`` starts ``warmup`` rows before the requested
    start (history the strategy looks back on; never traded); ``benchmark`` is the run's
    benchmark on the panel's dates (for metrics), ``keywords`` the data keywords for the
    strategy's constructor (``benchmark``, ``earnings``, ``sectors``, ``universe``)."""

    panel: Panel
    warmup: int
    benchmark_symbol: str | None
    benchmark: pd.Series | None
    membership: np.ndarray | None
    keywords: dict[str, Any] = field(default_factory=dict)


def panel_fields(
    requirements: DataRequirements, extra: Sequence[str] = (), all_adjusted: bool = False
) -> tuple[str, ...]:
    """Bar columns to read: the declared fields and ``extra`` (what the engine needs), with
    the valuation price as ``close`` and ``adj_close`` — only ``adj_close`` when every symbol
    has adjusted closes (``all_adjusted``) and nobody asked for the raw close."""
    wanted = set(requirements.fields) | set(extra)
    if PRICE in wanted:
        wanted.discard(PRICE)
        wanted.add("adj_close")
        if not all_adjusted:
            wanted.add("close")
    return tuple(f for f in PANEL_FIELDS if f in wanted)


def has_adjusted_prices(info: InstrumentInfo) -> bool:
    """True when the instrument's source provides an adjusted close (``price_fields``)."""
    return "adj" in (info.price_fields or "").lower()


def warmup_start(start: date, warmup: int) -> date:
    """A calendar date at least ``warmup`` sessions before ``start`` (250 sessions a year, with
    room for holidays; extra rows are harmless)."""
    return start - timedelta(days=math.ceil(warmup * 365 / 250) + 15)


class StrategyData:
    """Reads a strategy's declared inputs through the data and reference-data services."""

    def __init__(self, data: DataService, reference: ReferenceDataService) -> None:
        self._data = data
        self._reference = reference

    def load_inputs(
        self,
        requirements: DataRequirements,
        universe: Sequence[str],
        start: date | None,
        end: date | None,
        *,
        benchmark: str | None = None,
        index: str | None = None,
        extra_fields: Sequence[str] = (),
        timeframe: Timeframe = Timeframe.D1,
        instruments: list[InstrumentInfo] | None = None,
        label: str | None = None,
    ) -> StrategyInputs:
        """Load ``requirements`` for the symbols ``universe`` between ``start`` and ``end``.

        ``requirements.warmup`` sessions are loaded before ``start`` (``start`` is the first
        decision date). ``benchmark``: the run's benchmark symbol (already resolved; None for
        none). ``index``: a point-in-time index whose membership mask restricts the symbols to
        those that were members in the window. ``extra_fields``: bar fields the caller needs
        besides the strategy's (e.g. an engine's open/high/low). ``instruments``: the stored
        instruments when the caller has them (saves a query). ``label`` names the universe in
        errors.
        """
        infos = instruments if instruments is not None else self._data.get_symbols()
        chosen = set(universe)
        all_adjusted = all(has_adjusted_prices(i) for i in infos if i.symbol in chosen)
        fields = panel_fields(requirements, extra_fields, all_adjusted)
        load_start = start
        if requirements.warmup > 0 and start is not None:
            load_start = warmup_start(start, requirements.warmup)
        panel = self._data.load_panel(sorted(chosen), fields, load_start, end, timeframe)
        first = 0
        if load_start != start and start is not None:
            first = int(pd.DatetimeIndex(panel.dates).searchsorted(pd.Timestamp(start)))
            panel = _keep_columns_from(panel, first)
        panel = _drop_empty_columns(panel)
        name = label or ", ".join(sorted(chosen)[:5])
        if len(panel.dates) <= first or not panel.symbols:
            raise NotFoundError(
                f"no daily bars for universe {name!r} between {start or 'the start'} and "
                f"{end or 'the end'}"
            )
        membership = None
        if index is not None:
            membership = np.asarray(
                self._reference.membership_mask(index, panel.dates, panel.symbols), dtype=bool
            )
            keep = np.asarray(membership.any(axis=0), dtype=bool)
            if not keep.any():
                raise NotFoundError(
                    f"no member of index {index!r} has bars in the window; load membership "
                    "with 'quantdesk data membership'"
                )
            panel = take_columns(panel, keep)
            membership = membership[:, keep]
        run_benchmark = (
            None if benchmark is None else self.benchmark_series(benchmark, panel, start, end)
        )
        keywords = self.keywords(requirements, infos, panel, run_benchmark, membership, start, end)
        return StrategyInputs(panel, first, benchmark, run_benchmark, membership, keywords)

    def keywords(
        self,
        requirements: DataRequirements,
        instruments: list[InstrumentInfo],
        panel: Panel,
        run_benchmark: pd.Series | None,
        membership: np.ndarray | None,
        start: date | None = None,
        end: date | None = None,
    ) -> dict[str, Any]:
        """The data keywords ``requirements`` declare, for the strategy's constructor. A
        declared ``benchmark_symbol`` is loaded (it must exist); otherwise the run's benchmark
        is given when there is one."""
        out: dict[str, Any] = {}
        if requirements.benchmark:
            symbol = requirements.benchmark_symbol
            if symbol is not None:
                if symbol not in {i.symbol for i in instruments}:
                    raise NotFoundError(
                        f"the strategy needs benchmark {symbol!r}, which has no stored bars; "
                        "import it first"
                    )
                out["benchmark"] = self.benchmark_series(symbol, panel, start, end)
            elif run_benchmark is not None:
                out["benchmark"] = run_benchmark
        if requirements.earnings:
            earnings = self._reference.get_earnings(list(panel.symbols))
            if len(earnings):
                out["earnings"] = earnings
        if requirements.sectors:
            sectors = {i.symbol: i.sector for i in instruments if i.sector}
            if sectors:
                out["sectors"] = pd.Series(sectors)
        if requirements.membership and membership is not None:
            out["universe"] = membership
        return out

    def benchmark_series(
        self, symbol: str, panel: Panel, start: date | None, end: date | None
    ) -> pd.Series:
        """``symbol``'s valuation price on the panel's dates (carried forward over its gaps)."""
        first = pd.Timestamp(panel.dates[0]).date() if len(panel.dates) else start
        loaded = self._data.load_panel([symbol], ("close", "adj_close"), first, end)
        _, prices = loaded.prices()
        series = pd.Series(prices[:, 0], index=pd.DatetimeIndex(loaded.dates, name="date"))
        dates = pd.DatetimeIndex(panel.dates, name="date")
        aligned = series.dropna().reindex(series.index.union(dates)).ffill().reindex(dates)
        return aligned.rename(symbol)


def resolve_benchmark(instruments: list[InstrumentInfo], wanted: str | None) -> str | None:
    """The benchmark symbol: as given (must exist), else SP500, else ^GSPC, else none.

    ``"none"`` turns the benchmark off."""
    import difflib

    known = [i.symbol for i in instruments]
    if wanted is not None:
        if wanted.lower() == "none":
            return None
        if wanted not in known:
            close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise NotFoundError(f"unknown benchmark symbol {wanted!r}{hint}")
        return wanted
    return next((s for s in DEFAULT_BENCHMARKS if s in known), None)


def take_columns(panel: Panel, keep: np.ndarray) -> Panel:
    symbols = tuple(s for s, ok in zip(panel.symbols, keep.tolist(), strict=True) if ok)
    return Panel(panel.dates, symbols, {k: v[:, keep] for k, v in panel.fields.items()})


def _keep_columns_from(panel: Panel, first: int) -> Panel:
    """Only symbols with a price on or after row ``first`` (the start): a symbol whose data
    ended in the warm-up is not part of the run."""
    values = [v for k, v in panel.fields.items() if k in ("close", "adj_close")]
    if first == 0 or not values:
        return panel
    present = np.zeros(len(panel.symbols), dtype=bool)
    for array in values:
        present |= np.isfinite(array[first:]).any(axis=0)
    return panel if present.all() else take_columns(panel, present)


def _drop_empty_columns(panel: Panel) -> Panel:
    values = [v for k, v in panel.fields.items() if k in ("close", "adj_close")]
    if not values:
        return panel
    present = np.zeros(len(panel.symbols), dtype=bool)
    for array in values:
        present |= np.isfinite(array).any(axis=0)
    return panel if present.all() else take_columns(panel, present)


__all__ = [
    "DEFAULT_BENCHMARKS",
    "StrategyData",
    "StrategyInputs",
    "has_adjusted_prices",
    "panel_fields",
    "resolve_benchmark",
    "take_columns",
    "warmup_start",
]
