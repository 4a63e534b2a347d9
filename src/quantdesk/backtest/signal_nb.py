"""Numba kernels: the vectorised path of single-asset, long/flat signal strategies.

Numpy in, numpy out. A *signal* array holds one action per bar: ``+1`` buy (go long with all the
cash when flat), ``-1`` sell (close the whole position when long), ``0`` hold. The simulation
follows the event-driven engine's rules exactly, so both give the same fills and equity:

* an order decided at bar ``t`` fills at ``close[t]`` (``next_open=False``) or ``open[t+1]``;
* no order is decided on the final bar (no later bar could fill it under ``next_open``, and both
  timings keep the same rule so they stay comparable);
* buys spend all the cash: ``shares = (cash − flat) / (price·(1 + bps) + per_share)`` at the
  slipped price, the formula of :meth:`quantdesk.backtest.costs.CostModel.affordable_shares`;
* equity at bar ``t`` is ``cash + shares × close[t]`` after that bar's fills.

:func:`run_signals_vectorized` wraps the kernel into a :class:`BacktestResult`;
:func:`run_signal_strategy` runs a :class:`~quantdesk.strategies.signals.PrecomputedSignalStrategy`
(whose arrays drive both this path and the event engine) through it.

Cost arguments mirror :class:`~quantdesk.backtest.costs.CostModel`: ``per_order`` and ``per_share``
in currency, ``commission_bps`` and ``slippage_bps`` in basis points.
"""

# Numba kernels take their arrays and cost terms positionally (no keyword-only parameters in
# nopython mode).

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from quantdesk.backtest.costs import CostModel, FillTiming
from quantdesk.backtest.result import BacktestResult, round_trip_trades
from quantdesk.data.panel import Panel
from quantdesk.strategies.ma_crossover import simple_moving_average
from quantdesk.strategies.signals import BUY, HOLD, SELL, PrecomputedSignalStrategy

VECTOR_ENGINE = "vector"
_BASIS_POINT = 1e-4


