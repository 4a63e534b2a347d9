"""The vectorised engine of long/flat signal strategies, on any number of symbols.

:func:`run_signal_strategy` runs a :class:`~quantdesk.strategies.signals.PrecomputedSignalStrategy`
through :func:`~quantdesk.backtest.signal_nb.simulate_signals_nb` and returns the same
:class:`BacktestResult` as the event engine running that strategy (the rules are stated in the
kernel module). Prices: holdings are valued with ``adj_close`` where the panel has it, else
``close``, carried forward over missing bars; next-open fills use the open on that basis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import BASIS_POINT, CostModel, FillTiming
from quantdesk.backtest.nb import forward_fill_nb
from quantdesk.backtest.result import BacktestResult, empty_orders, round_trip_trades
from quantdesk.backtest.signal_nb import simulate_signals_nb, sma_crossover_grid_nb
from quantdesk.data.panel import Panel
from quantdesk.strategies.ma_crossover import simple_moving_average
from quantdesk.strategies.signals import PrecomputedSignalStrategy

VECTOR_ENGINE = "vector"


def run_signal_strategy(
    data: Panel,
    strategy: PrecomputedSignalStrategy,
    costs: CostModel | None = None,
    initial_cash: float = 1_000_000.0,
    fill_timing: FillTiming | str | None = None,
) -> BacktestResult:
    """The event engine's backtest of ``strategy`` on ``data``, in a numba kernel.

    ``costs`` default to ``CostModel()``, ``fill_timing`` to ``costs.fill_timing``; cash in
    currency.
    """
    return run_signals(
        data,
        strategy.signals(data),
        costs,
        initial_cash,
        weight=strategy.entry_weight(data),
        strategy=strategy.name,
        params=strategy.params.model_dump(mode="json"),
        fill_timing=fill_timing,
    )


def run_signals(
    panel: Panel,
    signals: np.ndarray,
    costs: CostModel | None = None,
    initial_cash: float = 1_000_000.0,
    *,
    weight: float,
    strategy: str,
    params: Mapping[str, Any],
    fill_timing: FillTiming | str | None = None,
) -> BacktestResult:
    """Backtest ``int8 (T, N)`` long/flat ``signals`` (+1 buy, −1 sell, 0 hold); each entry
    orders ``weight`` (a fraction) of equity."""
    costs = costs if costs is not None else CostModel()
    timing = FillTiming(fill_timing or costs.fill_timing)
    if not initial_cash > 0:
        raise ValueError(f"initial_cash must be > 0, got {initial_cash}")
    actions = np.ascontiguousarray(signals, dtype=np.int8)
    if actions.shape != panel.shape:
        raise ValueError(f"signals have shape {actions.shape}; the panel is {panel.shape}")
    price_field, raw = panel.prices()
    raw = np.ascontiguousarray(raw, dtype=np.float64)
    # the allocation engine's forward fill: no DataFrame copies, and no copy at all without gaps
    prices = forward_fill_nb(raw) if np.isnan(raw).any() else raw
    next_open = timing is FillTiming.NEXT_OPEN
    opens = _valuation_open(panel, price_field, prices) if next_open else prices
    cost_terms = (
        float(costs.commission_per_order),
        float(costs.commission_per_share),
        float(costs.commission_bps),
        float(costs.slippage_bps) * BASIS_POINT,
        float(costs.min_trade_value),
        float(costs.min_trade_weight),
    )
    outputs = simulate_signals_nb(
        actions, opens, prices, float(weight), float(initial_cash), next_open, cost_terms
    )
    return _result(panel, price_field, prices, outputs, float(initial_cash), strategy, params)


def _valuation_open(panel: Panel, price_field: str, prices: np.ndarray) -> np.ndarray:
    """The open on the valuation basis (scaled by ``adj_close / close``), else the price."""
    if "open" not in panel.fields:
        return prices
    opens = panel["open"]
    with np.errstate(invalid="ignore", divide="ignore"):
        if price_field == "adj_close" and "close" in panel.fields:
            # same operation order as the event engine, so fills round alike
            opens = opens * panel["adj_close"] / panel["close"]
        return np.ascontiguousarray(np.where(opens > 0, opens, prices), dtype=np.float64)


def _result(
    panel: Panel,
    price_field: str,
    prices: np.ndarray,
    outputs: tuple[np.ndarray, ...],
    initial_cash: float,
    strategy: str,
    params: Mapping[str, Any],
) -> BacktestResult:
    cash, positions, orders, fills, notional, paid, pre = outputs
    dates = pd.DatetimeIndex(panel.dates, name="date")
    # a flat position is worth 0 even where the price is missing (0 × NaN would be NaN); in
    # place, so the T × N product is the only array this allocates
    value = positions * prices
    value[positions == 0.0] = 0.0
    equity = cash + value.sum(axis=1)
    returns = np.empty(len(equity))
    returns[0] = equity[0] / initial_cash - 1.0
    returns[1:] = equity[1:] / equity[:-1] - 1.0
    ids = np.asarray([f"{strategy}-{k + 1}" for k in range(len(orders))], dtype=object)
    fill_frame, order_frame = _frames(panel, orders, fills, ids)
    columns = list(panel.symbols)
    last_prices = {s: float(prices[-1, j]) for j, s in enumerate(panel.symbols)}
    bars = np.unique(fills[:, 0].astype(np.int64))
    return BacktestResult(
        strategy=strategy,
        params=dict(params),
        engine=VECTOR_ENGINE,
        price_field=price_field,
        initial_cash=initial_cash,
        dates=dates,
        symbols=panel.symbols,
        equity=pd.Series(equity, index=dates, name="equity"),
        returns=pd.Series(returns, index=dates, name="returns"),
        cash=pd.Series(cash, index=dates, name="cash"),
        weights=pd.DataFrame(value / equity[:, None], index=dates, columns=columns, copy=False),
        positions=pd.DataFrame(positions, index=dates, columns=columns, copy=False),
        orders=order_frame,
        fills=fill_frame,
        trades=round_trip_trades(fill_frame, last_prices, compiled=True),
        turnover=pd.Series(
            np.where(notional > 0, notional / pre, 0.0), index=dates, name="turnover"
        ),
        costs=pd.Series(paid, index=dates, name="costs"),
        rebalance_dates=dates[bars],
    )


def _frames(
    panel: Panel, orders: np.ndarray, fills: np.ndarray, ids: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fills and orders frames of the event engine (a signal strategy's tag is empty)."""
    if len(orders) == 0:
        empty = empty_orders()
        empty["reason"] = pd.Series(dtype=object)
        return empty, empty.copy()
    dates = np.asarray(panel.dates, dtype="datetime64[ns]")
    order_row = fills[:, 1].astype(np.int64)
    column = orders[:, 1].astype(np.int64)
    paid = np.zeros(len(orders))
    paid[order_row] = fills[:, 4]  # one fill per order at most
    # pandas string arrays built once here; object arrays would be re-inferred per frame
    symbols = pd.array(np.asarray(panel.symbols, dtype=object)[column], dtype="str")
    sides = pd.array(np.where(orders[:, 2] > 0, "buy", "sell"), dtype="str")
    order_ids = pd.array(ids, dtype="str")
    reasons = pd.array(np.full(len(orders), "", dtype=object), dtype="str")
    order_frame = pd.DataFrame(
        {
            "date": dates[orders[:, 0].astype(np.int64)],
            "symbol": symbols,
            "side": sides,
            "quantity": orders[:, 3],
            "price": orders[:, 4],
            "commission": paid,
            "order_id": order_ids,
            "reason": reasons,
        }
    )
    fill_frame = pd.DataFrame(
        {
            "date": dates[fills[:, 0].astype(np.int64)],
            "symbol": symbols[order_row],
            "side": sides[order_row],
            "quantity": np.abs(fills[:, 2]),
            "price": fills[:, 3],
            "commission": fills[:, 4],
            "order_id": order_ids[order_row],
            "reason": reasons[order_row],
        }
    )
    return fill_frame, order_frame


