"""The paper runner with a signal strategy that rests limit orders, cancels them and closes
positions: same orders, fills and equity as the event backtest on the same panel (the synthetic
bars: BBB falls every day, so a buy limit under the close fills on the next bar's open)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import numpy as np
import pytest

from quantdesk.backtest.event import EventEngine
from quantdesk.core.clock import SimulatedClock
from quantdesk.execution import CostModel
from quantdesk.services import Services, trading_book
from quantdesk.services.trading_runner import PanelPrices, PaperRunner
from quantdesk.services.trading_session import PortfolioSession
from quantdesk.strategies.base import SignalStrategy, StrategyContext


class LimitDips(SignalStrategy):
    """Every 5th bar, per symbol: long → close the position; flat → cancel the buy limit sent
    5 bars ago if it still rests, and rest a new one 0.04 % under the close for 10 % of equity."""

    name: ClassVar[str] = "limit-dips"

    def __init__(self) -> None:
        super().__init__()
        self.resting: dict[str, str] = {}

    def on_bar(self, context: StrategyContext) -> None:
        if context.index % 5:
            return
        for symbol in ("AAA", "BBB"):
            if context.position(symbol) > 0:
                context.close_position(symbol)
                continue
            if symbol in self.resting:
                context.cancel(self.resting.pop(symbol))  # type: ignore[attr-defined]
            price = context.price(symbol)
            shares = 0.1 * context.equity / price
            self.resting[symbol] = context.buy(symbol, shares, limit_price=price * 0.9996)


def test_limit_orders_cancels_and_closes_match_the_event_backtest(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("dips", Decimal(10_000))
    panel = trading_services.data.load_panel(
        ["AAA", "BBB"], ("open", "high", "low", "close", "volume")
    )
    costs = CostModel(commission_per_order=1.0, slippage_bps=5.0)
    engine = EventEngine(panel, LimitDips(), costs, 10_000.0)
    expected = engine.run()

    prices = PanelPrices(trading_services.data, clock, panel.symbols)
    record = trading._record("dips")
    session = PortfolioSession(trading_services.database, clock, record, prices, costs)
    runner = PaperRunner(session, panel, LimitDips(), prices, costs)
    runner.run(range(len(panel.dates)), replay=True)

    history = trading.history("dips")
    # the runner's running summary of the book is what the trading book computes in full
    final = trading_book.value(session, prices)
    last = history.snapshots[-1]
    stored = (last.equity, last.cash, last.realised_pnl, last.unrealised_pnl)
    computed = (final.equity, final.cash, final.realised_pnl, final.unrealised_pnl)
    for mine, full in zip(stored, computed, strict=True):
        assert abs(mine - full) <= Decimal("1e-9")  # PostgreSQL keeps money to 1e-10
    assert last.unrealised_pnl != 0  # a position is open at the end
    paper = np.array([float(s.equity) for s in history.snapshots])
    backtest = expected.equity.to_numpy()
    assert np.max(np.abs(paper / backtest - 1)) <= 1e-9
    fills = expected.fills
    assert len(fills) > 4  # limit buys filled and positions closed
    stored = trading.list_orders("dips")
    mine = [(o.symbol, o.side, o.status) for o in stored]
    theirs = [
        # a backtest expires what still works when its data ends; a paper GTC order keeps working
        (o.symbol, str(o.side), "accepted" if "end of data" in o.status_reason else str(o.status))
        for o in engine.orders
    ]
    assert mine == theirs  # the same orders, one by one, ending the same way
    assert ("AAA", "buy", "cancelled") in mine  # AAA rises: its limits never fill
    filled = [o.filled_quantity for o in stored if o.status == "filled"]
    # exact Decimals of the float shares, cut to the 1e-10 money scale
    assert [float(q) for q in filled] == pytest.approx(fills["quantity"].tolist(), rel=1e-9)