@njit(cache=True)
def crossover_signals_nb(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """``+1`` where ``fast > slow``, else ``-1`` (NaN compares false: warm-up bars are ``-1``)."""
    out = np.empty(fast.shape[0], dtype=np.int8)
    for t in range(fast.shape[0]):
        out[t] = BUY if fast[t] > slow[t] else SELL
    return out


@njit(cache=True)
def _commission_nb(
    shares: float, fill: float, per_order: float, per_share: float, bps: float
) -> float:
    # same operation order as CostModel.commission, so both engines round alike
    return per_order + per_share * shares + bps * _BASIS_POINT * shares * fill


@njit(cache=True)
def _buy_nb(
    cash: float,
    desired: float,
    price: float,
    per_order: float,
    per_share: float,
    bps: float,
    slip: float,
) -> tuple[float, float, float]:
    """(shares bought, cash after, commission) of buying ``desired`` shares, trimmed to the cash."""
    fill = price * (1.0 + slip)
    fee = _commission_nb(desired, fill, per_order, per_share, bps)
    if desired * fill + fee <= cash:
        return desired, cash - (desired * fill + fee), fee
    budget = cash - per_order
    unit = fill * (1.0 + bps * _BASIS_POINT) + per_share
    if budget <= 0.0 or unit <= 0.0:
        return 0.0, cash, 0.0
    # the trimmed buy spends exactly the cash left; float rounding goes to the fee
    shares = budget / unit
    return shares, 0.0, cash - shares * fill


@njit(cache=True)
def _sell_nb(
    cash: float,
    shares: float,
    price: float,
    per_order: float,
    per_share: float,
    bps: float,
    slip: float,
) -> float:
    """Cash after selling ``shares``."""
    fill = price * (1.0 - slip)
    return cash + (shares * fill - _commission_nb(shares, fill, per_order, per_share, bps))


# fill record columns: bar, signed shares, fill price, commission, decision equity
FILL_FIELDS = 5


@njit(cache=True)
def _trade_nb(
    action: int,
    t: int,
    base: float,
    cash: float,
    shares: float,
    desired: float,
    decision_equity: float,
    costs: tuple[float, float, float, float],
    records: np.ndarray,
    n_fills: int,
) -> tuple[float, float, int]:
    """One all-in buy or full sell at ``base`` (before slippage); returns (cash, shares, n)."""
    per_order, per_share, bps, slip = costs
    if action == BUY:
        price = base * (1.0 + slip)
        bought, cash, fee = _buy_nb(cash, desired, base, per_order, per_share, bps, slip)
        if not bought > 0.0:
            return cash, shares, n_fills
        traded = bought
    else:
        price = base * (1.0 - slip)
        cash = _sell_nb(cash, shares, base, per_order, per_share, bps, slip)
        traded = -shares
        fee = _commission_nb(shares, price, per_order, per_share, bps)
    records[n_fills, 0] = t
    records[n_fills, 1] = traded
    records[n_fills, 2] = price
    records[n_fills, 3] = fee
    records[n_fills, 4] = decision_equity
    return cash, shares + traded, n_fills + 1


@njit(cache=True)
def simulate_long_flat_nb(
    signals: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    initial_cash: float,
    next_open: bool,
    per_order: float,
    per_share: float,
    commission_bps: float,
    slippage_bps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a long/flat signal series.

    A buy decided at ``t`` is sized ``cash / close[t]`` shares (all the equity at the decision
    price) and trimmed at the fill price to what the cash affords. Returns ``(equity, position,
    fills)``: equity and shares held after each bar (``float64[T]``), and one row per fill with
    the columns of :data:`FILL_FIELDS`.
    """
    n = close.shape[0]
    costs = (per_order, per_share, commission_bps, slippage_bps * _BASIS_POINT)
    equity = np.empty(n)
    position = np.empty(n)
    records = np.empty((n, FILL_FIELDS))
    n_fills = 0
    cash = initial_cash
    shares = 0.0
    pending = HOLD  # order decided on the previous bar, for next-open fills
    desired = 0.0
    decision_equity = initial_cash
    for t in range(n):
        if pending != HOLD:
            cash, shares, n_fills = _trade_nb(
                pending, t, open_[t], cash, shares, desired, decision_equity, costs, records,
                n_fills,
            )  # fmt: skip
            pending = HOLD
        if t < n - 1:
            decision = HOLD
            if signals[t] == BUY and shares == 0.0:
                decision = BUY
                desired = cash / close[t]
            elif signals[t] == SELL and shares > 0.0:
                decision = SELL
            if decision != HOLD:
                decision_equity = cash + shares * close[t] if shares != 0.0 else cash
            if next_open:
                pending = decision
            elif decision != HOLD:
                cash, shares, n_fills = _trade_nb(
                    decision, t, close[t], cash, shares, desired, decision_equity, costs,
                    records, n_fills,
                )  # fmt: skip
        equity[t] = cash + shares * close[t]
        position[t] = shares
    return equity, position, records[:n_fills].copy()


@njit(cache=True)
def _final_equity_nb(
    signals: np.ndarray, close: np.ndarray, initial_cash: float, bps: float
) -> float:
    """Final equity of a close-filled, bp-fee-only long/flat run without storing series."""
    n = close.shape[0]
    cash = initial_cash
    shares = 0.0
    for t in range(n - 1):
        if signals[t] == BUY and shares == 0.0:
            shares, cash, _ = _buy_nb(cash, cash / close[t], close[t], 0.0, 0.0, bps, 0.0)
        elif signals[t] == SELL and shares > 0.0:
            cash = _sell_nb(cash, shares, close[t], 0.0, 0.0, bps, 0.0)
            shares = 0.0
    return float(cash + shares * close[n - 1])


@njit(cache=True)
def sma_crossover_grid_nb(
    close: np.ndarray,
    fast_means: np.ndarray,
    slow_means: np.ndarray,
    fast_index: np.ndarray,
    slow_index: np.ndarray,
    initial_cash: float,
    commission_bps: float,
) -> np.ndarray:
    """Final equity of every (fast, slow) combination, filled at the signal-bar close.

    ``fast_means`` / ``slow_means`` are ``(W, T)`` stacks of moving averages; combination ``k``
    pairs row ``fast_index[k]`` with row ``slow_index[k]``. Fees are bp of notional only (the S3
    rules); :func:`simulate_long_flat_nb` covers the general cost model.
    """
    out = np.empty(fast_index.shape[0])
    for k in range(fast_index.shape[0]):
        signals = crossover_signals_nb(fast_means[fast_index[k]], slow_means[slow_index[k]])
        out[k] = _final_equity_nb(signals, close, initial_cash, commission_bps)
    return out


def run_signals_vectorized(
    panel: Panel,
    signals: np.ndarray,
    costs: CostModel | None = None,
    initial_cash: float = 1_000_000.0,
    *,
    strategy: str,
    params: Mapping[str, Any],
    fill_timing: FillTiming | str | None = None,
) -> BacktestResult:
    """Backtest a one-symbol long/flat ``signals`` array (``int8[T]``: +1 buy, −1 sell, 0 hold).

    The same rules as the event engine running the strategy that produced the signals (see the
    module docstring); the cost model's minimum-trade thresholds do not apply here.
    """
    costs = costs if costs is not None else CostModel()
    timing = FillTiming(fill_timing or costs.fill_timing)
    if len(panel.symbols) != 1:
        raise ValueError(
            f"the vectorised signal path trades one symbol; panel has {len(panel.symbols)}"
        )
    price_field, prices = panel.prices()
    close = np.ascontiguousarray(pd.Series(prices[:, 0]).ffill().to_numpy())
    open_ = close
    if "open" in panel.fields:
        opens = panel["open"][:, 0]
        if price_field == "adj_close":
            # the open on the adjusted scale of the closes, as the event engine fills it
            with np.errstate(invalid="ignore", divide="ignore"):
                opens = opens * panel["adj_close"][:, 0] / panel["close"][:, 0]
        with np.errstate(invalid="ignore"):
            open_ = np.where(opens > 0, opens, close)
    equity, position, records = simulate_long_flat_nb(
        np.ascontiguousarray(signals, dtype=np.int8).reshape(-1),
        np.ascontiguousarray(open_, dtype=np.float64),
        close,
        float(initial_cash),
        timing is FillTiming.NEXT_OPEN,
        costs.commission_per_order,
        costs.commission_per_share,
        costs.commission_bps,
        costs.slippage_bps,
    )
    base = open_ if timing is FillTiming.NEXT_OPEN else close
    return _signal_result(
        panel,
        price_field,
        (close, base),
        (equity, position, records),
        initial_cash,
        strategy=strategy,
        params=params,
        next_open=timing is FillTiming.NEXT_OPEN,
    )


def _signal_result(
    panel: Panel,
    price_field: str,
    prices: tuple[np.ndarray, np.ndarray],
    outputs: tuple[np.ndarray, np.ndarray, np.ndarray],
    initial_cash: float,
    *,
    strategy: str,
    params: Mapping[str, Any],
    next_open: bool,
) -> BacktestResult:
    close, base = prices
    equity, position, records = outputs
    dates = pd.DatetimeIndex(panel.dates, name="date")
    symbol = panel.symbols[0]
    bars = records[:, 0].astype(np.int64)
    quantity = np.abs(records[:, 1])
    fills = pd.DataFrame(
        {
            "date": np.asarray(panel.dates, dtype="datetime64[ns]")[bars],
            "symbol": np.full(len(bars), symbol, dtype=object),
            "side": np.where(records[:, 1] > 0, "buy", "sell").astype(object),
            "quantity": quantity,
            "price": records[:, 2],
            "commission": records[:, 3],
            "order_id": np.asarray([f"{strategy}-{k + 1}" for k in range(len(bars))], dtype=object),
        }
    )
    decision = bars - 1 if next_open else bars
    orders = fills.assign(
        date=np.asarray(panel.dates, dtype="datetime64[ns]")[decision], price=close[decision]
    )
    value = np.where(position != 0.0, position * close, 0.0)
    T = len(dates)
    notional, paid = np.zeros(T), np.zeros(T)
    np.add.at(notional, bars, quantity * records[:, 2])
    np.add.at(paid, bars, records[:, 3] + quantity * np.abs(records[:, 2] - base[bars]))
    pre = np.full(T, np.nan)
    pre[bars] = records[:, 4]
    previous = np.concatenate(([initial_cash], equity[:-1]))
    series = {
        "equity": equity,
        "returns": equity / previous - 1.0,
        "cash": equity - value,
        "turnover": np.where(notional > 0, notional / pre, 0.0),
        "costs": paid,
    }
    return BacktestResult(
        strategy=strategy,
        params=dict(params),
        engine=VECTOR_ENGINE,
        price_field=price_field,
        initial_cash=float(initial_cash),
        dates=dates,
        symbols=panel.symbols,
        equity=pd.Series(series["equity"], index=dates, name="equity"),
        returns=pd.Series(series["returns"], index=dates, name="returns"),
        cash=pd.Series(series["cash"], index=dates, name="cash"),
        weights=pd.DataFrame({symbol: value / equity}, index=dates),
        positions=pd.DataFrame({symbol: position}, index=dates),
        orders=orders,
        fills=fills,
        trades=round_trip_trades(fills, {symbol: float(close[-1])}),
        turnover=pd.Series(series["turnover"], index=dates, name="turnover"),
        costs=pd.Series(paid, index=dates, name="costs"),
        rebalance_dates=dates[np.unique(bars)],
    )


def run_signal_strategy(
    data: Panel,
    strategy: PrecomputedSignalStrategy,
    costs: CostModel | None = None,
    initial_cash: float = 1_000_000.0,
    fill_timing: FillTiming | str | None = None,
) -> BacktestResult:
    """The event engine's backtest of ``strategy``, in a numba kernel."""
    return run_signals_vectorized(
        data,
        strategy.signals(data)[:, 0],
        costs,
        initial_cash,
        strategy=strategy.name,
        params=strategy.params.model_dump(mode="json"),
        fill_timing=fill_timing,
    )


def sma_crossover_grid(
    close: np.ndarray,
    fast_windows: Sequence[int],
    slow_windows: Sequence[int],
    *,
    initial_cash: float = 1_000_000.0,
    commission_bps: float = 0.0,
) -> np.ndarray:
    """Final equity of every (fast, slow) pair, shape ``(len(fast), len(slow))``.

    Rules of ``ma-crossover`` on one price series, filled at the signal-bar close
    with a fee of ``commission_bps`` basis points of notional and nothing else (benchmark S3).
    Each moving average is computed once, however many pairs use it.
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


__all__ = [
    "BUY",
    "HOLD",
    "SELL",
    "VECTOR_ENGINE",
    "run_signal_strategy",
    "run_signals_vectorized",
    "sma_crossover_grid",
]
