"""Creating the schema is all-or-nothing and safe to start twice at once, on both backends."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from quantdesk.db.database import Database
from quantdesk.db.engine import create_db_engine
from quantdesk.db.tables import Base

NewDatabase = Callable[[], str]
SchemaState = Callable[[str], str]


def test_two_first_use_commands_on_a_new_database_both_succeed(
    new_database: NewDatabase, children: Any, schema_state: SchemaState
) -> None:
    for _ in range(2):
        url = new_database()
        start_read, start_write = os.pipe()

        def first_use(url: str = url, gate: tuple[int, int] = (start_read, start_write)) -> None:
            os.close(gate[1])
            os.read(gate[0], 1)  # every child starts creating the schema at the same moment
            database = Database(url)
            with database.read() as connection:
                connection.exec_driver_sql("SELECT count(*) FROM bars").scalar()
            database.dispose()

        started = [children.start(first_use) for _ in range(3)]
        os.close(start_read)
        os.close(start_write)  # end of file releases every child at once
        assert [children.status(pid) for pid in started] == [0, 0, 0]
        assert schema_state(url) == "complete"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, so the disk really fills (needs root to mount)."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the full-disk test needs root in CI (it mounts a tmpfs)")
        pytest.skip("the full-disk test mounts a tmpfs, which needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` with a ballast file until about ``leave`` bytes are free."""
    ballast = disk / "ballast"
    free = shutil.disk_usage(disk).free
    with ballast.open("wb") as out:
        out.write(b"\0" * max(free - leave, 0))
    return ballast


def created_or_error(url: str) -> str | None:
    """Create the schema at ``url``; the database error's text if that failed."""
    try:
        Database(url).dispose()
    except OperationalError as exc:
        return str(exc.orig)
    return None


def test_schema_creation_on_a_full_disk_fails_cleanly_and_resumes(
    tiny_disk: Path, schema_state: SchemaState
) -> None:
    """Whatever point the disk fills at, the database stays empty or complete; once space is
    freed the same file upgrades to the full schema (before: "table bars already exists")."""
    failures = 0
    for leave in range(8_192, 400_000, 24_576):
        path = tiny_disk / f"full{leave}.sqlite"
        ballast = fill(tiny_disk, leave)
        url = f"sqlite:///{path}"
        error = created_or_error(url)
        if error is not None:
            failures += 1
            assert "full" in error or "disk I/O error" in error
        ballast.unlink()
        assert schema_state(url) in {"empty", "complete"}
        try:
            Database(url).dispose()
        except OperationalError as exc:
            files = {p.name: p.stat().st_size for p in tiny_disk.iterdir()}
            free = shutil.disk_usage(tiny_disk).free
            pytest.fail(f"no resume after leaving {leave} B: {exc.orig}; free {free} B, {files}")
        assert schema_state(url) == "complete"
        for leftover in tiny_disk.glob(f"full{leave}.sqlite*"):
            leftover.unlink()
    assert failures >= 3, "the disk never filled up during schema creation"


def test_a_schema_half_created_by_an_older_version_is_completed(
    new_database: NewDatabase, schema_state: SchemaState
) -> None:
    """Older versions created tables one by one outside a transaction: a kill left some tables
    and no version, and every later command failed with "table bars already exists"."""
    url = new_database()
    engine = create_db_engine(url)
    half = [Base.metadata.tables[name] for name in ("instruments", "bars", "fundamentals")]
    Base.metadata.create_all(engine, tables=half)
    engine.dispose()

    Database(url).dispose()

    assert schema_state(url) == "complete"
