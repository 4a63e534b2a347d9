"""The paper-trading part of ``quantdesk demo``: a paper portfolio replays the last months of
the 12-1 rotation signal over the sample's stocks, then prints positions, P&L and a TCA summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from quantdesk.cli.common import console, table

if TYPE_CHECKING:
    from quantdesk.services import Services

PORTFOLIO = "demo-paper"
MONTHS = 3


def paper_trading(services: Services) -> None:
    """Replay ~3 months of the signal on a paper portfolio and print what it did."""
    from quantdesk.core.clock import SimulatedClock
    from quantdesk.services import build_services
    from quantdesk.services.trading_replay import CLOSE as REPLAY_CLOSE

    _, last = services.data.get_date_range()
    end = last.date()
    start = (end - timedelta(days=31 * MONTHS)).replace(day=1)
    symbols = [s.symbol for s in services.data.get_symbols() if s.asset_class != "index"]
    clock = SimulatedClock(datetime.combine(start - timedelta(days=1), time(0), tzinfo=UTC))
    replay = build_services(services.settings, clock=clock, database=services.database)
    trading = replay.trading
    with console.status(f"4/5 paper trading the 12-1 rotation signal {start} → {end}…"):
        if PORTFOLIO in {p.name for p in trading.list_portfolios()}:
            console.print(f"paper portfolio {PORTFOLIO!r} exists already: showing it as it is")
        else:
            trading.create_portfolio(
                PORTFOLIO, Decimal(100_000), benchmark="SP500", strategy="sector-momentum"
            )
            trading.run_strategy(
                PORTFOLIO, "sector-momentum", start, end, universe=",".join(symbols)
            )
        # value at the replay's last close on every run, not at the clock's starting point
        closed = datetime.combine(end, REPLAY_CLOSE, tzinfo=UTC)
        clock.advance_to(max(clock.now(), closed))
        value = trading.value(PORTFOLIO)
        report = trading.tca(PORTFOLIO)
        history = trading.history(PORTFOLIO)
    _print(value, report, history, start, end)


def _print(value: object, report: object, history: object, start: date, end: date) -> None:
    from quantdesk.analytics.tca import TcaReport
    from quantdesk.services.trading_types import PortfolioHistory, PortfolioValue

    assert isinstance(value, PortfolioValue)
    assert isinstance(report, TcaReport)
    assert isinstance(history, PortfolioHistory)
    rows = [
        [
            p.symbol,
            p.quantity,
            f"{p.average_cost:,.2f}",
            f"{p.price:,.2f}",
            f"{p.unrealised_pnl:,.2f}",
        ]
        for p in value.positions
    ]
    console.print(
        table(
            f"4. paper portfolio {PORTFOLIO} after replaying {start} → {end} "
            "(top 3 by 12-1, monthly)",
            ["symbol", "shares", "avg cost", "price", "unrealised P&L"],
            rows,
            right={"shares", "avg cost", "price", "unrealised P&L"},
        )
    )
    overall = report.overall
    console.print(
        f"equity {value.equity:,.2f} (cash {value.cash:,.2f}); "
        f"realised P&L {value.realised_pnl:,.2f}, "
        f"unrealised {value.unrealised_pnl:,.2f}, commissions {value.commissions:,.2f}; "
        f"time-weighted return {history.time_weighted_return:.2%}"
    )
    console.print(
        f"TCA: {overall.orders} orders, slippage vs arrival mean {overall.mean_bp:.2f} bp, "
        f"median {overall.median_bp:.2f} bp, {overall.outliers} outlier(s)"
    )
