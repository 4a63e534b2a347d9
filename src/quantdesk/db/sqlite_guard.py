"""Keeps the two SQLite libraries of one process from corrupting each other's view of a file.

Bars are read in bulk through ADBC's SQLite driver, which carries its own, statically linked
copy of SQLite; everything else goes through Python's ``sqlite3`` (the system library). Two
copies in one process do not see each other's POSIX locks (SQLite's "How To Corrupt"
§2.2.1): closing a file in one copy drops the locks the other holds on it, and a copy that
believes it is alone may re-initialise the WAL index the other has mapped (seen here as a
"Bus error" when a server thread committed while another read bars). So an Arrow read:

- opens the file read-only with a read-only WAL index (``mode=ro&readonly_shm=1``): it never
  checkpoints, truncates or rewrites the WAL or its index;
- waits until no *other* thread of the process has a ``sqlite3`` connection checked out of a
  pool on that file, and keeps them from checking one out while it reads (so no transaction
  of theirs loses its locks);
- afterwards closes the engine's pooled connections, which lost their locks when the ADBC
  file handle closed; the next ones open with fresh locks.

The registry is per process because the hazard is: one guard per database file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

WAIT_SECONDS = 1.0  # then the caller reads through sqlite3 instead (no deadlock, no starvation)

_guards: dict[str, _FileGuard] = {}
_guards_lock = threading.Lock()


class _FileGuard:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._checked_out: dict[int, int] = {}  # connection record id → owning thread id
        self._arrow_waiting: int | None = None  # the thread reading (or about to) through ADBC
        self._lost_locks: set[int] = set()  # records checked out when an Arrow read ended

    def checkout(self, record_id: int) -> None:
        me = threading.get_ident()
        with self._condition:
            # a thread already holding a connection may take another (it could otherwise wait
            # on a reader that waits on it); new ones wait for a waiting or running reader
            while self._arrow_waiting not in (None, me) and me not in self._checked_out.values():
                self._condition.wait()
            self._checked_out[record_id] = me

    def checkin(self, record_id: int) -> bool:
        """Whether the connection lost its locks to an Arrow read while checked out (its
        caller closes it: its pool was disposed, so nothing else would before exit)."""
        with self._condition:
            self._checked_out.pop(record_id, None)
            self._condition.notify_all()
            if record_id in self._lost_locks:
                self._lost_locks.discard(record_id)
                return True
            return False

    def locks_lost(self) -> None:
        """The Arrow read closed its file: the connections checked out now lost their locks."""
        with self._condition:
            self._lost_locks |= set(self._checked_out)

    @contextmanager
    def arrow_read(self) -> Iterator[bool]:
        me = threading.get_ident()

        def others_idle() -> bool:
            return not any(owner != me for owner in self._checked_out.values())

        with self._condition:
            # one reader at a time; while it waits, other threads take no new connections, so
            # a busy server cannot starve it (and it gives up after WAIT_SECONDS if they hold
            # on, e.g. waiting on it)
            if not self._condition.wait_for(
                lambda: self._arrow_waiting is None, timeout=WAIT_SECONDS
            ):
                granted = False
            else:
                self._arrow_waiting = me
                granted = self._condition.wait_for(others_idle, timeout=WAIT_SECONDS)
                if not granted:
                    self._arrow_waiting = None
                    self._condition.notify_all()
        if not granted:
            yield False
            return
        try:
            yield True
        finally:
            with self._condition:
                self._arrow_waiting = None
                self._condition.notify_all()


def _guard_for(database: str) -> _FileGuard:
    key = str(Path(database).expanduser().resolve())
    with _guards_lock:
        return _guards.setdefault(key, _FileGuard())


def attach(engine: Engine) -> None:
    """Track the ``sqlite3`` connections ``engine`` checks out of its pool (file databases)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    guard = _guard_for(database)

    def on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        guard.checkout(id(record))

    def on_checkin(_dbapi: Any, record: Any) -> None:
        if guard.checkin(id(record)):
            # closed now rather than left in the disposed pool until garbage collection: an
            # open connection keeps SQLite from checkpointing and removing the WAL when the
            # process's last connection closes (the script exits without collecting)
            record.invalidate()

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)


def arrow_uri(database: str) -> str:
    """The URI the ADBC driver opens: read-only, and never writing the WAL index."""
    return Path(database).expanduser().resolve().as_uri() + "?mode=ro&readonly_shm=1"


@contextmanager
def arrow_read(engine: Engine) -> Iterator[bool]:
    """While the body reads ``engine``'s file through ADBC: True when it may (see the module
    docstring), False when it should read through ``sqlite3`` instead."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield False
        return
    with _guard_for(database).arrow_read() as granted:
        try:
            yield granted
        finally:
            if granted:
                _guard_for(database).locks_lost()
                engine.dispose()  # pooled connections lost their locks with the ADBC handle
