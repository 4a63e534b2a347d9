"""Paper trading latency: decision → order accepted → filled, over 10,000 orders in one process.

    python bench/bench_paper.py [--orders 10000] [--symbols 50] [--no-calendar]

One paper account (XNYS hours from exchange-calendars, clock inside the session) behind the
order manager with the basic pre-trade checks and the Decimal ledger. Each order is a market
order decided after a price tick; timestamps (``time.perf_counter_ns``) are taken at the
decision (just before ``OrderManager.submit``), when the broker's ``accepted`` event reaches the
manager's listener, and when its ``filled`` event does. Prints one JSON line: p50/p99/max in
milliseconds for decision → accepted and decision → filled (target p99 < 5 ms), and the CPU
time of decision → filled (which a loaded machine's preemption does not inflate).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.data.calendar import TradingCalendar
from quantdesk.execution import (
    BasicRiskChecks,
    Ledger,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderManager,
    OrderRequest,
)
from quantdesk.execution.brokers.paper import PAPER_COSTS, PaperBroker

START = datetime(2024, 1, 8, 15, 0, tzinfo=UTC)  # Monday 10:00 New York


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(orders: int, symbols: int, calendar: bool) -> dict[str, object]:
    clock = SimulatedClock(START)
    hours = TradingCalendar("XNYS", date(2023, 1, 1), date(2025, 12, 31)) if calendar else None
    broker = PaperBroker("bench", clock, hours=hours, cash=Decimal(10_000_000))
    ledger = Ledger()
    ledger.deposit("bench", Decimal(10_000_000))
    manager = OrderManager(
        broker, ledger, clock, risk=BasicRiskChecks(costs=PAPER_COSTS), prices=broker.last_price
    )
    accepted: dict[str, int] = {}
    filled: dict[str, int] = {}
    filled_cpu: dict[str, int] = {}

    def stamp(event: OrderEvent) -> None:
        now = time.perf_counter_ns()
        if isinstance(event, OrderAccepted):
            accepted[event.client_order_id] = now
        elif isinstance(event, OrderFilled):
            filled[event.client_order_id] = now
            filled_cpu[event.client_order_id] = time.thread_time_ns()

    broker.subscribe(stamp)
    names = [f"S{k:03d}" for k in range(symbols)]
    decided: dict[str, int] = {}
    decided_cpu: dict[str, int] = {}
    step = timedelta(milliseconds=100)
    for n in range(orders):
        symbol = names[n % symbols]
        clock.advance_to(START + n * step)
        broker.on_price(symbol, Decimal(100) + Decimal(n % 17) / 4)
        side = Side.BUY if (n // symbols) % 2 == 0 else Side.SELL
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        order = manager.submit(OrderRequest(symbol, side, 10))
        decided[order.client_order_id] = start
        decided_cpu[order.client_order_id] = start_cpu
    to_accept = [(accepted[o] - t) / 1e6 for o, t in decided.items()]
    to_fill = [(filled[o] - t) / 1e6 for o, t in decided.items()]
    cpu = [(filled_cpu[o] - t) / 1e6 for o, t in decided_cpu.items()]
    return {
        "bench": "paper-latency",
        "orders": orders,
        "filled": len(filled),
        "calendar": calendar,
        "accepted_ms": {
            "p50": round(statistics.median(to_accept), 4),
            "p99": round(percentile(to_accept, 0.99), 4),
            "max": round(max(to_accept), 4),
        },
        "filled_ms": {
            "p50": round(statistics.median(to_fill), 4),
            "p99": round(percentile(to_fill, 0.99), 4),
            "max": round(max(to_fill), 4),
        },
        # CPU time of this thread from decision to fill: what the code costs, free of the
        # preemption a loaded machine adds to wall time (thread_time has coarse resolution)
        "filled_cpu_ms": {
            "p50": round(statistics.median(cpu), 4),
            "p99": round(percentile(cpu, 0.99), 4),
        },
        "ledger_matches_broker": ledger.positions("bench") == dict(broker.positions())
        and ledger.cash("bench") == broker.account().cash,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--no-calendar", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.orders, args.symbols, not args.no_calendar)))


if __name__ == "__main__":
    main()
