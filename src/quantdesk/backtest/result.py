"""The result type both backtest engines return, and its exports.

Conventions (both engines follow them so results compare cell by cell):

- Index: the panel's dates as a ``DatetimeIndex`` named ``date`` (UTC, tz-naive, as
  :meth:`quantdesk.data.Panel.frame` gives them).
- ``equity``/``cash`` in currency at each bar's close after that bar's trading; ``returns`` are
  simple daily returns as fractions (the first is ``equity[0] / initial_cash − 1``).
- ``weights`` and ``positions`` are end-of-bar, after trading: weight = position value / equity.
- ``turnover`` per bar = traded notional (one side, at fill prices) / pre-trade equity, a fraction.
- ``costs`` per bar = commission + slippage paid, in currency.
- ``orders``/``fills`` have the columns in :data:`ORDER_COLUMNS`; ``quantity`` is positive and
  ``side`` says the direction.  An order's ``date``/``price`` are the decision bar and its
  close; a fill's are the fill bar and the fill price after slippage.  An order trimmed for
  cash shows the quantity asked, its fill the quantity bought; an order that could not fill at
  all has no fill row.  ``trades`` (round trips, flat → flat) have :data:`TRADE_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import Side

ORDER_COLUMNS = ("date", "symbol", "side", "quantity", "price", "commission", "order_id")
TRADE_COLUMNS = (
    "symbol",
    "entry_date",
    "exit_date",
    "quantity",
    "entry_price",
    "exit_price",
    "pnl",
    "return",
    "is_open",
)
_SERIES_FRAME = "series"


@dataclass(frozen=True)
class BacktestResult:
    """Everything one backtest run produced (see the module docstring for units)."""

    strategy: str
    params: Mapping[str, Any]
    engine: str
    price_field: str
    initial_cash: float
    dates: pd.DatetimeIndex
    symbols: tuple[str, ...]
    equity: pd.Series
    returns: pd.Series
    cash: pd.Series
    weights: pd.DataFrame
    positions: pd.DataFrame
    orders: pd.DataFrame
    fills: pd.DataFrame
    trades: pd.DataFrame
    turnover: pd.Series
    costs: pd.Series
    rebalance_dates: pd.DatetimeIndex
    benchmark: pd.Series | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def final_equity(self) -> float:
        """Equity at the last close, in currency."""
        return float(self.equity.iloc[-1])

    @property
    def total_costs(self) -> float:
        """Commission plus slippage paid over the run, in currency."""
        return float(self.costs.sum())

    @property
    def n_rebalances(self) -> int:
        return len(self.rebalance_dates)

    def with_metrics(self, metrics: Mapping[str, float]) -> BacktestResult:
        """A copy carrying ``metrics`` (filled by the analytics layer, not the engines)."""
        return replace(self, metrics=dict(metrics))

    def meta(self) -> dict[str, Any]:
        """Run description as JSON-ready values."""
        return {
            "strategy": self.strategy,
            "params": dict(self.params),
            "engine": self.engine,
            "price_field": self.price_field,
            "initial_cash": self.initial_cash,
            "symbols": list(self.symbols),
            "start": _iso(self.dates[0]) if len(self.dates) else None,
            "end": _iso(self.dates[-1]) if len(self.dates) else None,
            "final_equity": self.final_equity if len(self.equity) else None,
            "total_costs": self.total_costs,
            "n_rebalances": self.n_rebalances,
            "metrics": {k: float(v) for k, v in self.metrics.items()},
        }

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The run as named frames: series, weights, positions, orders, fills, trades."""
        series = pd.DataFrame(
            {
                "equity": self.equity,
                "returns": self.returns,
                "cash": self.cash,
                "turnover": self.turnover,
                "costs": self.costs,
            }
        )
        if self.benchmark is not None:
            series["benchmark"] = self.benchmark.reindex(series.index)
        series["rebalance"] = series.index.isin(self.rebalance_dates)
        return {
            _SERIES_FRAME: series,
            "weights": self.weights,
            "positions": self.positions,
            "orders": self.orders,
            "fills": self.fills,
            "trades": self.trades,
        }


def _iso(moment: Any) -> str:
    return str(pd.Timestamp(moment).isoformat())


def empty_orders() -> pd.DataFrame:
    """An orders/fills frame with no rows and the standard columns."""
    return pd.DataFrame({c: pd.Series(dtype=_ORDER_DTYPES[c]) for c in ORDER_COLUMNS})


_ORDER_DTYPES = {
    "date": "datetime64[ns]",
    "symbol": "object",
    "side": "object",
    "quantity": "float64",
    "price": "float64",
    "commission": "float64",
    "order_id": "object",
}


def round_trip_trades(
    fills: pd.DataFrame, last_prices: Mapping[str, float], *, compiled: bool = False
) -> pd.DataFrame:
    """Round trips (flat → position → flat) from ``fills``, per symbol, in fill order.

    ``entry_price``/``exit_price`` are quantity-weighted average fill prices of the opening and
    closing fills; ``quantity`` is the total opened (negative for shorts); ``pnl`` is in currency
    net of all commissions in the trip; ``return`` = pnl / opened notional (a fraction).  A
    position still open at the end is reported with ``is_open`` True, no ``exit_date`` and
    ``exit_price`` = its last price from ``last_prices``.  A fill that flips the position's sign
    closes one trip and opens the next; its commission is split pro rata.

    ``compiled``: the caller has loaded numba already, so its kernel walks the fills; otherwise
    a Python walk does up to ``trips.PYTHON_FILLS`` fills (the results are identical).
    """
    if fills.empty:
        return pd.DataFrame({c: pd.Series(dtype=_TRADE_DTYPES[c]) for c in TRADE_COLUMNS})
    from quantdesk.backtest.trips import PYTHON_FILLS, round_trips

    if compiled or len(fills) > PYTHON_FILLS:
        # numba loads here, not on import: it pays off only on many fills
        from quantdesk.backtest.nb import round_trips_nb as round_trips

    codes, names = pd.factorize(fills["symbol"], sort=True)
    sign = np.where(fills["side"].to_numpy() == Side.BUY.value, 1.0, -1.0)
    dates = fills["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    last = np.array([last_prices.get(str(s), np.nan) for s in names], dtype=np.float64)
    out = round_trips(
        codes.astype(np.int64),
        sign * fills["quantity"].to_numpy(dtype=np.float64),
        fills["price"].to_numpy(dtype=np.float64),
        fills["commission"].to_numpy(dtype=np.float64),
        dates,
        last,
    )
    code, entry, exit_, qty, entry_px, exit_px, pnl, ret, is_open = out
    return pd.DataFrame(
        {
            "symbol": np.asarray(names, dtype=object)[code],
            "entry_date": entry.view("datetime64[ns]"),
            "exit_date": exit_.view("datetime64[ns]"),  # int64 min is NaT
            "quantity": qty,
            "entry_price": entry_px,
            "exit_price": exit_px,
            "pnl": pnl,
            "return": ret,
            "is_open": is_open,
        }
    )


_TRADE_DTYPES = {
    "symbol": "object",
    "entry_date": "datetime64[ns]",
    "exit_date": "datetime64[ns]",
    "quantity": "float64",
    "entry_price": "float64",
    "exit_price": "float64",
    "pnl": "float64",
    "return": "float64",
    "is_open": "bool",
}
