"""Numba kernels of long/flat signal strategies: numpy in, numpy out.

A *signal* array holds one action per bar and symbol: ``+1`` buy (enter with ``weight`` of
equity when flat), ``-1`` sell (close the whole position when long), ``0`` hold.
:func:`simulate_signals_nb` follows the event-driven engine's rules for a
:class:`~quantdesk.strategies.signals.PrecomputedSignalStrategy` exactly, in the same float
operation order, so both give the same orders, fills and equity:

* on each bar, symbols are visited in panel order; a BUY on a flat symbol with a price orders
  ``weight × equity / price`` shares (equity = cash + positions at this bar's prices, before
  this bar's fills), skipped below the cost model's minimum trade; a SELL on a long closes it;
* an order decided at bar ``t`` fills at ``price[t]`` (close timing) or ``open[t+1]`` in the
  order it was sent; orders decided on the final bar never fill;
* a buy the cash cannot pay is trimmed to ``(cash − per_order) / (fill·(1 + bps) + per_share)``
  shares (:meth:`~quantdesk.backtest.costs.CostModel.affordable_shares`) and spends all the cash;
  a sell whose proceeds cannot pay its flat fee is rejected.

Cost arguments mirror :class:`~quantdesk.backtest.costs.CostModel`: ``per_order`` and
``per_share`` in currency, ``commission_bps`` and ``slippage_bps`` in basis points, thresholds in
currency and as a fraction of equity.
"""

# Numba kernels take their arrays and cost terms positionally (no keyword-only parameters in
# nopython mode).

from __future__ import annotations

import numpy as np

from quantdesk.core.jit import njit
from quantdesk.strategies.signals import BUY, SELL

_BASIS_POINT = 1e-4

# order record columns: decision bar, column, side (+1 buy / -1 sell), quantity, decision price,
# decision equity
ORDER_FIELDS = 6
# fill record columns: bar, order row, signed shares, fill price, commission
FILL_FIELDS = 5


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


@njit(cache=True)
def _grow_nb(records: np.ndarray) -> np.ndarray:
    out = np.empty((2 * records.shape[0], records.shape[1]))
    out[: records.shape[0]] = records
    return out


@njit(cache=True, inline="always")
def _equity_nb(cash: float, held: np.ndarray, prices: np.ndarray, i: int) -> float:
    # the event context's sum: positions in column order, flat ones skipped
    value = 0.0
    for j in range(held.shape[0]):
        if held[j] != 0.0:
            value += held[j] * prices[i, j]
    return cash + value


@njit(cache=True, inline="always")
def _fill_nb(
    side: float,
    ordered: float,
    raw: float,
    cash: float,
    held: float,
    costs: tuple[float, float, float, float, float, float],
) -> tuple[float, float, float, float]:
    """(signed shares, fill price, commission, cash after) of one market order at ``raw``;
    zero shares when it is rejected."""
    per_order, per_share, bps, slip = costs[0], costs[1], costs[2], costs[3]
    if side > 0:
        price = raw * (1.0 + slip)
        quantity = ordered
        fee = _commission_nb(quantity, price, per_order, per_share, bps)
        if quantity * price + fee <= cash:
            return quantity, price, fee, cash - (quantity * price + fee)
        unit = price * (1.0 + bps * _BASIS_POINT) + per_share
        budget = cash - per_order
        if budget <= 0.0 or unit <= 0.0:
            return 0.0, price, 0.0, cash
        quantity = budget / unit
        if not quantity > 0.0:
            return 0.0, price, 0.0, cash
        # the trimmed buy spends exactly the cash left; float rounding goes to the fee
        return quantity, price, cash - quantity * price, 0.0
    price = raw * (1.0 - slip)
    quantity = min(ordered, max(held, 0.0))
    fee = _commission_nb(quantity, price, per_order, per_share, bps) if quantity > 0.0 else 0.0
    if not quantity > 0.0 or cash + (quantity * price - fee) < 0.0:
        return 0.0, price, 0.0, cash
    return -quantity, price, fee, cash + (quantity * price - fee)


@njit(cache=True, inline="always")
def _fill_orders_nb(
    first: int,
    last: int,
    i: int,
    fill_prices: np.ndarray,
    orders: np.ndarray,
    held: np.ndarray,
    fills: np.ndarray,
    notional: np.ndarray,
    paid: np.ndarray,
    pre: np.ndarray,
    cash: float,
    costs: tuple[float, float, float, float, float, float],
    n_fills: int,
) -> tuple[np.ndarray, float, int]:
    """Fill ``orders[first:last]`` at bar ``i`` of ``fill_prices`` (T × N) in the order they
    were sent."""
    for k in range(first, last):
        j = int(orders[k, 1])
        raw = fill_prices[i, j]
        shares, price, fee, cash = _fill_nb(orders[k, 2], orders[k, 3], raw, cash, held[j], costs)
        if shares == 0.0:
            continue  # rejected: nothing filled
        if n_fills == fills.shape[0]:
            fills = _grow_nb(fills)
        quantity = abs(shares)
        held[j] = held[j] + shares
        if np.isnan(pre[i]):
            pre[i] = orders[k, 5]
        notional[i] += quantity * price
        paid[i] = paid[i] + fee + quantity * abs(price - raw)
        fills[n_fills, 0] = i
        fills[n_fills, 1] = k
        fills[n_fills, 2] = shares
        fills[n_fills, 3] = price
        fills[n_fills, 4] = fee
        n_fills += 1
    return fills, cash, n_fills


