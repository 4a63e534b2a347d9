"""``data status``: how fresh and how large the stored data is.

Apart from :mod:`.data` (imports, panels, frames) so the status, which users run often and
scripts poll, starts without pandas or the panel code (issue 11): counts and dates come from
primary-key seeks and the fetch log (:mod:`quantdesk.db.repositories.bar_spans`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Timeframe
from quantdesk.db.database import Database
from quantdesk.db.repositories import bar_spans as span_repo
from quantdesk.db.repositories import instruments as instrument_repo


@dataclass(frozen=True)
class DataStatus:
    """How fresh and how large the stored data is, as of the service clock."""

    as_of: date
    symbols: int
    symbols_with_bars: int
    bars: int
    first_date: date | None
    latest_date: date | None
    days_old: int | None
    by_asset_class: dict[str, int]
    by_timeframe: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("as_of", "first_date", "latest_date"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


class DataStatusService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def status(self) -> DataStatus:
        """Counts and dates from primary-key seeks and the fetch log, never a scan of the bars
        (which took seconds on millions of them)."""
        as_of = self._clock.now().date()
        with self._db.read() as connection:
            infos = instrument_repo.list_instruments(connection)
            spans = {tf: span_repo.bar_spans(connection, tf) for tf in Timeframe}
            counts = span_repo.bar_counts(connection, [tf for tf in Timeframe if spans[tf]])
        daily = spans[Timeframe.D1]
        latest = max((last for _, last in daily.values()), default=None)
        first = min((start for start, _ in daily.values()), default=None)
        by_class: dict[str, int] = {}
        for info in infos:
            by_class[info.asset_class.value] = by_class.get(info.asset_class.value, 0) + 1
        return DataStatus(
            as_of=as_of,
            symbols=len(infos),
            symbols_with_bars=len(daily),
            bars=sum(counts.values()),
            first_date=first.date() if first else None,
            latest_date=latest.date() if latest else None,
            days_old=(as_of - latest.date()).days if latest else None,
            by_asset_class=by_class,
            by_timeframe={tf.value: n for tf, n in counts.items() if n},
        )
