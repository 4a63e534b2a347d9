"""Time ``data check`` on a database, stage by stage (load bars, calendar, quality check).

    QUANTDESK_DATA_DIR=/tmp/big python bench/data_check.py [path/to/other/quality.py]

With a second ``quality.py`` (e.g. main's), both checks run on the same loaded frame, so the
figures compare under the same machine load.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from datetime import UTC, date, datetime

from quantdesk.data.calendar import TradingCalendar
from quantdesk.data.quality import check_quality
from quantdesk.services import build_services


def main() -> None:
    services = build_services()
    started = time.perf_counter()
    bars = services.data.get_bars(None)
    loaded = time.perf_counter()
    first = bars["ts"].min().date() if len(bars) else date.today()
    calendar = TradingCalendar("XNYS", start=first)
    built = time.perf_counter()
    as_of = datetime.now(UTC).date()
    report = check_quality(bars, calendar, as_of)
    checked = time.perf_counter()
    print(
        f"{len(bars):,} bars: load {loaded - started:.2f} s, calendar {built - loaded:.2f} s, "
        f"check {checked - built:.2f} s"
    )
    print(f"stale symbols: {len(report.stale_symbols)} (reference {report.reference_date})")
    if len(sys.argv) > 1:
        spec = importlib.util.spec_from_file_location("other_quality", sys.argv[1])
        assert spec is not None
        assert spec.loader is not None
        other = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = other  # dataclasses look their module up while building
        spec.loader.exec_module(other)
        begin = time.perf_counter()
        theirs = other.check_quality(bars, calendar, as_of)
        print(
            f"other check {time.perf_counter() - begin:.2f} s; "
            f"stale symbols: {len(theirs.stale_symbols)}"
        )


if __name__ == "__main__":
    main()