@njit(cache=True, inline="always")
def _decide_nb(
    i: int,
    signals: np.ndarray,
    prices: np.ndarray,
    held: np.ndarray,
    cash: float,
    weight: float,
    thresholds: tuple[float, float],
    orders: np.ndarray,
    n_orders: int,
) -> tuple[np.ndarray, int]:
    """Append bar ``i``'s orders (symbols in panel order) to ``orders``."""
    min_value, min_weight = thresholds
    equity = np.nan  # computed once, on the first order of the bar
    for j in range(held.shape[0]):
        action = signals[i, j]
        price = prices[i, j]
        if action == BUY:
            if held[j] != 0.0 or not price > 0.0:
                continue
            if np.isnan(equity):
                equity = _equity_nb(cash, held, prices, i)
            quantity = weight * equity / price - held[j]
            if quantity == 0.0:
                continue
            size = abs(quantity * price)
            if size < min_value or (equity > 0 and size < min_weight * equity):
                continue
            side = 1.0
        elif action == SELL and held[j] > 0.0:
            if np.isnan(equity):
                equity = _equity_nb(cash, held, prices, i)
            quantity = held[j]
            side = -1.0
        else:
            continue
        if n_orders == orders.shape[0]:
            orders = _grow_nb(orders)
        orders[n_orders, 0] = i
        orders[n_orders, 1] = j
        orders[n_orders, 2] = side
        orders[n_orders, 3] = quantity
        orders[n_orders, 4] = price
        orders[n_orders, 5] = equity
        n_orders += 1
    return orders, n_orders


@njit(cache=True)
def simulate_signals_nb(
    signals: np.ndarray,
    open_: np.ndarray,
    prices: np.ndarray,
    weight: float,
    initial_cash: float,
    next_open: bool,
    costs: tuple[float, float, float, float, float, float],
) -> tuple[np.ndarray, ...]:
    """Run ``int8 (T, N)`` long/flat ``signals`` on valuation ``prices`` (carried forward).

    ``costs`` = (per_order, per_share, commission_bps, slippage as a fraction, min_trade_value,
    min_trade_weight). Returns ``(cash, positions, orders, fills, notional, paid,
    pre_trade_equity)``: cash ``(T,)`` and shares ``(T, N)`` after each bar, one row per order
    (:data:`ORDER_FIELDS`) and per fill (:data:`FILL_FIELDS`), and per bar the traded notional,
    the costs paid (commission + slippage) and the decision equity of its first fill (NaN
    without fills).
    """
    n_bars, n_symbols = prices.shape
    min_value, min_weight = costs[4], costs[5]
    cash_out = np.empty(n_bars)
    positions = np.empty((n_bars, n_symbols))
    notional = np.zeros(n_bars)
    paid = np.zeros(n_bars)
    pre = np.full(n_bars, np.nan)
    held = np.zeros(n_symbols)
    capacity = max(64, n_bars)
    orders = np.empty((capacity, ORDER_FIELDS))
    fills = np.empty((capacity, FILL_FIELDS))
    cash = initial_cash
    n_orders = 0
    n_fills = 0
    waiting = 0  # orders[waiting:n_orders] were sent on the previous bar (next-open timing)
    # the helpers are inlined and take the 2-D arrays with the bar index: per-bar calls with
    # row views cost more than the simulation itself on a long single-symbol series
    for i in range(n_bars):
        if next_open and waiting < n_orders:
            fills, cash, n_fills = _fill_orders_nb(
                waiting,
                n_orders,
                i,
                open_,
                orders,
                held,
                fills,
                notional,
                paid,
                pre,
                cash,
                costs,
                n_fills,
            )
        waiting = n_orders
        orders, n_orders = _decide_nb(
            i, signals, prices, held, cash, weight, (min_value, min_weight), orders, n_orders
        )
        if not next_open and i < n_bars - 1 and waiting < n_orders:
            fills, cash, n_fills = _fill_orders_nb(
                waiting,
                n_orders,
                i,
                prices,
                orders,
                held,
                fills,
                notional,
                paid,
                pre,
                cash,
                costs,
                n_fills,
            )
        cash_out[i] = cash
        for j in range(n_symbols):
            positions[i, j] = held[j]
    return (
        cash_out,
        positions,
        orders[:n_orders].copy(),
        fills[:n_fills].copy(),
        notional,
        paid,
        pre,
    )


__all__ = [
    "FILL_FIELDS",
    "ORDER_FIELDS",
    "crossover_signals_nb",
    "simulate_signals_nb",
    "sma_crossover_grid_nb",
]
