"""Property test of the importer: random mutations of valid CSV/Parquet files are either
accepted with every stored value valid under the rulebook, or refused in one clear message
with the database unchanged — with the same verdict on SQLite and PostgreSQL.

Bounded by default; ``QUANTDESK_FUZZ_EXAMPLES=2000`` runs a bigger campaign.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from quantdesk.config import Settings
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.errors import QuantdeskError
from quantdesk.data.quality import Severity, check_quality
from quantdesk.db.database import Database
from quantdesk.db.tables import Bar, Base
from quantdesk.services import Services, build_services

EXAMPLES = int(os.environ.get("QUANTDESK_FUZZ_EXAMPLES", "25"))
HEADER = ["date", "symbol", "open", "high", "low", "close", "volume", "adj_close"]
BASE_ROWS = [
    ["2024-01-02", "AAA", "10.0", "11.0", "9.5", "10.5", "1000", "10.4"],
    ["2024-01-03", "AAA", "10.5", "11.5", "10.0", "11.0", "1200", "10.9"],
    ["2024-01-04", "AAA", "11.0", "11.6", "10.8", "11.2", "900", "11.1"],
    ["2024-01-02", "BBB", "20.0", "21.0", "19.0", "20.5", "500", ""],
    ["2024-01-03", "BBB", "20.5", "20.9", "20.1", "20.6", "400", ""],
]
NASTY = [
    "",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e300",
    "5e-324",
    "1e9",
    "[/x]",
    "[bold]",
    "\x00",
    "1800-01-01",
    "1850-06-30",
    "2200-01-01",
    "2262-04-01",
    "9999-12-31",
    "2024-13-45",
    "2024-01-02T10:00:00-05:00",
    "A" * 40,
    "aaa",
    " 10 ",
    "1,5",
    "true",
    "10000",
    "0.001",
    "Ω",
]
ALIASES = ["timestamp", "ticker", "adj close", "close", "symbol", "date", "Close", "dividend"]


@dataclass
class Backend:
    name: str
    database: Database
    services: Services


def _postgres_url() -> str | None:
    return os.environ.get("QUANTDESK_TEST_POSTGRES_URL")


@pytest.fixture
def backends(sqlite_template: Path, tmp_path: Path) -> Iterator[list[Backend]]:
    clock = SimulatedClock(datetime(2024, 1, 5, 21, 0, tzinfo=UTC))
    path = tmp_path / "fuzz.sqlite"
    shutil.copy(sqlite_template, path)
    databases = [("sqlite", Database(f"sqlite:///{path}"))]
    url = _postgres_url()
    admin = None
    schema = f"qd_fuzz_{uuid.uuid4().hex[:10]}"
    if url:
        from sqlalchemy import create_engine

        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in url else "?"
        databases.append(
            ("postgresql", Database(f"{url}{separator}options=-csearch_path%3D{schema}"))
        )
    out = [
        Backend(
            name,
            db,
            build_services(
                Settings(data_dir=tmp_path / name, database_url=db.url), clock=clock, database=db
            ),
        )
        for name, db in databases
    ]
    yield out
    for backend in out:
        backend.database.dispose()
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid bars file with a few random mutations, as (suffix, bytes)."""
    header = list(HEADER)
    rows = [list(row) for row in BASE_ROWS]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(["cell", "cell", "cell", "text", "dup", "drop", "header", "col"])
        )
        if kind in ("cell", "text") and rows:
            r = draw(st.integers(0, len(rows) - 1))
            c = draw(st.integers(0, len(header) - 1))
            value = draw(st.sampled_from(NASTY)) if kind == "cell" else draw(st.text(max_size=12))
            rows[r][c] = value
        elif kind == "dup" and rows:
            rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
        elif kind == "drop" and len(rows) > 1:
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif kind == "header":
            header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(ALIASES))
        elif kind == "col":
            header.append(draw(st.sampled_from(ALIASES)))
            for row in rows:
                row.append(draw(st.sampled_from(NASTY)))
    fmt = draw(st.sampled_from(["csv", "csv", "csv.gz", "parquet"]))
    if fmt == "parquet":
        frame = pd.DataFrame(rows, columns=pd.Index(header))
        frame = frame.loc[:, ~frame.columns.duplicated()]  # Parquet needs unique names
        for column in frame.columns:
            if draw(st.booleans()):  # typed columns, as a real Parquet file has
                frame[column] = pd.to_numeric(frame[column], errors="coerce")
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        body = buffer.getvalue()
    else:
        lines = [",".join(header)] + [",".join(row) for row in rows]
        body = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
        if fmt == "csv.gz":
            body = gzip.compress(body)
    if draw(st.integers(0, 9)) == 0:  # truncated mid-file
        body = body[: draw(st.integers(0, max(len(body) - 1, 0)))]
    return fmt, body


def _snapshot(database: Database) -> tuple[object, ...]:
    with database.read() as connection:
        counts = tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
            if table.name != "fetch_log"
        )
        sums = connection.execute(
            select(func.sum(Bar.close), func.sum(Bar.high), func.sum(Bar.volume))
        ).one()
    return (*counts, *(None if v is None else round(float(v), 6) for v in sums))


def _verdict(backend: Backend, path: Path) -> tuple[str, str]:
    try:
        report = backend.services.data.import_files([path])
    except QuantdeskError as error:
        message = str(error)
        return "refused", message.splitlines()[0]
    return "accepted", f"{report.inserted}/{report.updated}"


def _stored_errors(backend: Backend) -> dict[str, int]:
    bars = backend.services.data.get_bars()
    report = check_quality(bars, None, date.today())
    return {
        i.kind.value: i.count for i in report.issues if i.severity is Severity.ERROR and i.count
    }


@settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=mutated_files())
def test_fuzzed_import_is_accepted_valid_or_refused_cleanly(
    backends: list[Backend], tmp_path: Path, case: tuple[str, bytes]
) -> None:
    fmt, body = case
    path = tmp_path / f"fuzz_{uuid.uuid4().hex[:8]}.{fmt}"
    path.write_bytes(body)
    verdicts = []
    for backend in backends:
        before = _snapshot(backend.database)
        verdict, detail = _verdict(backend, path)  # anything but QuantdeskError fails the test
        if verdict == "refused":
            assert detail.strip(), "a refusal must say why"
            assert _snapshot(backend.database) == before, (backend.name, detail)
        else:
            assert _stored_errors(backend) == {}, (backend.name, body[:300])
        verdicts.append((verdict, detail))
    assert all(v == verdicts[0] for v in verdicts), verdicts
