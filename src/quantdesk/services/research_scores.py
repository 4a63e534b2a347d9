"""Factor scores for the research service: compute a score set over a universe, store it in
``factor_scores`` (one transaction replacing the set's rows on the scored dates, so recomputing
is idempotent) and query what is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.core.errors import NotFoundError
from quantdesk.data.membership import membership_mask
from quantdesk.data.panel import Panel
from quantdesk.data.sample import BENCHMARK_SYMBOL
from quantdesk.db.database import Database
from quantdesk.db.repositories import instruments as instrument_repo
from quantdesk.db.repositories import research as research_repo
from quantdesk.research.errors import ResearchInputError
from quantdesk.research.inputs import DateLike, ScoreSet, as_date, parse_score_set
from quantdesk.research.lookback import ETF_FACTOR_ROWS, calendar_window, momentum_rows
from quantdesk.research.results import ScoreSnapshot, ScoreTable
from quantdesk.research.scoring import (
    FloatArray,
    as_of_rows,
    component_coverage,
    day_index,
    equal_weight_benchmark,
    flatten_components,
    score_frame,
    valuation_prices,
    with_valuation_prices,
)
from quantdesk.research.universe import UniverseKind, parse_universe
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService
from quantdesk.services.research_universe import UniverseLoader

if TYPE_CHECKING:
    # the factor modules load when scores are computed, not with the services
    from quantdesk.factors import CompositeMomentumConfig

EQUAL_WEIGHT_BENCHMARK = "equal-weight universe average"
BENCHMARK_CANDIDATES = (BENCHMARK_SYMBOL, "^GSPC")
_PRICE_FIELDS = ("close", "adj_close", "volume")


class ScoreBook:
    """Computes, stores and reads the score sets (see :class:`ScoreSet`)."""

    def __init__(
        self,
        database: Database,
        data: DataService,
        reference: ReferenceDataService,
        universes: UniverseLoader,
    ) -> None:
        self._db = database
        self._data = data
        self._reference = reference
        self._universes = universes

    # -- computing -------------------------------------------------------------------------
    def compute(
        self,
        score_set: str,
        *,
        dates: Sequence[DateLike] | DateLike | None,
        universe: str | None,
        benchmark: str | None,
        config: CompositeMomentumConfig | None,
        use_earnings: bool,
    ) -> ScoreTable:
        """See :meth:`quantdesk.services.research.ResearchService.compute_scores`."""
        # the factor modules: loaded on the first computation, not with the services
        from quantdesk.factors import CompositeMomentumConfig, month_end_rows

        kind = parse_score_set(score_set)
        spec = parse_universe(universe or _default_universe(kind))
        config = config or CompositeMomentumConfig()
        wanted = _wanted_dates(dates)
        symbols, members = self._universes.symbols(spec)
        rows_needed = (
            momentum_rows(config) if kind is ScoreSet.MOMENTUM_COMPOSITE else ETF_FACTOR_ROWS
        )
        start = None if wanted is None else wanted[0] - calendar_window(rows_needed)
        end = None if wanted is None else wanted[-1]
        loaded = self._universes.load_panel(
            symbols,
            _PRICE_FIELDS,
            start,
            end,
            every_symbol=spec.kind is UniverseKind.LIST,
            what=f"universe {spec.label!r}",
        )
        panel = with_valuation_prices(loaded)
        rows = (
            month_end_rows(panel.dates, include_final=True)
            if wanted is None
            else as_of_rows(panel.dates, wanted)
        )
        mask = (
            None
            if members is None
            else membership_mask(members, str(spec.index), day_index(panel.dates), panel.symbols)
        )
        infos = {i.symbol: i for i in self._data.get_symbols()}
        sectors = np.asarray(
            [infos[s].sector if s in infos else None for s in panel.symbols], dtype=object
        )
        if kind is ScoreSet.MOMENTUM_COMPOSITE:
            label, frame, raw = self._momentum_scores(
                panel, rows, mask, sectors, benchmark, config, use_earnings, start, end
            )
        else:
            label, frame, raw = None, *_etf_scores(panel, rows, mask, sectors)
        scored_dates = tuple(d.date() for d in day_index(np.asarray(panel.dates)[rows]))
        # A date on which nothing could be scored keeps what is stored: an empty set never
        # replaces a non-empty one.
        with_rows = set(frame["date"])
        written = self._store(kind.value, spec.label, sorted(with_rows), frame)
        sector_of = {s: infos[s].sector if s in infos else None for s in panel.symbols}
        frame = frame.assign(sector=frame["symbol"].map(sector_of), universe=spec.label)
        leading = [
            "date",
            "symbol",
            "sector",
            "universe",
            "score",
            "rank",
            "sector_rank",
            "weight_coverage",
        ]
        rest = [c for c in frame.columns if c not in leading]
        ordered = frame[leading + rest]
        return ScoreTable(
            score_set=kind.value,
            universe=spec.label,
            benchmark=label,
            dates=scored_dates,
            components=tuple(raw),
            symbols=len(panel.symbols),
            symbols_per_component=component_coverage(raw),
            rows_written=written,
            frame=ordered.reset_index(drop=True),
            dates_without_scores=tuple(d for d in scored_dates if d not in with_rows),
        )

    # -- the staleness rule ----------------------------------------------------------------
    def data_date(self, score_set: str, universe: str | None, as_of: date | None) -> date | None:
        """The newest date the universe's symbols have daily bars for, on or before ``as_of``
        (an index, ETF or benchmark with later bars does not count for a stock universe)."""
        kind = parse_score_set(score_set)
        symbols, _ = self._universes.symbols(parse_universe(universe or _default_universe(kind)))
        wanted = set(symbols)
        lasts = [day for s, day in self._data.last_bar_dates().items() if s in wanted]
        if not lasts:
            return None
        newest = max(lasts)
        return newest if as_of is None else min(newest, as_of)

    def refresh(
        self,
        score_set: str,
        *,
        date: DateLike | None,
        universe: str | None,
        top: int | None,
        compute: bool | None,
        whole_history: bool = True,
    ) -> ScoreSnapshot:
        """See :meth:`quantdesk.services.research.ResearchService.current_scores`
        (``whole_history=False``: with nothing stored, score the data date only)."""
        kind = parse_score_set(score_set)
        as_of = None if date is None else as_date(date)
        data_day = self.data_date(kind.value, universe, as_of)
        with self._db.read() as connection:
            stored_day = research_repo.latest_score_date(connection, kind.value, as_of)
        stale = stored_day is not None and data_day is not None and stored_day < data_day
        computed = None
        if compute or (compute is None and (stored_day is None or stale)):
            # nothing stored: the whole history; stale or a given date: that one date only
            target = data_day if (stale or as_of is not None or not whole_history) else None
            computed = self.compute(
                kind.value,
                dates=None if target is None else [target],
                universe=universe,
                benchmark=None,
                config=None,
                use_earnings=True,
            )
        frame = self.latest(kind.value, as_of, universe, top)
        shown = None if frame.empty else _plain_date(frame["date"].iloc[0])
        return ScoreSnapshot(
            score_set=kind.value,
            universe=universe,
            date=shown,
            data_date=data_day,
            computed=computed,
            note=staleness_note(shown, data_day),
            frame=frame,
        )

    def _momentum_scores(
        self,
        panel: Panel,
        rows: np.ndarray,
        mask: np.ndarray | None,
        sectors: np.ndarray,
        benchmark: str | None,
        config: CompositeMomentumConfig,
        use_earnings: bool,
        start: date | None,
        end: date | None,
    ) -> tuple[str, pd.DataFrame, dict[str, FloatArray]]:
        from quantdesk.factors import align_earnings, composite_momentum  # lazily: see compute

        label, bench = self._benchmark(benchmark, panel, mask, start, end)
        earnings = None
        if use_earnings:
            frame = self._reference.get_earnings(list(panel.symbols))
            if len(frame):
                earnings = align_earnings(frame, panel.dates, panel.symbols)
        result = composite_momentum(
            panel,
            bench,
            earnings,
            config,
            universe=mask,
            sectors=sectors if any(sectors) else None,
            at=rows,
        )
        raw = dict(result.raw)
        table = score_frame(
            result.dates,
            panel.symbols,
            result.score,
            result.rank,
            result.sector_rank,
            result.components,
            raw,
            result.coverage,
        )
        return label, table, raw

    def _benchmark(
        self,
        requested: str | None,
        panel: Panel,
        mask: np.ndarray | None,
        start: date | None,
        end: date | None,
    ) -> tuple[str, FloatArray]:
        if requested is not None:
            candidates = [requested.strip() if requested.startswith("^") else requested.upper()]
        else:
            known = {i.symbol for i in self._data.get_symbols()}
            candidates = [s for s in BENCHMARK_CANDIDATES if s in known]
        target = day_index(panel.dates)
        for symbol in candidates:
            loaded = self._data.load_panel([symbol], ("close", "adj_close"), start, end)
            values = pd.Series(valuation_prices(loaded)[:, 0], index=day_index(loaded.dates))
            values = values.dropna()
            if values.empty:
                continue
            # Carry the last known benchmark price onto panel dates it did not trade (never back).
            aligned = values.reindex(values.index.union(target)).ffill().reindex(target)
            series: FloatArray = np.asarray(aligned.to_numpy(), dtype=np.float64)
            return symbol, series
        if requested is not None:
            raise NotFoundError(
                f"benchmark {requested!r} has no daily bars between {start} and {end}"
            )
        _, prices = panel.prices()
        return EQUAL_WEIGHT_BENCHMARK, equal_weight_benchmark(prices, mask)

    def _store(
        self,
        score_set: str,
        universe: str,
        dates: Sequence[date],
        frame: pd.DataFrame,
    ) -> int:
        # score_frame's component columns come in pairs, ``<name>`` then ``<name>_raw``
        components = [c[: -len("_raw")] for c in frame.columns if c.endswith("_raw")]
        codes, symbols = pd.factorize(frame["symbol"])
        with self._db.transaction() as connection:
            ids = instrument_repo.instrument_ids(connection, [str(s) for s in symbols])
            id_of_code = np.array([ids[str(s)] for s in symbols], dtype=np.int64)
            # Python ints with None where there is no sector, without a test per row
            sector_rank = frame["sector_rank"].to_numpy(dtype=np.float64, na_value=np.nan)
            sector_ints = np.nan_to_num(sector_rank).astype(np.int64).astype(object)
            sector_ints[np.isnan(sector_rank)] = None
            scores = research_repo.ScoreColumns(
                dates=frame["date"].tolist(),
                instrument_ids=id_of_code[codes],
                universe=universe,
                score=frame["score"].to_numpy(dtype=np.float64),
                rank=frame["rank"].to_numpy(dtype=np.int64),
                sector_rank=sector_ints.tolist(),
                weight_coverage=frame["weight_coverage"].to_numpy(dtype=np.float64),
                components={
                    name: (
                        frame[name].to_numpy(dtype=np.float64),
                        frame[f"{name}_raw"].to_numpy(dtype=np.float64),
                    )
                    for name in components
                },
            )
            return research_repo.replace_scores(connection, score_set, dates, scores)

    # -- queries ---------------------------------------------------------------------------
    def stored_dates(self, score_set: str) -> list[date]:
        """Dates with stored rows of ``score_set``, ascending."""
        kind = parse_score_set(score_set)
        with self._db.read() as connection:
            return research_repo.score_dates(connection, kind.value)

    def latest(
        self,
        score_set: str,
        date: DateLike | None,
        universe: str | None,
        top: int | None,
    ) -> pd.DataFrame:
        """See :meth:`quantdesk.services.research.ResearchService.latest_scores`."""
        kind = parse_score_set(score_set)
        if top is not None and top < 1:
            raise ResearchInputError(f"top must be at least 1, got {top}")
        as_of = None if date is None else as_date(date)
        with self._db.read() as connection:
            day = research_repo.latest_score_date(connection, kind.value, as_of)
            frame = (
                research_repo.empty_score_frame()
                if day is None
                else research_repo.load_scores_on(connection, kind.value, day)
            )
        if universe is not None and day is not None:
            symbols, mask = self._universes.resolve(universe, [day])
            keep = set(symbols) if mask is None else set(np.asarray(symbols)[mask[0]].tolist())
            frame = frame[frame["symbol"].isin(keep)]
        if top is not None:
            frame = frame.head(top)
        return flatten_components(frame.reset_index(drop=True))

    def history(self, symbol: str, score_set: str) -> pd.DataFrame:
        """See :meth:`quantdesk.services.research.ResearchService.score_history`."""
        kind = parse_score_set(score_set)
        wanted = symbol.strip().upper() if not symbol.startswith("^") else symbol
        with self._db.read() as connection:
            if not instrument_repo.instrument_ids(connection, [wanted]):
                raise NotFoundError(f"unknown symbol {symbol!r}")
            frame = research_repo.load_score_history(connection, kind.value, wanted)
        return flatten_components(frame)


def _default_universe(kind: ScoreSet) -> str:
    return "etf" if kind is ScoreSet.ETF_FACTOR else UniverseKind.ALL.value


def _plain_date(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def staleness_note(shown: date | None, data_day: date | None) -> str | None:
    """Words for a user when the scores shown are older than the universe's data."""
    if shown is None or data_day is None or shown >= data_day:
        return None
    return (
        f"scores are from {shown}, the latest scored date; the universe has data up to "
        f"{data_day} but no score could be computed there"
    )


def _wanted_dates(dates: Sequence[DateLike] | DateLike | None) -> list[date] | None:
    if dates is None:
        return None
    values = [dates] if isinstance(dates, date | datetime | str | pd.Timestamp) else list(dates)
    if not values:
        raise ResearchInputError("dates is empty; pass None for every month end")
    return sorted({as_date(v) for v in values})


def _etf_scores(
    panel: Panel,
    rows: np.ndarray,
    mask: np.ndarray | None,
    sectors: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, FloatArray]]:
    from quantdesk.factors import etf_factor_scores, rank  # lazily: see ScoreBook.compute

    _, prices = panel.prices()
    result = etf_factor_scores(prices, universe=mask, at=rows)
    sector_rank = rank(result.score, ascending=False, groups=sectors) if any(sectors) else None
    member = None if mask is None else mask[rows]
    raw = {
        name: values if member is None else np.where(member, values, np.nan)
        for name, values in result.raw.items()
    }
    table = score_frame(
        np.asarray(panel.dates)[rows],
        panel.symbols,
        result.score,
        result.rank,
        sector_rank,
        result.components,
        raw,
    )
    return table, raw
