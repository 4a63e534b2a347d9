"""Time ``data check`` on a database, stage by stage, on both paths the check can take.

    QUANTDESK_DATA_DIR=/tmp/big python bench/data_check.py [path/to/other/quality.py]

- columns (what ``quantdesk data check`` does): the bars as the database hands them over
  (``bars.load_bar_arrays``: symbol codes, Unix seconds, float columns), then
  ``check_quality_columns``;
- frame: the same bars as a long DataFrame (``bars.load_bar_frame``), then ``check_quality``.

Both reports must be equal (the script says so). With a second ``quality.py`` (e.g. main's), its
``check_quality`` also runs on the same frame, so the figures compare under the same load.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from datetime import UTC, date, datetime

from quantdesk.data.calendar import TradingCalendar
from quantdesk.data.quality import check_quality, check_quality_columns
from quantdesk.db.repositories import bars as bar_repo
from quantdesk.services import build_services


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> str:
    wall, cpu = _clock()
    return f"{wall - start[0]:.2f} s ({cpu - start[1]:.2f} CPU)"


def main() -> None:
    services = build_services()
    as_of = datetime.now(UTC).date()
    started = _clock()
    with services.database.read() as connection:
        columns = bar_repo.load_bar_arrays(connection, None, committed_only=True)
    loaded = _since(started)
    first = (
        datetime.fromtimestamp(int(columns.ts.min()), UTC).date()
        if len(columns.ts)
        else date.today()
    )
    begun = _clock()
    calendar = TradingCalendar("XNYS", start=first)
    built = _since(begun)
    begun = _clock()
    report = check_quality_columns(
        columns.names, columns.codes, columns.ts, columns.values, calendar, as_of
    )
    print(
        f"columns: {len(columns.ts):,} bars: load {loaded}, calendar {built}, check {_since(begun)}"
    )
    del columns
    begun = _clock()
    with services.database.read() as connection:
        bars = bar_repo.load_bar_frame(connection, None, committed_only=True)
    loaded = _since(begun)
    begun = _clock()
    framed = check_quality(bars, calendar, as_of)
    print(f"frame:   load {loaded}, check {_since(begun)}")
    same = framed.to_dict() == report.to_dict()
    print(
        f"stale symbols: {len(report.stale_symbols)} (reference {report.reference_date}); "
        f"reports {'equal' if same else 'DIFFER'}"
    )
    if len(sys.argv) > 1:
        spec = importlib.util.spec_from_file_location("other_quality", sys.argv[1])
        assert spec is not None
        assert spec.loader is not None
        other = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = other  # dataclasses look their module up while building
        spec.loader.exec_module(other)
        begun = _clock()
        theirs = other.check_quality(bars, calendar, as_of)
        print(f"other check {_since(begun)}; stale symbols: {len(theirs.stale_symbols)}")


if __name__ == "__main__":
    main()
