"""Which cash flows a snapshot counts (:func:`quantdesk.services.trading_book.flows_due`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from quantdesk.services.trading_book import CountedFlows, flows_due

FLOWS = {
    date(2024, 1, 5): {"": Decimal(10_000), "trend": Decimal(2_000)},
    date(2024, 1, 6): {"trend": Decimal(-500)},
    date(2024, 1, 9): {"": Decimal(1_000)},
}


def test_a_flow_dated_after_the_clock_waits_for_a_later_snapshot() -> None:
    # a replay's snapshot of Monday 8 January, its clock at that bar: Tuesday's deposit is not
    # in its cash yet
    due = flows_due(FLOWS, date(2024, 1, 8), CountedFlows())
    assert due == CountedFlows(Decimal(11_500), {"": Decimal(10_000), "trend": Decimal(1_500)})
    tuesday = flows_due(FLOWS, date(2024, 1, 9), due)
    assert tuesday == CountedFlows(Decimal(1_000), {"": Decimal(1_000), "trend": Decimal(0)})


def test_what_earlier_snapshots_counted_is_not_counted_again() -> None:
    friday = CountedFlows(Decimal(12_000), {"": Decimal(10_000), "trend": Decimal(2_000)})
    monday = flows_due(FLOWS, date(2024, 1, 8), friday)
    assert monday == CountedFlows(Decimal(-500), {"": Decimal(0), "trend": Decimal(-500)})
    assert friday.plus(monday) == flows_due(FLOWS, date(2024, 1, 8), CountedFlows())
