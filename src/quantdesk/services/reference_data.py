"""Fundamentals, index membership, calendars, quality and remote updates — the rest of the
data API, kept beside :mod:`quantdesk.services.data` to keep each module about one thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from quantdesk.config import Settings
from quantdesk.core.clock import Clock
from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import NotFoundError
from quantdesk.data.fundamentals import (
    FundamentalsReport,
    parse_earnings_csv,
    parse_kaggle_earnings,
)
from quantdesk.data.membership import load_index_membership, membership_mask
from quantdesk.data.ports import EarningsSource
from quantdesk.db.database import Database
from quantdesk.db.repositories import bars as bar_repo
from quantdesk.db.repositories import fundamentals as fundamentals_repo
from quantdesk.db.repositories import instruments as instrument_repo
from quantdesk.db.repositories import membership as membership_repo
from quantdesk.services.data import DataService, ImportReport

if TYPE_CHECKING:  # exchange-calendars and httpx load on first use: most commands need neither
    import httpx

    from quantdesk.data.calendar import TradingCalendar
    from quantdesk.data.calendar_cache import ScheduleCache
    from quantdesk.data.quality import QualityReport

EarningsFormat = Literal["kaggle", "csv"]


@dataclass(frozen=True)
class EarningsImport:
    """What an earnings import did: parse report plus rows written and symbols skipped."""

    parse: FundamentalsReport
    rows_written: int
    symbols_written: int
    symbols_without_prices: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.parse.to_dict(),
            "rows_written": self.rows_written,
            "symbols_written": self.symbols_written,
            "symbols_without_prices": self.symbols_without_prices,
        }


class ReferenceDataService:
    """Earnings, membership, calendars, quality and remote updates over one database."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        settings: Settings,
        data: DataService,
        *,
        calendars: ScheduleCache | None = None,
    ) -> None:
        self._db = database
        self._clock = clock
        self._settings = settings
        self._data = data
        self._calendars = calendars

    # -- fundamentals ----------------------------------------------------------------------
    def import_earnings(
        self, path: Path, *, file_format: EarningsFormat = "csv", strict: bool = False
    ) -> EarningsImport:
        """Import quarterly EPS for symbols that have instruments; one transaction.

        ``kaggle`` reads the messy Kaggle ``earnings_latest.csv`` (cleaned and reported);
        ``csv`` reads our own format (the earnings frame's columns, ISO dates).
        """
        if file_format == "kaggle":
            frame, report = parse_kaggle_earnings(path, strict=strict)
        else:
            frame, report = parse_earnings_csv(path, strict=True)
        with self._db.transaction() as connection:
            ids = instrument_repo.instrument_ids(connection, frame["symbol"].unique().tolist())
            known = frame[frame["symbol"].isin(ids.keys())]
            # the file's name, not its path: a label that fits the column wherever the file lives
            written = fundamentals_repo.upsert_earnings(
                connection, known, ids, source=path.name[:64]
            )
        return EarningsImport(
            parse=report,
            rows_written=written,
            symbols_written=known["symbol"].nunique(),
            symbols_without_prices=frame["symbol"].nunique() - known["symbol"].nunique(),
        )

    def get_earnings(self, symbols: list[str] | None = None) -> pd.DataFrame:
        with self._db.read() as connection:
            return fundamentals_repo.load_earnings(connection, symbols)

    # -- index membership ------------------------------------------------------------------
    def import_membership(self, indices: tuple[str, ...] = ("sp500",)) -> dict[str, int]:
        """Load membership history from the ``index-constitution`` package."""
        frame = load_index_membership(indices)
        # index-constitution spells share classes with a dot (BRK.B); prices use a dash (BRK-B)
        frame["symbol"] = frame["symbol"].str.replace(".", "-", regex=False)
        counts = {}
        with self._db.transaction() as connection:
            for index, rows in frame.groupby("index"):
                counts[str(index)] = membership_repo.replace_membership(
                    connection, str(index), rows
                )
        return counts

    def membership_mask(self, index: str, dates: Any, symbols: tuple[str, ...]) -> Any:
        """Bool T×N: symbol is a member of ``index`` on each date (point in time)."""
        with self._db.read() as connection:
            frame = membership_repo.load_membership(connection, index)
        frame = frame.assign(index=index)
        return membership_mask(frame, index, dates, symbols)

    # -- calendar --------------------------------------------------------------------------
    def calendar(self, name: str = "XNYS") -> TradingCalendar:
        from quantdesk.data.calendar import TradingCalendar

        return TradingCalendar(name)

    def is_market_open(self, moment: datetime | None = None, calendar: str = "XNYS") -> bool:
        return self.calendar(calendar).is_market_open(moment or self._clock.now())

    def get_trading_hours(
        self, day: date | None = None, calendar: str = "XNYS"
    ) -> tuple[datetime, datetime] | None:
        return self.calendar(calendar).trading_hours(day or self._clock.now().date())

    def get_holidays(self, start: date, end: date, calendar: str = "XNYS") -> list[date]:
        return self.calendar(calendar).holidays(start, end)

    # -- quality ---------------------------------------------------------------------------
    def check_quality(
        self,
        symbols: list[str] | None = None,
        *,
        stale_after_days: int = 5,
        jump_threshold: float = 0.4,
        calendar: str | None = "XNYS",
    ) -> QualityReport:
        """Quality report over stored daily bars, as of the service clock's date."""
        from quantdesk.data.calendar import TradingCalendar
        from quantdesk.data.quality import check_quality_columns

        with self._db.read() as connection:
            if symbols is not None:
                known = instrument_repo.instrument_ids(connection, symbols)
                missing = [s for s in symbols if s not in known]
                if missing:
                    raise NotFoundError(f"unknown symbol(s): {', '.join(missing)}")
            # a read-only check: the bars may come through faster connections, and stay columns
            bars = bar_repo.load_bar_arrays(connection, symbols, committed_only=True)
        as_of = self._clock.now().date()
        first = int(bars.ts.min()) if len(bars.ts) else None
        start = as_of if first is None else datetime.fromtimestamp(first, UTC).date()
        # built up to the as-of date's year (not the default 2035): the check looks at no
        # session after the last bar the rulebook accepts, one session after as_of
        end = as_of + timedelta(days=7)
        trading = (
            TradingCalendar(calendar, start=min(start, as_of), end=end, cache=self._calendars)
            if calendar
            else None
        )
        return check_quality_columns(
            bars.names,
            bars.codes,
            bars.ts,
            bars.values,
            trading,
            as_of,
            stale_after_days=stale_after_days,
            jump_threshold=jump_threshold,
            source="database",
        )

    # -- remote sources --------------------------------------------------------------------
    def update_from_source(
        self,
        source: str,
        symbols: list[str] | None = None,
        start: date | None = None,
        end: date | None = None,
        *,
        timeframe: Timeframe = Timeframe.D1,
        client: httpx.Client | None = None,
    ) -> ImportReport:
        """Fetch bars from a remote source and import them (validated, one transaction).

        Without ``symbols`` every stored symbol is updated; without ``start`` each update starts
        the day after the latest stored bar (or five years back for an empty database).
        """
        wanted = symbols or [i.symbol for i in self._data.get_symbols()]
        end = end or self._clock.now().date()
        if start is None:
            with self._db.read() as connection:
                rows = bar_repo.coverage(connection, timeframe)
            latest = [r.last.date() for r in rows if r.symbol in set(wanted)]
            start = min(latest) + timedelta(days=1) if latest else end - timedelta(days=5 * 365)
        remote = self._source(source, client)
        frame = remote.fetch_bars(wanted, start, end, timeframe)
        report = self._data.import_frame(
            frame.rename(columns={"ts": "date"}),
            source=source,
            target=f"{source}: {len(wanted)} symbol(s) {start}..{end}",
            timeframe=timeframe,
        )
        if isinstance(remote, EarningsSource):
            earnings = remote.fetch_earnings(wanted)
            with self._db.transaction() as connection:
                ids = instrument_repo.instrument_ids(connection, wanted)
                fundamentals_repo.upsert_earnings(connection, earnings, ids, source=source)
        return report

    def _source(self, name: str, client: httpx.Client | None) -> Any:
        import httpx

        from quantdesk.data.sources.http import CachedHttp, FetchCache
        from quantdesk.data.sources.registry import create_source

        cache = FetchCache(self._settings.cache_dir, self._clock)
        http = CachedHttp(client or httpx.Client(timeout=30.0), cache, self._clock)
        return create_source(
            name,
            http,
            alphavantage_api_key=self._settings.alphavantage_api_key,
            polygon_api_key=self._settings.polygon_api_key,
            cache_ttl_seconds=self._settings.cache_ttl_seconds,
        )