def sma_crossover_grid(
    close: np.ndarray,
    fast_windows: Sequence[int],
    slow_windows: Sequence[int],
    *,
    initial_cash: float = 1_000_000.0,
    commission_bps: float = 0.0,
) -> np.ndarray:
    """Final equity of every (fast, slow) pair, shape ``(len(fast), len(slow))``.

    Rules of ``ma-crossover`` on one price series, filled at the signal-bar close with a fee of
    ``commission_bps`` basis points of notional and nothing else (benchmark S3). Each moving
    average is computed once, however many pairs use it.
    """
    prices = np.ascontiguousarray(close, dtype=np.float64)
    windows = sorted({*fast_windows, *slow_windows})
    row = {w: k for k, w in enumerate(windows)}
    means = np.vstack([simple_moving_average(prices, w) for w in windows])
    fast_index = np.repeat([row[w] for w in fast_windows], len(slow_windows)).astype(np.int64)
    slow_index = np.tile([row[w] for w in slow_windows], len(fast_windows)).astype(np.int64)
    finals = sma_crossover_grid_nb(
        prices, means, means, fast_index, slow_index, float(initial_cash), float(commission_bps)
    )
    return finals.reshape(len(fast_windows), len(slow_windows))


__all__ = ["VECTOR_ENGINE", "run_signal_strategy", "run_signals", "sma_crossover_grid"]
