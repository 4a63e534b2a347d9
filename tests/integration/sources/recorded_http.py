"""Recorded-response plumbing: a MockTransport handler that serves files and counts requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "recorded"

Matcher = Callable[[httpx.Request], bool]


@dataclass
class Route:
    matches: Matcher
    responses: list[tuple[int, bytes, dict[str, str]]]
    served: int = 0


Reply = tuple[int, str | bytes] | tuple[int, str | bytes, dict[str, str]]


@dataclass
class RecordedServer:
    """Serves recorded files by request; a route's replies are used in turn, the last repeats.

    A reply is ``(status, body)`` or ``(status, body, headers)``; a ``str`` body names a file
    under ``tests/fixtures/recorded`` (``"yahoo/chart_aapl_1d.json"``), ``bytes`` are sent as is.
    A route is an exact URL path or a predicate on the request.
    """

    routes: list[Route] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def add(self, route: str | Matcher, *replies: Reply) -> None:
        matches = route if callable(route) else _path_is(route)
        normalised = [
            (
                reply[0],
                (RECORDED / reply[1]).read_bytes() if isinstance(reply[1], str) else reply[1],
                reply[2] if len(reply) == 3 else {},
            )
            for reply in replies
        ]
        self.routes.append(Route(matches, normalised))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for route in self.routes:
            if route.matches(request):
                status, body, headers = route.responses[min(route.served, len(route.responses) - 1)]
                route.served += 1
                return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(599, content=f"no recorded response for {request.url}".encode())

    @property
    def calls(self) -> int:
        return len(self.requests)


def _path_is(path: str) -> Matcher:
    return lambda request: request.url.path == path
