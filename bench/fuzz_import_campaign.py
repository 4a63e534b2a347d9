"""A bigger fuzz campaign of the importer than the test suite runs, with counts to compare.

    python bench/fuzz_import_campaign.py generate /tmp/corpus 1000   # the files (seeded)
    python bench/fuzz_import_campaign.py run /tmp/corpus [POSTGRES_URL]

``run`` imports each file into a fresh database and prints: files tried, accepted (and of
those, how many left a stored value breaking the rulebook), refused cleanly (a quantdesk
error, database unchanged), tracebacks (any other exception) and partial writes (refused but
the database changed). It uses only APIs that exist on older versions, so the same corpus can
be run against main for a before/after.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np


def generate(folder: Path, count: int) -> None:
    from hypothesis import HealthCheck, given, seed, settings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "db"))
    from test_import_fuzz import mutated_files  # the test suite's own mutation strategy

    folder.mkdir(parents=True, exist_ok=True)
    made = [0]

    @seed(20261129)
    @settings(
        max_examples=count,
        database=None,
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(case=mutated_files())
    def write(case: tuple[str, bytes]) -> None:
        fmt, body = case
        (folder / f"case_{made[0]:05d}.{fmt}").write_bytes(body)
        made[0] += 1

    write()
    print(f"{made[0]} files in {folder}")


def _invalid_stored(services: object) -> int:
    bars = services.data.get_bars()  # type: ignore[attr-defined]
    if bars.empty:
        return 0
    o, h, lo, c = (bars[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))
    v = bars["volume"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad_price = np.zeros(len(bars), dtype=bool)
        for x in (o, h, lo, c):
            bad_price |= ~np.isnan(x) & ~((x >= 1e-6) & (x <= 1e9))
        bad = bad_price | np.isnan(c) | (h < lo)
        bad |= (h >= lo) & ((o > h * (1 + 1e-9)) | (o < lo * (1 - 1e-9)))
        bad |= (h >= lo) & ((c > h * (1 + 1e-9)) | (c < lo * (1 - 1e-9)))
        bad |= ~np.isnan(v) & ~((v >= 0) & (v <= 1e15))
    days = bars["ts"].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    bad |= (days < np.datetime64("1885-01-01")) | (days > np.datetime64("today") + 4)
    return int(bad.sum())


def run(folder: Path, postgres_url: str | None) -> dict[str, int]:  # noqa: PLR0915
    from sqlalchemy import func, select, text

    from quantdesk.config import Settings
    from quantdesk.core.errors import QuantdeskError
    from quantdesk.db.database import Database
    from quantdesk.db.tables import Base
    from quantdesk.services import build_services

    work = Path(tempfile.mkdtemp(prefix="qd-fuzz-"))
    template = work / "template.sqlite"
    Database(f"sqlite:///{template}").dispose()
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    tables = [t for t in Base.metadata.sorted_tables if t.name != "fetch_log"]

    def snapshot(db: Database) -> tuple[int, ...]:
        with db.read() as connection:
            return tuple(
                connection.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
            )

    postgres = Database(postgres_url) if postgres_url else None
    for path in sorted(folder.iterdir()):
        if postgres is not None:
            db = postgres
            with db.transaction() as connection:
                names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            file = work / "db.sqlite"
            shutil.copy(template, file)
            db = Database(f"sqlite:///{file}")
        services = build_services(
            Settings(data_dir=work / "home", database_url=db.url), database=db
        )
        before = snapshot(db)
        counts["tried"] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                services.data.import_files([path])
        except QuantdeskError:
            if snapshot(db) != before:
                counts["partial_writes"] += 1
                examples.setdefault("partial_write", path.name)
            else:
                counts["refused_cleanly"] += 1
        except Exception as error:  # what the campaign counts
            counts["tracebacks"] += 1
            examples.setdefault(f"traceback {type(error).__name__}", path.name)
            if snapshot(db) != before:
                counts["partial_writes"] += 1
        else:
            counts["accepted"] += 1
            if _invalid_stored(services):
                counts["accepted_with_invalid_values"] += 1
                examples.setdefault("accepted_invalid", path.name)
        if postgres is None:
            db.dispose()
    shutil.rmtree(work, ignore_errors=True)
    result = dict(counts)
    result["examples"] = examples  # type: ignore[assignment]
    return result


if __name__ == "__main__":
    command, folder = sys.argv[1], Path(sys.argv[2])
    if command == "generate":
        generate(folder, int(sys.argv[3]))
    else:
        print(json.dumps(run(folder, sys.argv[3] if len(sys.argv) > 3 else None), indent=2))
