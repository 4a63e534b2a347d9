"""``/api/events``: live updates as Server-Sent Events (order, fill, job, portfolio, alert).

Each event is ``id``, ``event`` (the topic) and ``data`` (one JSON object). A comment line
every :data:`HEARTBEAT_SECONDS` keeps proxies from closing an idle stream. ``limit`` ends the
stream after that many events (scripts and tests); browsers reconnect on their own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from quantdesk.api.deps import Viewer, WebServicesDep
from quantdesk.core.errors import InvalidRequestError
from quantdesk.services.events import Event, Topic

router = APIRouter(tags=["events"])
HEARTBEAT_SECONDS = 15.0


def encode(event: Event) -> str:
    payload = {"at": event.at.isoformat(), **event.data}
    return f"id: {event.id}\nevent: {event.topic.value}\ndata: {json.dumps(payload)}\n\n"


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream."}},
)
async def events(
    request: Request,
    web: WebServicesDep,
    _: Viewer,
    topics: Annotated[
        str | None, Query(max_length=100, description="Comma-separated topics; default all.")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> StreamingResponse:
    wanted = _topics(topics)
    subscription = web.events.subscribe(wanted)

    async def stream() -> AsyncIterator[str]:
        sent = 0
        with subscription:
            yield ": connected\n\n"
            while limit is None or sent < limit:
                event = await subscription.next(HEARTBEAT_SECONDS)
                if event is None:
                    if await request.is_disconnected():
                        return
                    yield ": heartbeat\n\n"
                    continue
                yield encode(event)
                sent += 1

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _topics(text: str | None) -> frozenset[Topic] | None:
    if not text:
        return None
    chosen = set()
    for part in text.split(","):
        try:
            chosen.add(Topic(part.strip()))
        except ValueError:
            known = ", ".join(t.value for t in Topic)
            raise InvalidRequestError(
                f"topics: unknown topic {part.strip()!r}; use {known}"
            ) from None
    return frozenset(chosen)
