"""The event engine is assembled from small parts; the strategy context is thin and complete."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from quantdesk import backtest
from quantdesk.backtest.event_context import EventStrategyContext
from quantdesk.strategies.base import StrategyContext

PARTS = (
    "event.py",
    "event_allocation.py",
    "event_broker.py",
    "event_context.py",
    "event_orders.py",
    "event_ledger.py",
    "event_recorder.py",
)


def protocol_members() -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(StrategyContext)
        if not name.startswith("_") and name in StrategyContext.__dict__
    }


def test_the_context_implements_every_member_of_the_strategy_context_protocol() -> None:
    missing = {name for name in protocol_members() if not hasattr(EventStrategyContext, name)}
    assert missing == set()
    for name in protocol_members():
        wanted = getattr(StrategyContext, name)
        ours = getattr(EventStrategyContext, name)
        if callable(wanted):
            assert set(inspect.signature(wanted).parameters) <= set(
                inspect.signature(ours).parameters
            ), name


def test_no_god_object_and_no_downcasts_in_the_event_engine() -> None:
    root = Path(backtest.__file__).parent
    for part in PARTS:
        text = (root / part).read_text(encoding="utf-8")
        assert "class EventContext" not in text
        assert "isinstance(context" not in text, part  # strategies get the protocol, no more
        # no part reads another's private members (EventContext had 18 read from outside)
        foreign = [n for n in re.findall(r"(\w+)\._[a-z]", text) if n not in ("self", "cls")]
        assert foreign == [], part
        assert len(text.splitlines()) < 300, part
