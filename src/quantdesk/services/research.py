"""The research service: factor scores, rankings, the sector-momentum signal and recommendations.

Prices come through :class:`DataService`, earnings and membership through
:class:`ReferenceDataService` and the membership repository; the maths is the pure factor and
portfolio layers; results are stored in ``factor_scores`` and ``signals``, each write one
transaction that replaces the slice it recomputes (so recomputing is idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from quantdesk.core.clock import Clock
from quantdesk.core.enums import AssetClass
from quantdesk.core.errors import NotFoundError
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.data.membership import membership_mask
from quantdesk.data.panel import Panel
from quantdesk.data.sample import BENCHMARK_SYMBOL
from quantdesk.db.database import Database
from quantdesk.db.repositories import instruments as instrument_repo
from quantdesk.db.repositories import membership as membership_repo
from quantdesk.db.repositories import research as research_repo
from quantdesk.factors import (
    CompositeMomentumConfig,
    align_earnings,
    composite_momentum,
    etf_factor_scores,
    month_end_rows,
    rank,
    sector_rotation_signal,
)
from quantdesk.portfolio import (
    ConstructionConfig,
    RebalancePlan,
    TradeSide,
    WeightingMethod,
    construct,
    rebalance_trades,
)
from quantdesk.portfolio import top_n as select_top_n
from quantdesk.research.errors import ResearchInputError
from quantdesk.research.results import Recommendation, ScoreTable, SectorSignal
from quantdesk.research.scoring import (
    FloatArray,
    as_of_rows,
    component_coverage,
    day_index,
    equal_weight_benchmark,
    flatten_components,
    last_valid,
    score_frame,
    valuation_prices,
    with_valuation_prices,
)
from quantdesk.research.sector import sector_ranking, signal_report
from quantdesk.research.universe import (
    SPDR_SECTOR_ETFS,
    UniverseError,
    UniverseKind,
    UniverseSpec,
    parse_universe,
)
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService

SECTOR_STRATEGY = "sector-rotation"
EQUAL_WEIGHT_BENCHMARK = "equal-weight universe average"
BENCHMARK_CANDIDATES = (BENCHMARK_SYMBOL, "^GSPC")
_PRICE_FIELDS = ("close", "adj_close", "volume")
# Trading rows → calendar days to load before the first scored date: 7/5 for weekends, 10 %
# for holidays, plus a month of slack. Loading less than the full history is only a speed-up;
# the scores at a date are identical as long as the window covers the longest lookback.
_CALENDAR_PER_ROW = 7 / 5 * 1.1
_SLACK_DAYS = 30
_ETF_FACTOR_ROWS = 253  # 252 daily returns for the quality component


class ScoreSet(StrEnum):
    """The stored score sets."""

    MOMENTUM_COMPOSITE = "momentum-composite"
    ETF_FACTOR = "etf-factor"


def parse_score_set(value: str) -> ScoreSet:
    try:
        return ScoreSet(value.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in ScoreSet)
        raise ResearchInputError(f"unknown score set {value!r}; choose from {choices}") from None


DateLike = date | datetime | str | pd.Timestamp


def _as_date(value: DateLike, what: str = "date") -> date:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ResearchInputError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None
    if pd.isna(stamp):
        raise ResearchInputError(f"{what} {value!r} is not a date (YYYY-MM-DD)")
    return date(stamp.year, stamp.month, stamp.day)


def _lookback_days(rows: int) -> timedelta:
    return timedelta(days=int(rows * _CALENDAR_PER_ROW) + _SLACK_DAYS)


def _momentum_rows(config: CompositeMomentumConfig) -> int:
    horizons = [h + config.price_skip for h in config.price_horizons]
    return max(
        config.rs_lookback,
        *horizons,
        config.volume_long,
        config.eps_lookback,
        config.pe_lookback,
    )


class ResearchService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        data: DataService,
        reference: ReferenceDataService,
    ) -> None:
        self._db = database
        self._clock = clock
        self._data = data
        self._reference = reference

    # -- universes -------------------------------------------------------------------------
    def resolve_universe(
        self, spec: str | UniverseSpec, dates: Sequence[date] | None = None
    ) -> tuple[list[str], np.ndarray | None]:
        """Symbols of a universe and, for index universes, the dates × symbols membership mask
        on ``dates`` (``None`` for the other kinds, whose membership does not change).

        Unknown symbols, unknown indexes and empty universes raise errors naming them.
        """
        parsed = parse_universe(spec) if isinstance(spec, str) else spec
        symbols, members = self._universe_symbols(parsed)
        if members is None or dates is None:
            return symbols, None
        index = pd.DatetimeIndex([pd.Timestamp(d) for d in dates])
        return symbols, membership_mask(members, str(parsed.index), index, symbols)

    def _universe_symbols(self, spec: UniverseSpec) -> tuple[list[str], pd.DataFrame | None]:
        """Symbols of the stored instruments in ``spec`` (and the membership history of an index
        universe). Whether they have bars is checked on the loaded panel, which is far cheaper
        than a coverage query over every bar."""
        infos = self._data.get_symbols()
        if spec.kind is UniverseKind.LIST:
            known = {i.symbol for i in infos}
            unknown = [s for s in spec.symbols if s not in known]
            if unknown:
                raise NotFoundError(f"unknown symbol(s) in universe: {', '.join(unknown)}")
            return sorted(spec.symbols), None
        if spec.kind is UniverseKind.ETF:
            return self._etf_symbols(infos), None
        if spec.kind is UniverseKind.ALL:
            equities = sorted(i.symbol for i in infos if i.asset_class is AssetClass.EQUITY)
            if not equities:
                raise NotFoundError(
                    "universe 'all' has no equity instrument; load data first "
                    "(quantdesk data sample / data import)"
                )
            return equities, None
        return self._index_symbols(spec, infos)

    def _index_symbols(
        self, spec: UniverseSpec, infos: list[InstrumentInfo]
    ) -> tuple[list[str], pd.DataFrame]:
        name = str(spec.index)
        with self._db.read() as connection:
            known = membership_repo.index_names(connection)
            if name not in known:
                loaded = ", ".join(sorted(known)) or "none"
                raise UniverseError(
                    f"no membership history for index {name!r} (loaded: {loaded}); "
                    f"run `quantdesk data membership {name}`"
                )
            members = membership_repo.load_membership(connection, name).assign(index=name)
        ever = set(members["symbol"].astype(str))
        tradable = {i.symbol for i in infos if i.asset_class is not AssetClass.INDEX}
        symbols = sorted(ever & tradable)
        if not symbols:
            raise NotFoundError(f"no member of index {name!r} is a stored instrument")
        return symbols, members

    @staticmethod
    def _etf_symbols(infos: Iterable[InstrumentInfo]) -> list[str]:
        stored = list(infos)
        etfs = sorted(i.symbol for i in stored if i.asset_class is AssetClass.ETF)
        if not etfs:
            known = {i.symbol for i in stored}
            etfs = [s for s in SPDR_SECTOR_ETFS if s in known]
        if not etfs:
            raise NotFoundError(
                "no ETF stored (none labelled etf, no SPDR sector ETF "
                f"{', '.join(SPDR_SECTOR_ETFS)}); import ETF prices first"
            )
        return etfs

    def _load_panel(
        self,
        symbols: list[str],
        fields: tuple[str, ...],
        start: date | None,
        end: date | None,
        *,
        every_symbol: bool,
        what: str,
    ) -> Panel:
        """The panel of ``symbols`` without the columns that have no bar in the window.

        ``every_symbol``: a symbol without bars is an error naming it (for explicit lists);
        otherwise it is dropped. No bar at all is always an error naming ``what``.
        """
        panel = self._data.load_panel(symbols, fields, start, end)
        has_bars = np.isfinite(panel["close"]).any(axis=0)
        window = f"between {start or 'the first bar'} and {end or 'the last bar'}"
        if every_symbol and not has_bars.all():
            missing = [s for s, ok in zip(panel.symbols, has_bars.tolist(), strict=True) if not ok]
            raise NotFoundError(f"no daily bars for {', '.join(missing)} {window}")
        if not has_bars.any():
            raise NotFoundError(f"no daily bars for {what} {window}")
        if has_bars.all():
            return panel
        keep = np.flatnonzero(has_bars)
        return Panel(
            panel.dates,
            tuple(panel.symbols[k] for k in keep),
            {name: values[:, keep] for name, values in panel.fields.items()},
        )

    # -- scores ----------------------------------------------------------------------------
    def compute_scores(
        self,
        score_set: str = ScoreSet.MOMENTUM_COMPOSITE,
        *,
        dates: Sequence[DateLike] | DateLike | None = None,
        universe: str | None = None,
        benchmark: str | None = None,
        config: CompositeMomentumConfig | None = None,
        use_earnings: bool = True,
    ) -> ScoreTable:
        """Compute a score set and store it, replacing the set's rows on those dates.

        ``dates``: default every month end of the price history (the last trading day of each
        month, the final partial month included); given dates are scored on the last trading
        day on or before each. ``universe``: a spec (see :mod:`quantdesk.research.universe`),
        default ``all`` for ``momentum-composite`` and ``etf`` for ``etf-factor``.
        ``benchmark`` (momentum only): a stored symbol; default ``SP500``, else ``^GSPC``, else
        the equal-weight average of the universe (the result says which). ``use_earnings``
        adds EPS and P/E momentum from stored earnings as known at each date.

        Stored per row: score, rank (1 = best of the date), sector rank and the components
        JSON ``{name: {"value": normalised, "raw": raw}}``. One transaction.
        """
        kind = parse_score_set(score_set)
        spec = parse_universe(
            universe or ("etf" if kind is ScoreSet.ETF_FACTOR else UniverseKind.ALL.value)
        )
        config = config or CompositeMomentumConfig()
        wanted = self._wanted_dates(dates)
        symbols, members = self._universe_symbols(spec)
        rows_needed = (
            _momentum_rows(config) if kind is ScoreSet.MOMENTUM_COMPOSITE else _ETF_FACTOR_ROWS
        )
        start = None if wanted is None else wanted[0] - _lookback_days(rows_needed)
        end = None if wanted is None else wanted[-1]
        loaded = self._load_panel(
            symbols,
            _PRICE_FIELDS,
            start,
            end,
            every_symbol=spec.kind is UniverseKind.LIST,
            what=f"universe {spec.label!r}",
        )
        panel = with_valuation_prices(loaded)
        rows = month_end_rows(panel.dates) if wanted is None else as_of_rows(panel.dates, wanted)
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
            label, frame, raw = None, *self._etf_scores(panel, rows, mask, sectors)
        scored_dates = tuple(d.date() for d in day_index(np.asarray(panel.dates)[rows]))
        written = self._store_scores(kind.value, spec.label, scored_dates, frame)
        sector_of = {s: infos[s].sector if s in infos else None for s in panel.symbols}
        frame = frame.assign(sector=frame["symbol"].map(sector_of), universe=spec.label)
        leading = ["date", "symbol", "sector", "universe", "score", "rank", "sector_rank"]
        rest = [c for c in frame.columns if c not in leading and c != "components"]
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
        )

    def _wanted_dates(self, dates: Sequence[DateLike] | DateLike | None) -> list[date] | None:
        if dates is None:
            return None
        values = [dates] if isinstance(dates, date | datetime | str | pd.Timestamp) else list(dates)
        if not values:
            raise ResearchInputError("dates is empty; pass None for every month end")
        return sorted({_as_date(v) for v in values})

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
        )
        return label, table, raw

    def _etf_scores(
        self,
        panel: Panel,
        rows: np.ndarray,
        mask: np.ndarray | None,
        sectors: np.ndarray,
    ) -> tuple[pd.DataFrame, dict[str, FloatArray]]:
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

    def _store_scores(
        self, score_set: str, universe: str, dates: Sequence[date], frame: pd.DataFrame
    ) -> int:
        with self._db.transaction() as connection:
            ids = instrument_repo.instrument_ids(connection, frame["symbol"].unique().tolist())
            rows = [
                {
                    "date": r["date"],
                    "instrument_id": ids[str(r["symbol"])],
                    "universe": universe,
                    "score": r["score"],
                    "rank": r["rank"],
                    "sector_rank": r["sector_rank"],
                    "components": r["components"],
                }
                for r in frame.to_dict("records")
            ]
            return research_repo.replace_scores(connection, score_set, dates, rows)

    # -- score queries ---------------------------------------------------------------------
    def stored_dates(self, score_set: str = ScoreSet.MOMENTUM_COMPOSITE) -> list[date]:
        """Dates with stored rows of ``score_set``, ascending."""
        kind = parse_score_set(score_set)
        with self._db.read() as connection:
            return research_repo.score_dates(connection, kind.value)

    def latest_scores(
        self,
        score_set: str = ScoreSet.MOMENTUM_COMPOSITE,
        date: DateLike | None = None,
        universe: str | None = None,
        top: int | None = None,
    ) -> pd.DataFrame:
        """Stored scores on the latest scored date on or before ``date`` (default: the latest),
        best rank first; empty when none is stored.

        Columns: date, symbol, sector, universe, score, rank, sector_rank, then each component's
        normalised value (``<name>``) and raw value (``<name>_raw``). ``universe`` keeps only
        that universe's symbols (an index's members on the scored date); ranks stay those of
        the stored computation. ``top`` keeps the first ``top`` rows.
        """
        kind = parse_score_set(score_set)
        if top is not None and top < 1:
            raise ResearchInputError(f"top must be at least 1, got {top}")
        as_of = None if date is None else _as_date(date)
        with self._db.read() as connection:
            day = research_repo.latest_score_date(connection, kind.value, as_of)
            frame = (
                research_repo.empty_score_frame()
                if day is None
                else research_repo.load_scores_on(connection, kind.value, day)
            )
        if universe is not None and day is not None:
            symbols, mask = self.resolve_universe(universe, [day])
            keep = set(symbols) if mask is None else set(np.asarray(symbols)[mask[0]].tolist())
            frame = frame[frame["symbol"].isin(keep)]
        if top is not None:
            frame = frame.head(top)
        return flatten_components(frame.reset_index(drop=True))

    def score_history(
        self, symbol: str, score_set: str = ScoreSet.MOMENTUM_COMPOSITE
    ) -> pd.DataFrame:
        """Every stored score of ``symbol`` in ``score_set``, oldest first (columns as in
        :meth:`latest_scores`). An unknown symbol is an error; no stored rows gives an empty
        frame."""
        kind = parse_score_set(score_set)
        wanted = symbol.strip().upper() if not symbol.startswith("^") else symbol
        with self._db.read() as connection:
            if not instrument_repo.instrument_ids(connection, [wanted]):
                raise NotFoundError(f"unknown symbol {symbol!r}")
            frame = research_repo.load_score_history(connection, kind.value, wanted)
        return flatten_components(frame)

    def top_n(
        self, date: DateLike | None, n: int, score_set: str = ScoreSet.MOMENTUM_COMPOSITE
    ) -> pd.DataFrame:
        """The ``n`` best stored scores on the latest scored date on or before ``date``."""
        if n < 1:
            raise ResearchInputError(f"n must be at least 1, got {n}")
        return self.latest_scores(score_set, date, top=n)

    # -- sector momentum -------------------------------------------------------------------
    def sector_momentum_signal(
        self,
        date: DateLike | None = None,
        cash: Decimal | float | int | str = 100_000,
        top_n: int = 3,
        symbols: Sequence[str] | None = None,
        positions: Mapping[str, Decimal | float | int] | None = None,
    ) -> SectorSignal:
        """The 12-1 sector-rotation signal on the last trading day on or before ``date``.

        Every ETF is ranked by its 12-1 return (adjusted close ``t-252 → t-21`` trading days;
        shown in percent); the ``top_n`` best get a target weight of ``1 / top_n`` (fraction).
        The trade list moves ``positions`` (symbol → shares) plus ``cash`` to those targets in
        whole shares at each symbol's latest close on or before the date. ``symbols`` defaults
        to the stored ETFs, else the SPDR sector ETFs present. Stored in ``signals`` as
        strategy ``sector-rotation`` (one transaction, replacing that date's rows).
        """
        as_of = None if date is None else _as_date(date)
        held = {str(s).strip().upper(): q for s, q in (positions or {}).items()}
        universe = self._sector_universe(symbols)
        load = sorted(set(universe) | set(held))
        panel = self._load_panel(
            load,
            ("close", "adj_close"),
            None,
            as_of,
            every_symbol=symbols is not None,
            what=", ".join(universe),
        )
        universe = [s for s in universe if s in panel.symbols]
        last = len(panel.dates) - 1
        signal_date = day_index(panel.dates)[last].date()
        columns = [panel.symbols.index(s) for s in universe]
        prices = valuation_prices(panel)[:, columns]
        signal = sector_rotation_signal(prices, top_n, at=[last])
        closes = last_valid(np.asarray(panel["close"], dtype=np.float64), last)
        marks = {
            symbol: Decimal(str(price))
            for symbol, price in zip(panel.symbols, closes.tolist(), strict=True)
            if np.isfinite(price)
        }
        weights = signal.target_weights[0]
        targets = pd.Series(weights, index=universe, dtype="float64")
        plan = rebalance_trades(held, _money(cash, "cash"), marks, targets)
        names = {i.symbol: i.name for i in self._data.get_symbols()}
        ranking = sector_ranking(
            universe,
            signal.momentum[0],
            signal.rank[0],
            weights,
            closes[columns],
            names,
        )
        report = signal_report(ranking, plan, signal_date, top_n)
        self._store_sector_signal(signal_date, ranking, plan, held, top_n)
        selected = tuple(str(s) for s in ranking.loc[ranking["selected"], "symbol"])
        return SectorSignal(
            date=signal_date,
            top_n=top_n,
            cash=plan.cash_before,
            positions={s: Decimal(str(q)) for s, q in held.items()},
            ranking=ranking,
            selected=selected,
            target_weights={
                s: float(w) for s, w in zip(universe, weights.tolist(), strict=True) if w > 0
            },
            plan=plan,
            report=report,
        )

    def _sector_universe(self, symbols: Sequence[str] | None) -> list[str]:
        if symbols is not None:
            wanted = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
            if not wanted:
                raise ResearchInputError("symbols is empty; pass None for the stored sector ETFs")
            return sorted(wanted)
        return self._etf_symbols(self._data.get_symbols())

    def _store_sector_signal(
        self,
        day: date,
        ranking: pd.DataFrame,
        plan: RebalancePlan,
        held: Mapping[str, Any],
        top_n: int,
    ) -> None:
        trades = {t.symbol: t for t in plan.trades}
        by_symbol = {str(r["symbol"]): r for r in ranking.to_dict("records")}
        symbols = sorted(set(by_symbol) | set(held))
        with self._db.transaction() as connection:
            ids = instrument_repo.instrument_ids(connection, symbols)
            rows = []
            for symbol in symbols:
                trade = trades.get(symbol)
                entry = by_symbol.get(symbol)
                momentum = None if entry is None else _number(entry["momentum_pct"])
                rank_ = None if entry is None else _number(entry["rank"])
                rows.append(
                    {
                        "instrument_id": ids[symbol],
                        "action": "hold" if trade is None else trade.side.value,
                        "target_weight": 0.0 if entry is None else float(entry["target_weight"]),
                        "confidence": None,
                        "details": {
                            "momentum_pct": momentum,
                            "rank": None if rank_ is None else int(rank_),
                            "top_n": top_n,
                            "shares": None if trade is None else str(trade.shares),
                            "price": None if trade is None else str(trade.price),
                        },
                    }
                )
            research_repo.replace_signals(connection, SECTOR_STRATEGY, day, rows)

    def signals(self, strategy: str, date: DateLike | None = None) -> pd.DataFrame:
        """Stored signals of ``strategy`` (on ``date``, or every date)."""
        day = None if date is None else _as_date(date)
        with self._db.read() as connection:
            return research_repo.load_signals(connection, strategy, day)

    # -- recommendations -------------------------------------------------------------------
    def recommend(
        self,
        optimizer: str = WeightingMethod.EQUAL,
        positions: int = 10,
        *,
        date: DateLike | None = None,
        score_set: str = ScoreSet.MOMENTUM_COMPOSITE,
        universe: str | None = None,
        lookback_days: int = 252,
        max_weight: float | None = None,
    ) -> Recommendation:
        """Target weights for the ``positions`` best names by the latest stored score on or
        before ``date`` (computed for that date first when none is stored).

        ``optimizer``: equal, rank, inverse-vol, mvo (max Sharpe) or hrp; the last three use the
        trailing ``lookback_days`` daily returns ending on the score date. ``max_weight`` caps
        each name (a fraction; the excess stays in cash). Stored in ``signals`` as strategy
        ``recommend:<score set>:<optimizer>``.
        """
        kind = parse_score_set(score_set)
        try:
            config = ConstructionConfig(
                positions=positions,
                weighting=optimizer,
                max_weight=1.0 if max_weight is None else max_weight,
                lookback_days=lookback_days,
            )
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join("optimizer" if p == "weighting" else str(p) for p in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ResearchInputError(f"{where}: {message}" if where else message) from None
        if positions < 1:
            raise ResearchInputError(f"positions must be at least 1, got {positions}")
        scores = self.latest_scores(kind.value, date, universe)
        if scores.empty:
            as_of = _as_date(date) if date is not None else self._data.get_date_range()[1].date()
            self.compute_scores(kind.value, dates=[as_of], universe=universe)
            scores = self.latest_scores(kind.value, as_of, universe)
        if scores.empty:
            raise ResearchInputError(f"no {kind.value} scores on or before {date or 'today'}")
        day = scores["date"].iloc[0]
        series = pd.Series(
            scores["score"].to_numpy(dtype=np.float64), index=scores["symbol"].astype(str)
        )
        chosen = select_top_n(series, positions)
        names = [str(s) for s in chosen[chosen].index]
        window = None
        if config.weighting not in (WeightingMethod.EQUAL, WeightingMethod.RANK):
            window = self._returns_window(names, day, lookback_days)
        weights = construct(series, window, config)
        table = self._weights_table(scores, names, weights)
        strategy = f"recommend:{kind.value}:{config.weighting.value}"
        self._store_recommendation(strategy, day, table, config, kind.value)
        return Recommendation(
            date=day,
            score_set=kind.value,
            universe=universe,
            optimizer=config.weighting.value,
            positions=positions,
            lookback_days=lookback_days,
            max_weight=max_weight,
            strategy=strategy,
            weights=table,
            cash_weight=max(0.0, 1.0 - float(table["weight"].sum())),
        )

    def _returns_window(self, symbols: list[str], day: date, lookback_days: int) -> pd.DataFrame:
        start = day - _lookback_days(lookback_days + 1)
        panel = self._data.load_panel(symbols, ("close", "adj_close"), start, day)
        prices = valuation_prices(panel)
        returns = np.full(prices.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            returns[1:] = prices[1:] / prices[:-1] - 1.0
        returns[~np.isfinite(returns)] = np.nan
        frame = pd.DataFrame(returns, index=day_index(panel.dates), columns=list(panel.symbols))
        return frame.iloc[1:]

    @staticmethod
    def _weights_table(scores: pd.DataFrame, names: list[str], weights: pd.Series) -> pd.DataFrame:
        """The selected names with their weights (an optimiser may give some a zero weight)."""
        table = scores.loc[scores["symbol"].isin(names), ["symbol", "sector", "score", "rank"]]
        table = table.assign(weight=[float(weights.get(s, 0.0)) for s in table["symbol"]])
        table = table.sort_values(["weight", "rank"], ascending=[False, True], kind="stable")
        return table.reset_index(drop=True)

    def _store_recommendation(
        self,
        strategy: str,
        day: date,
        table: pd.DataFrame,
        config: ConstructionConfig,
        score_set: str,
    ) -> None:
        with self._db.transaction() as connection:
            ids = instrument_repo.instrument_ids(connection, table["symbol"].tolist())
            rows = [
                {
                    "instrument_id": ids[str(r["symbol"])],
                    "action": TradeSide.BUY.value,
                    "target_weight": float(r["weight"]),
                    "confidence": None,
                    "details": {
                        "score_set": score_set,
                        "score": _number(r["score"]),
                        "rank": None if _number(r["rank"]) is None else int(r["rank"]),
                        "optimizer": config.weighting.value,
                        "positions": config.positions,
                        "lookback_days": config.lookback_days,
                        "max_weight": config.max_weight,
                    },
                }
                for r in table.to_dict("records")
                if r["weight"] > 0
            ]
            research_repo.replace_signals(connection, strategy, day, rows)


def _number(value: Any) -> float | None:
    """A finite float, or None for NaN/NA/None (values read back from frames)."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _money(value: Decimal | float | int | str, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise ResearchInputError(f"{what} {value!r} is not a number") from None
    if not amount.is_finite():
        raise ResearchInputError(f"{what} {value!r} is not a finite number")
    return amount
