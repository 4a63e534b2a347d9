"""A one-second read cache ("micro-cache") for the REST API's GET answers.

Fifty dashboards polling the same portfolio cost one valuation per second instead of fifty.
Keys are (role, path, query): answers depend on what a role may read, never on who asks within
a role (routes whose answer names the caller, and live ones, are never cached). Any mutating
request through this server clears the whole cache, and a finished job does too, so a change
made here is visible at once; a change made by another process (the CLI) within
:data:`TTL_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

TTL_SECONDS = 1.0
MAX_ENTRIES = 512
MAX_BODY_BYTES = 1_000_000
UNCACHED_PREFIXES = (
    "/api/me",
    "/api/events",
    "/api/jobs",
    "/api/audit",
    "/api/users",
    "/api/tokens",
    "/api/docs",
)


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    expires: float  # time.monotonic() seconds
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ReadCache:
    def __init__(self, ttl: float = TTL_SECONDS, *, enabled: bool = True) -> None:
        self._ttl = ttl
        self.enabled = enabled
        self._entries: OrderedDict[tuple[str, str], CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def cacheable(self, path: str) -> bool:
        return self.enabled and path.startswith("/api/") and not path.startswith(UNCACHED_PREFIXES)

    def get(self, key: tuple[str, str]) -> CachedAnswer | None:
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                return None
            if answer.expires <= time.monotonic():
                del self._entries[key]
                return None
            return answer

    def put(
        self, key: tuple[str, str], status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        if status != 200 or len(body) > MAX_BODY_BYTES:
            return
        answer = CachedAnswer(time.monotonic() + self._ttl, status, headers, body)
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
