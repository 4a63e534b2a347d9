"""The data service: imports, reads, panels, status and quality."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from quantdesk.config import redact_url
from quantdesk.core.clock import Clock
from quantdesk.core.enums import AssetClass, Timeframe
from quantdesk.core.errors import DataValidationError, NotFoundError
from quantdesk.data.changes import (
    StoredValueChanges,
    WouldOverwriteError,
    bar_keys,
    changed_mask,
    count_by_symbol,
)
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.data.overlaps import Overlaps, merge_overlaps
from quantdesk.data.panel import Panel
from quantdesk.data.panel_cache import PanelCache
from quantdesk.data.sample import sample_datasets
from quantdesk.data.sources.csv_files import (
    expand_paths,
    read_and_validate,
    read_instruments_table,
)
from quantdesk.data.validation import ValidationResult, validate_bars
from quantdesk.db.bar_reads import read_bar_columns
from quantdesk.db.bulk import VALUE_COLUMNS, WriteCounts
from quantdesk.db.database import Database
from quantdesk.db.engine import serialise
from quantdesk.db.repositories import bar_spans as span_repo
from quantdesk.db.repositories import bars as bar_repo
from quantdesk.db.repositories import corporate_actions as action_repo
from quantdesk.db.repositories import fetch_log
from quantdesk.db.repositories import instruments as instrument_repo
from quantdesk.services.data_status import DataStatus, DataStatusService


@dataclass(frozen=True)
class ImportReport:
    """What one import did. ``problems`` holds the first rejected rows as readable strings."""

    source: str
    target: str
    rows_read: int
    inserted: int
    updated: int
    rejected: int
    duplicates_collapsed: int
    symbols: int
    problems: list[str] = field(default_factory=list)
    corporate_actions: int = 0
    # suspicious but accepted values (see quantdesk.data.rules); refused under strict
    warnings: list[str] = field(default_factory=list)
    # stored bars whose values this import changed, per symbol (an overwrite)
    changed: StoredValueChanges = field(default_factory=StoredValueChanges)

    @property
    def unchanged(self) -> int:
        return (
            self.rows_read
            - self.rejected
            - self.duplicates_collapsed
            - self.inserted
            - (self.updated)
        )

    def to_dict(self) -> dict[str, Any]:
        out = {**asdict(self), "unchanged": self.unchanged}
        out["changed"] = self.changed.to_dict()
        return out


class DataService:
    def __init__(
        self, database: Database, clock: Clock, panel_cache: PanelCache | None = None
    ) -> None:
        self._db = database
        self._clock = clock
        self._panel_cache = panel_cache

    # -- imports ---------------------------------------------------------------------------
    def import_files(
        self,
        paths: Sequence[Path],
        *,
        per_symbol: bool = False,
        skip_bad: bool = False,
        timeframe: Timeframe = Timeframe.D1,
        source: str = "file",
        instruments: Iterable[InstrumentInfo] = (),
        strict: bool = False,
    ) -> ImportReport:
        """Import long-format or one-file-per-symbol CSV/Parquet files in one transaction.

        Any bad row aborts the whole import (nothing written) unless ``skip_bad``, which writes
        the good rows and reports the rest. Suspicious values are warnings in the report, or
        refuse the import when ``strict``.
        """
        daily = timeframe == Timeframe.D1
        results = read_and_validate(list(paths), per_symbol=per_symbol, daily=daily)
        # the files of one import are one set of rows: a bar two files give is kept once, or
        # refused when they disagree on it
        overlaps = merge_overlaps(
            results, expand_paths(list(paths)), per_symbol=per_symbol, daily=daily
        )
        target = ", ".join(str(p) for p in paths)
        return self._write(
            overlaps.results,
            source,
            target,
            timeframe,
            skip_bad,
            list(instruments),
            overlaps=overlaps,
            strict=strict,
        )

    def import_frame(
        self,
        frame: pd.DataFrame,
        *,
        source: str,
        target: str,
        timeframe: Timeframe = Timeframe.D1,
        skip_bad: bool = False,
        instruments: Iterable[InstrumentInfo] = (),
    ) -> ImportReport:
        """Validate and import an in-memory bars table (from a remote source or the sample)."""
        result = validate_bars(frame, target, first_row=1, daily=timeframe == Timeframe.D1)
        return self._write([result], source, target, timeframe, skip_bad, list(instruments))

    def load_sample(self, force: bool = False) -> list[ImportReport]:
        """Load the offline sample (skfolio and bokeh-sampledata prices) into the database.

        When that would change stored values (real bars of the same symbols) nothing is written
        and :class:`WouldOverwriteError` says how many bars of which symbols, unless ``force``.
        """
        datasets = sample_datasets()
        if not force:
            counts: dict[str, int] = {}
            for dataset in datasets:
                for symbol, n in self.would_change(
                    dataset.bars, dataset.description
                ).by_symbol.items():
                    counts[symbol] = counts.get(symbol, 0) + n
            changes = StoredValueChanges(counts)
            if changes.rows:
                raise WouldOverwriteError(
                    f"the offline sample would overwrite {changes.describe()} with sample "
                    "values; nothing was written (use --force to overwrite, or a separate "
                    "QUANTDESK_DATA_DIR for the sample)"
                )
        reports = []
        for dataset in datasets:
            with self._db.transaction() as connection:
                fetch_log.register_source(
                    connection, dataset.source, "sample", dataset.provides, dataset.description
                )
            reports.append(
                self.import_frame(
                    dataset.bars,
                    source=dataset.source,
                    target=dataset.description,
                    instruments=dataset.instruments,
                )
            )
        return reports

    def would_change(
        self, frame: pd.DataFrame, target: str, timeframe: Timeframe = Timeframe.D1
    ) -> StoredValueChanges:
        """How many rows of a bars table (as given to :meth:`import_frame`) would change stored
        values, per symbol (nothing is written)."""
        incoming = validate_bars(frame, target, first_row=1, daily=timeframe == Timeframe.D1)
        with self._db.read() as connection:
            return _stored_changes(connection, incoming.frame, timeframe)

    def _write(
        self,
        results: list[ValidationResult],
        source: str,
        target: str,
        timeframe: Timeframe,
        skip_bad: bool,
        instruments: list[InstrumentInfo],
        overlaps: Overlaps | None = None,
        *,
        strict: bool = False,
    ) -> ImportReport:
        across = overlaps or Overlaps(results, [], 0, 0)
        problems = [p for r in results for p in r.problems] + across.problems
        total_problems = sum(r.problem_count for r in results) + len(across.problems)
        if total_problems and not skip_bad:
            raise DataValidationError(problems, total_problems)
        warnings = [w for r in results for w in r.warnings]
        if warnings and strict:
            raise DataValidationError(warnings)
        frames = [r.frame for r in results if len(r.frame)]
        if total_problems and not frames:  # --skip-bad, but no row is usable: nothing to do
            raise DataValidationError(problems, total_problems)
        frame = pd.concat(frames, ignore_index=True) if frames else results[0].frame
        rows_read = across.collapsed + across.conflicting
        rows_read += sum(len(r.frame) + r.rejected_rows + r.duplicates_collapsed for r in results)
        started = self._clock.now()
        known = {i.symbol: i for i in instruments}
        symbols = sorted(set(frame["symbol"])) if len(frame) else []
        infos = [known.get(s) or guessed for s, guessed in _default_infos(frame, source).items()]
        rejected = sum(r.rejected_rows for r in results) + across.conflicting
        actions = pd.concat([r.actions for r in results], ignore_index=True)

        def store(connection: Connection) -> tuple[WriteCounts, int, StoredValueChanges]:
            # concurrent imports queue here: the "has this instrument bars yet?" probe of the
            # bulk writer must not race another import of the same new symbol
            serialise(connection, "bars")
            ids = instrument_repo.upsert_instruments(connection, infos, now=started)
            counts, changes = _write_reporting_changes(connection, frame, ids, timeframe)
            written_actions = action_repo.upsert_actions(connection, actions, ids)
            fetch_log.log_fetch(
                connection,
                source=source,
                target=target[:2000],
                started_at=started,
                finished_at=self._clock.now(),
                status="partial" if rejected else "ok",
                rows_read=rows_read,
                rows_inserted=counts.inserted,
                rows_updated=counts.updated,
                rows_rejected=rejected,
                details={"problems": [str(p) for p in problems[:20]]} if problems else None,
            )
            return counts, written_actions, changes

        counts, written_actions, changes = self._db.write(store)
        return ImportReport(
            source=source,
            target=target,
            rows_read=rows_read,
            inserted=counts.inserted,
            updated=counts.updated,
            rejected=rejected,
            duplicates_collapsed=across.collapsed + sum(r.duplicates_collapsed for r in results),
            symbols=len(symbols),
            problems=[str(p) for p in problems[:50]],
            corporate_actions=written_actions,
            warnings=[str(w) for w in warnings[:50]],
            changed=changes,
        )

    def import_instruments(self, path: Path) -> int:
        """Import instrument metadata: a CSV with ``symbol`` and any of name, sector, industry,
        asset_class/asset_type (stock/etf/index), exchange, currency."""
        table = read_instruments_table(path)
        infos = [
            _info_from_row({str(k): v for k, v in r.items()}) for r in table.to_dict("records")
        ]
        _refuse_repeated_symbols(path, [i.symbol for i in infos])
        with self._db.transaction() as connection:
            return len(
                instrument_repo.upsert_instruments(
                    connection, infos, now=self._clock.now(), asset_class_known=True
                )
            )

    # -- reads -----------------------------------------------------------------------------
    def get_symbols(self, asset_class: AssetClass | None = None) -> list[InstrumentInfo]:
        with self._db.read() as connection:
            infos = instrument_repo.list_instruments(connection)
        return [i for i in infos if asset_class is None or i.asset_class == asset_class]

    def get_bars(
        self,
        symbols: str | list[str] | None = None,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        timeframe: Timeframe = Timeframe.D1,
    ) -> pd.DataFrame:
        """Bars in the long frame format, sorted by symbol and timestamp."""
        wanted = [symbols] if isinstance(symbols, str) else symbols
        with self._db.read() as connection:
            if wanted is not None:
                self._require_symbols(connection, wanted)
            return bar_repo.load_bar_frame(connection, wanted, timeframe, start, end)

    def stream_bars(
        self,
        symbols: str | list[str] | None = None,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        timeframe: Timeframe = Timeframe.D1,
    ) -> Iterator[pd.DataFrame]:
        """Bars one timestamp at a time, in time order (all symbols' bars for that moment)."""
        frame = self.get_bars(symbols, start, end, timeframe)
        for _, group in frame.groupby("ts", sort=True):
            yield group.reset_index(drop=True)

    def get_corporate_actions(self, symbols: list[str] | None = None) -> pd.DataFrame:
        """Splits (ratio) and dividends (cash per share) by ex-date, as imported."""
        with self._db.read() as connection:
            return action_repo.load_actions(connection, symbols)

    def get_latest_bar(self, symbol: str, timeframe: Timeframe = Timeframe.D1) -> dict[str, Any]:
        with self._db.read() as connection:
            return bar_repo.latest_bar(connection, symbol, timeframe)

    def get_date_range(
        self, symbol: str | None = None, timeframe: Timeframe = Timeframe.D1
    ) -> tuple[datetime, datetime]:
        with self._db.read() as connection:
            span = bar_repo.date_range(connection, timeframe, symbol)
        if span is None:
            raise NotFoundError(
                f"no {timeframe.value} bars" + (f" for {symbol!r}" if symbol else "")
            )
        return span

    def load_panel(
        self,
        symbols: list[str] | None = None,
        fields: tuple[str, ...] = ("close",),
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        timeframe: Timeframe = Timeframe.D1,
    ) -> Panel:
        """Dates × symbols arrays of ``fields`` in one query (no per-bar objects).

        With a panel cache, a panel read since the last import is served from disk.
        """
        with self._db.read() as connection:
            if self._panel_cache is None:
                return bar_repo.load_panel(connection, symbols, fields, timeframe, start, end)
            key = self._panel_cache.key(
                database=redact_url(self._db.url),
                version=fetch_log.data_version(connection),
                symbols=symbols,
                fields=fields,
                timeframe=timeframe.value,
                start=start,
                end=end,
            )
            cached = self._panel_cache.load(key)
            if cached is not None:
                return cached
            panel = bar_repo.load_panel(connection, symbols, fields, timeframe, start, end)
        self._panel_cache.store(key, panel)
        return panel

    def status(self) -> DataStatus:
        """See :meth:`.data_status.DataStatusService.status`."""
        return DataStatusService(self._db, self._clock).status()

    def last_bar_dates(self, timeframe: Timeframe = Timeframe.D1) -> dict[str, date]:
        """The session date of each symbol's newest bar (primary-key seeks, no scan)."""
        with self._db.read() as connection:
            spans = span_repo.bar_spans(connection, timeframe)
        return {symbol: last.date() for symbol, (_, last) in spans.items()}

    def coverage(self, timeframe: Timeframe = Timeframe.D1) -> list[bar_repo.SymbolCoverage]:
        with self._db.read() as connection:
            return bar_repo.coverage(connection, timeframe)

    def recent_imports(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._db.read() as connection:
            return fetch_log.recent_fetches(connection, limit)

    @staticmethod
    def _require_symbols(connection: Any, symbols: list[str]) -> None:
        found = instrument_repo.instrument_ids(connection, symbols)
        missing = [s for s in symbols if s not in found]
        if missing:
            raise NotFoundError(f"unknown symbol(s): {', '.join(missing)}")


def _write_reporting_changes(
    connection: Connection, frame: pd.DataFrame, ids: dict[str, int], timeframe: Timeframe
) -> tuple[WriteCounts, StoredValueChanges]:
    """Write the bars and say which stored values the write changed, per symbol.

    Reading every stored bar first would double the cost of the common imports that change
    nothing (a first import, the same file again), so the write runs in a savepoint: when it
    updated no row there is nothing to report; otherwise it is undone, the stored values it
    would change are counted, and it runs again.
    """
    savepoint = connection.begin_nested()
    counts = bar_repo.write_bar_frame(connection, frame, ids, timeframe)
    if not counts.updated:
        savepoint.commit()
        return counts, StoredValueChanges()
    savepoint.rollback()
    changes = _stored_changes(connection, frame, timeframe)
    return bar_repo.write_bar_frame(connection, frame, ids, timeframe), changes


def _stored_changes(
    connection: Connection, frame: pd.DataFrame, timeframe: Timeframe
) -> StoredValueChanges:
    """Rows of a validated bars frame that would change stored values, per symbol: only the
    stored bars of known symbols within the frame's time range are read (as arrays)."""
    if not len(frame):
        return StoredValueChanges()
    codes, symbols = pd.factorize(frame["symbol"])
    known = instrument_repo.instrument_ids(connection, [str(s) for s in symbols])
    if not known:
        return StoredValueChanges()
    ids = np.array([known.get(str(s), -1) for s in symbols], dtype=np.int64)[codes]
    ts = bar_repo.to_epoch_seconds(frame["ts"])
    present = ids >= 0
    # read on the import's own connection, inside its write transaction (a second read-only
    # connection on SQLite would break the commit's lock)
    stored_ids, stored_ts, stored = read_bar_columns(
        connection,
        sorted(known.values()),
        timeframe.value,
        VALUE_COLUMNS,
        int(ts[present].min()) if present.any() else None,
        int(ts[present].max()) if present.any() else None,
    )
    incoming = {
        c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in VALUE_COLUMNS if c in frame
    }
    mask = changed_mask(bar_keys(ids, ts), incoming, bar_keys(stored_ids, stored_ts), stored)
    return count_by_symbol(frame["symbol"].to_numpy(), mask & present)


def _default_infos(frame: pd.DataFrame, source: str) -> dict[str, InstrumentInfo]:
    """Instrument rows for symbols the import knows nothing else about, saying which fields the
    data really has."""
    if frame.empty:
        return {}
    present = frame[["open", "adj_close"]].notna().groupby(frame["symbol"]).any()
    infos = {}
    for symbol, has_ohlc, has_adj in present.itertuples():
        fields = ("ohlcv" if has_ohlc else "close") + ("+adj" if has_adj else "")
        asset_class = AssetClass.INDEX if str(symbol).startswith("^") else AssetClass.EQUITY
        infos[str(symbol)] = InstrumentInfo(
            symbol=str(symbol), asset_class=asset_class, price_fields=fields, source=source
        )
    return infos


_ASSET_TYPES = {
    "stock": AssetClass.EQUITY,
    "equity": AssetClass.EQUITY,
    "etf": AssetClass.ETF,
    "index": AssetClass.INDEX,
}


def _info_from_row(row: dict[str, str]) -> InstrumentInfo:
    kind = (row.get("asset_class") or row.get("asset_type") or "equity").strip().lower()
    return InstrumentInfo(
        symbol=row["symbol"].strip().upper(),
        name=row.get("name") or None,
        asset_class=_ASSET_TYPES.get(kind, AssetClass.EQUITY),
        sector=row.get("sector") or None,
        industry=row.get("industry") or None,
        exchange=row.get("exchange") or None,
        currency=(row.get("currency") or "USD").upper(),
    )


def _refuse_repeated_symbols(path: Path, symbols: list[str]) -> None:
    """One row per symbol: ``AAA`` and ``aaa`` are the same instrument, and which row's metadata
    should win is the user's call, not the database's."""
    from quantdesk.core.errors import Problem

    first_row: dict[str, int] = {}
    problems = []
    for row, symbol in enumerate(symbols, start=2):  # line 1 is the header
        if symbol in first_row:
            problems.append(
                Problem(
                    str(path),
                    row,
                    symbol,
                    "symbol",
                    f"symbol {symbol} appears twice (also at row {first_row[symbol]}); keep one",
                )
            )
        first_row.setdefault(symbol, row)
    if problems:
        raise DataValidationError(problems)


def _problem(path: Path, field_name: str | None, message: str) -> Any:
    from quantdesk.core.errors import Problem

    return Problem(str(path), None, None, field_name, message)
