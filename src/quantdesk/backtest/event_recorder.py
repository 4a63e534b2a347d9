"""What the event engine records while it runs, and the result built from it at the end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from quantdesk.backtest.event_ledger import ArrayLedger
from quantdesk.backtest.result import BacktestResult, empty_orders, round_trip_trades
from quantdesk.core.enums import Side
from quantdesk.data.panel import Panel
from quantdesk.execution.events import Fill
from quantdesk.execution.orders import Order

FillRow = tuple[int, int, bool, float, float, float, str]
"""Row, column, is-buy, shares, price, commission, client order id."""
OrderRow = tuple[int, int, bool, float, float, str]
"""Decision row, column, is-buy, shares ordered, decision (or limit/stop) price, order id."""


class Recorder:
    """Orders (latest state by id), fills, and the per-row figures the result needs."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.fill_rows: list[FillRow] = []
        self.order_rows: list[OrderRow] = []
        self.pre_trade_equity: dict[int, float] = {}
        self.costs_paid: dict[int, float] = {}

    def order_sent(self, order: Order, row: OrderRow) -> None:
        self.orders[order.client_order_id] = order
        self.order_rows.append(row)

    def order_changed(self, order: Order) -> None:
        self.orders[order.client_order_id] = order

    def filled(self, order: Order, fill: Fill, row: FillRow, cost: float) -> None:
        """``cost`` is commission plus slippage in currency, charged to row ``row[0]``."""
        self.orders[order.client_order_id] = order
        self.fills.append(fill)
        self.fill_rows.append(row)
        i = row[0]
        self.costs_paid[i] = self.costs_paid.get(i, 0.0) + cost

    def result(
        self,
        panel: Panel,
        ledger: ArrayLedger,
        *,
        strategy: str,
        params: Mapping[str, object],
        engine: str,
        price_field: str,
        rebalance_rows: Sequence[int] | None,
    ) -> BacktestResult:
        T, N = panel.shape
        dates = pd.DatetimeIndex(panel.dates, name="date")
        initial_cash = ledger.initial_cash
        cash_log = pd.Series(ledger.cash_log, dtype=np.float64).reindex(range(T)).ffill()
        cash = cash_log.fillna(initial_cash).to_numpy()
        positions = np.full((T, N), np.nan)
        positions[0] = 0.0
        for i, j, shares in ledger.position_log:
            positions[i, j] = shares
        positions = pd.DataFrame(positions).ffill().to_numpy()
        value = np.where(positions != 0.0, positions * ledger.marks, 0.0)
        equity = cash + value.sum(axis=1)
        returns = np.empty(T)
        returns[0] = equity[0] / initial_cash - 1.0
        returns[1:] = equity[1:] / equity[:-1] - 1.0
        notional = np.zeros(T)
        for i, _, _, quantity, price, _, _ in self.fill_rows:
            notional[i] += quantity * price
        pre = np.full(T, np.nan)
        pre[list(self.pre_trade_equity)] = list(self.pre_trade_equity.values())
        turnover = np.where(notional > 0, notional / pre, 0.0)
        costs = np.zeros(T)
        for i, paid in self.costs_paid.items():
            costs[i] = paid
        fills = _frame(self.fill_rows, panel, orders=self.orders)
        orders = self._orders_frame(panel)
        last_prices = {s: float(ledger.marks[-1, j]) for j, s in enumerate(panel.symbols)}
        if rebalance_rows is None:
            rebalance_rows = sorted({row[0] for row in self.fill_rows})
        columns = list(panel.symbols)
        return BacktestResult(
            strategy=strategy,
            params=dict(params),
            engine=engine,
            price_field=price_field,
            initial_cash=initial_cash,
            dates=dates,
            symbols=panel.symbols,
            equity=pd.Series(equity, index=dates, name="equity"),
            returns=pd.Series(returns, index=dates, name="returns"),
            cash=pd.Series(cash, index=dates, name="cash"),
            weights=pd.DataFrame(value / equity[:, None], index=dates, columns=columns),
            positions=pd.DataFrame(positions, index=dates, columns=columns),
            orders=orders,
            fills=fills,
            trades=round_trip_trades(fills, last_prices, compiled=True),
            turnover=pd.Series(turnover, index=dates, name="turnover"),
            costs=pd.Series(costs, index=dates, name="costs"),
            rebalance_dates=dates[np.asarray(rebalance_rows, dtype=np.int64)],
        )

    def _orders_frame(self, panel: Panel) -> pd.DataFrame:
        """One row per order sent: decision bar, ordered quantity, decision (or limit/stop)
        price and the commission its fills paid."""
        paid: dict[str, float] = {}
        for *_, commission, order_id in self.fill_rows:
            paid[order_id] = paid.get(order_id, 0.0) + commission
        rows = [
            (i, j, buy, quantity, price, paid.get(order_id, 0.0), order_id)
            for i, j, buy, quantity, price, order_id in self.order_rows
        ]
        return _frame(rows, panel, orders=self.orders)


def _frame(rows: list[FillRow], panel: Panel, orders: Mapping[str, Order]) -> pd.DataFrame:
    if not rows:
        empty = empty_orders()
        empty["reason"] = pd.Series(dtype=object)
        return empty
    bar, column, buy, quantity, price, commission, order_id = zip(*rows, strict=True)
    symbols = np.asarray(panel.symbols, dtype=object)
    return pd.DataFrame(
        {
            "date": panel.dates[np.asarray(bar)].astype("datetime64[ns]"),
            "symbol": symbols[np.asarray(column)],
            "side": np.where(np.asarray(buy), Side.BUY.value, Side.SELL.value).astype(object),
            "quantity": np.asarray(quantity, dtype=np.float64),
            "price": np.asarray(price, dtype=np.float64),
            "commission": np.asarray(commission, dtype=np.float64),
            "order_id": np.asarray(order_id, dtype=object),
            "reason": np.asarray([orders[oid].tag for oid in order_id], dtype=object),
        }
    )


__all__ = ["Recorder"]
