"""An in-process event bus: services and the API publish, Server-Sent-Event streams listen.

Publishing is thread-safe and never blocks: each subscriber has a bounded queue on its own
event loop; a subscriber that falls behind loses its oldest events (a live view catches up
on its next reload; nothing durable depends on the bus).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from quantdesk.core.clock import Clock

SUBSCRIBER_QUEUE_SIZE = 1000


class Topic(StrEnum):
    ORDER = "order"  # an order was placed, changed or cancelled
    FILL = "fill"  # an order (partly) filled
    JOB = "job"  # a background job's status or progress changed
    PORTFOLIO = "portfolio"  # a portfolio's value changed
    ALERT = "alert"  # something a person should look at


@dataclass(frozen=True, slots=True)
class Event:
    """One event; ``data`` holds JSON-ready values only (strings, numbers, bools)."""

    id: int
    topic: Topic
    at: datetime
    data: Mapping[str, str | int | float | bool | None] = field(default_factory=dict)


class Subscription:
    """One listener's queue. Use as a context manager so it is always removed."""

    def __init__(self, bus: EventBus, topics: frozenset[Topic] | None) -> None:
        self._bus = bus
        self.topics = topics
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Event] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)

    def offer(self, event: Event) -> None:
        """Called on the subscriber's loop: enqueue, dropping the oldest if full."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def next(self, timeout: float) -> Event | None:
        """The next event, or ``None`` after ``timeout`` seconds of silence."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._subscribers: list[Subscription] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def subscribe(self, topics: frozenset[Topic] | None = None) -> Subscription:
        """A new subscription on the running event loop (all topics unless ``topics``)."""
        subscription = Subscription(self, topics)
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, topic: Topic, data: Mapping[str, str | int | float | bool | None]) -> Event:
        """Send an event to every subscriber of ``topic``; safe from any thread."""
        with self._lock:
            event = Event(next(self._ids), topic, self._clock.now(), dict(data))
            targets = [s for s in self._subscribers if s.topics is None or topic in s.topics]
        for subscription in targets:
            try:
                subscription.loop.call_soon_threadsafe(subscription.offer, event)
            except RuntimeError:  # its loop has closed: the stream ended without unsubscribing
                self.unsubscribe(subscription)
        return event
