"""Numba kernels of the backtest engines: numpy in, numpy out, no Python objects.

Money is float64 in the account currency; rates are fractions (the callers convert bp).
"""

# Numba kernels take their arrays positionally (no keyword-only parameters in nopython mode)
# and the simulation loops read top to bottom as the rules state them.
# ruff: noqa: PLR0912, PLR0915

from __future__ import annotations

import math

import numpy as np

from quantdesk.backtest.stops import REBALANCE_CODE, STOP_LOSS_CODE, TAKE_PROFIT_CODE
from quantdesk.core.jit import njit

# trades smaller than this fraction of equity are float noise from re-targeting an unchanged
# weight; sending them would charge a flat commission for nothing
_NOISE = 1e-12


@njit(cache=True)
def _commission_nb(
    quantity: float, price: float, per_order: float, per_share: float, rate: float
) -> float:
    if quantity == 0.0:
        return 0.0
    return per_order + per_share * quantity + rate * quantity * price


@njit(cache=True)
def _order_deltas_nb(
    positions: np.ndarray,
    target: np.ndarray,
    marks: np.ndarray,
    equity: float,
    fractional: bool,
    min_trade_value: float,
    min_trade_weight: float,
) -> np.ndarray:
    """Signed share deltas that move ``positions`` to ``target`` weights of ``equity``."""
    n = positions.shape[0]
    deltas = np.zeros(n)
    for j in range(n):
        price = marks[j]
        if not (price > 0.0):  # no price yet (NaN) or a bad one: cannot trade this name
            continue
        shares = target[j] * equity / price
        if not fractional:
            shares = np.trunc(shares)
        delta = shares - positions[j]
        notional = abs(delta) * price
        if notional <= _NOISE * abs(equity):
            continue
        if shares != 0.0 and (notional < min_trade_value or notional < min_trade_weight * equity):
            continue
        deltas[j] = delta
    return deltas


# buy notionals closer than this fraction of equity are ties (broken by symbol order)
TIE_TOLERANCE = 1e-9

# order record columns: decision row, fill row, column, ordered, filled, fill price, commission,
# reason code (index into ``stops.ORDER_REASONS``)
RECORD_FIELDS = 8


@njit(cache=True)
def _record_nb(
    records: np.ndarray,
    n_rec: int,
    decision_row: int,
    fill_row: int,
    column: int,
    ordered: float,
    filled: float,
    price: float,
    fee: float,
    reason: int,
) -> tuple[np.ndarray, int]:
    if n_rec == records.shape[0]:
        grown = np.empty((2 * records.shape[0], RECORD_FIELDS))
        grown[:n_rec] = records[:n_rec]
        records = grown
    records[n_rec, 0] = decision_row
    records[n_rec, 1] = fill_row
    records[n_rec, 2] = column
    records[n_rec, 3] = ordered
    records[n_rec, 4] = filled
    records[n_rec, 5] = price
    records[n_rec, 6] = fee
    records[n_rec, 7] = reason
    return records, n_rec + 1


@njit(cache=True)
def _execute_nb(
    t: int,
    decision_row: int,
    deltas: np.ndarray,
    base_prices: np.ndarray,
    order_prices: np.ndarray,
    position: np.ndarray,
    cash: float,
    equity_ref: float,
    costs: tuple[float, float, float, float],
    fractional: bool,
    allow_leverage: bool,
    turnover: np.ndarray,
    paid: np.ndarray,
    records: np.ndarray,
    n_rec: int,
    reasons: np.ndarray,
    entry: np.ndarray,
) -> tuple[float, np.ndarray, int]:
    """Fill ``deltas`` (signed shares) at ``base_prices``: sells first (column order), then buys
    in ascending notional (ties by column); the buy cash cannot pay is trimmed to what it can.

    ``reasons`` (per column) go into the records; ``entry`` (per column) is kept as the
    average cost of each long holding (see ``_track_entry_nb``).

    ``equity_ref`` is the decision equity (positive; the caller never trades on zero equity).
    ``order_prices`` are the decision-time marks that rank the buys: with next-open fills the
    order book is fixed before the open is known, exactly as a live desk would send it.
    """
    per_order, per_share, rate, slippage = costs
    n = deltas.shape[0]
    buy_notional = np.full(n, np.inf)
    for j in range(n):
        q = deltas[j]
        if q == 0.0:
            continue
        base = base_prices[j]
        if q > 0.0:
            # equal target values differ by float noise (w·V/p·p); notionals within
            # TIE_TOLERANCE of equity count as ties, which the column (symbol) order breaks
            notional = q * order_prices[j]
            buy_notional[j] = np.round(notional / (TIE_TOLERANCE * (abs(equity_ref) + 1.0)))
            continue
        price = base * (1.0 - slippage)
        fee = _commission_nb(-q, price, per_order, per_share, rate)
        filled = q
        if cash + (-q * price - fee) < 0.0 and not allow_leverage:
            filled, fee = 0.0, 0.0  # the flat fee would exceed both the proceeds and the cash
        else:
            cash += -q * price - fee
            before = position[j]
            position[j] += q
            _track_entry_nb(entry, j, before, position[j], q, price)
            turnover[t] += -q * price
            paid[t] += fee - q * (base - price)
        records, n_rec = _record_nb(
            records, n_rec, decision_row, t, j, q, filled, price, fee, reasons[j]
        )
    order = np.argsort(buy_notional, kind="mergesort")
    for k in range(n):
        j = order[k]
        if buy_notional[j] == np.inf:
            break
        q = deltas[j]
        base = base_prices[j]
        price = base * (1.0 + slippage)
        fee = _commission_nb(q, price, per_order, per_share, rate)
        filled = q
        trimmed = False
        if q * price + fee > cash and not allow_leverage:
            budget = cash - per_order
            filled = budget / (price * (1.0 + rate) + per_share) if budget > 0.0 else 0.0
            if not fractional:
                filled = np.floor(filled)
            fee = _commission_nb(filled, price, per_order, per_share, rate)
            trimmed = fractional
        if filled > 0.0:
            if trimmed:
                # the trimmed buy spends exactly the cash left; float rounding goes to the fee
                fee = cash - filled * price
                cash = 0.0
            else:
                cash -= filled * price + fee
                if cash < 0.0 and not allow_leverage:
                    cash = 0.0  # rounding of an exactly affordable whole-share buy
            before = position[j]
            position[j] += filled
            _track_entry_nb(entry, j, before, position[j], filled, price)
            turnover[t] += filled * price
            paid[t] += fee + filled * (price - base)
        else:
            filled, fee = 0.0, 0.0
        records, n_rec = _record_nb(
            records, n_rec, decision_row, t, j, q, filled, price, fee, reasons[j]
        )
    if equity_ref > 0.0:
        turnover[t] /= equity_ref
    return cash, records, n_rec


@njit(cache=True)
def _drifted_nb(
    position: np.ndarray,
    marks: np.ndarray,
    equity: float,
    target: np.ndarray,
    threshold: float,
    blocked: np.ndarray,
) -> bool:
    for j in range(position.shape[0]):
        if blocked[j]:  # stopped out: held at zero until the next rebalance, not a drift
            continue
        held = position[j] * marks[j] if position[j] != 0.0 else 0.0
        if abs(held / equity - target[j]) > threshold:
            return True
    return False


@njit(cache=True)
def _equity_nb(position: np.ndarray, marks: np.ndarray, cash: float) -> float:
    value = cash
    for j in range(position.shape[0]):
        if position[j] != 0.0:
            value += position[j] * marks[j]
    return value


@njit(cache=True)
def _track_entry_nb(
    entry: np.ndarray, j: int, before: float, after: float, quantity: float, price: float
) -> None:
    """Keep ``entry[j]`` the average cost of a long holding (NaN when not long).

    A buy that opens the holding sets it to the fill price; a buy that adds averages it by
    quantity; a sell keeps it (the cost of the shares still held is unchanged).
    """
    if not after > 0.0:
        entry[j] = np.nan
    elif not before > 0.0:
        entry[j] = price
    elif quantity > 0.0:
        entry[j] = (before * entry[j] + quantity * price) / after


@njit(cache=True)
def stop_exits_nb(
    position: np.ndarray,
    marks: np.ndarray,
    entry: np.ndarray,
    high: np.ndarray,
    stop: float,
    take_profit: float,
    trailing: bool,
    exits: np.ndarray,
) -> bool:
    """Check the stop-loss rule of ``backtest.stops`` at one close; True when any exit fired.

    ``position``, ``marks`` (the close), ``entry`` (average cost) per column; ``high`` (the
    highest close since each holding was opened) is updated in place; ``stop`` and
    ``take_profit`` are fractions, NaN when off.  ``exits`` receives a reason code per column
    (``REBALANCE_CODE`` where nothing fired).  Both engines call this one kernel.
    """
    fired = False
    for j in range(position.shape[0]):
        exits[j] = REBALANCE_CODE
        if not position[j] > 0.0:
            high[j] = np.nan  # flat (or short): the next holding starts its own high
            continue
        price = marks[j]
        cost = entry[j]
        if not price > 0.0 or math.isnan(cost):
            continue
        reference = cost
        if trailing:
            if math.isnan(high[j]) or price > high[j]:
                high[j] = price
            reference = max(reference, high[j])
        if not math.isnan(stop) and price <= reference * (1.0 - stop):
            exits[j] = STOP_LOSS_CODE
        elif not math.isnan(take_profit) and price >= cost * (1.0 + take_profit):
            exits[j] = TAKE_PROFIT_CODE
        else:
            continue
        fired = True
    return fired


@njit(cache=True)
def _exit_deltas_nb(position: np.ndarray, exits: np.ndarray) -> np.ndarray:
    """Sell the whole holding of every column with an exit, nothing else."""
    deltas = np.zeros(position.shape[0])
    for j in range(position.shape[0]):
        if exits[j] != REBALANCE_CODE:
            deltas[j] = -position[j]
    return deltas


@njit(cache=True)
def allocation_nb(
    marks: np.ndarray,
    exec_prices: np.ndarray,
    targets: np.ndarray,
    is_rebalance: np.ndarray,
    delay: int,
    initial_cash: float,
    costs: tuple[float, float, float, float],
    thresholds: tuple[float, float],
    fractional: bool,
    allow_leverage: bool,
    drift_threshold: float,
    stop_distance: np.ndarray,
    take_profit: float,
    trailing: bool,
) -> tuple[np.ndarray, ...]:
    """Simulate target-weight rebalancing over ``T`` bars and ``N`` assets.

    ``marks`` (T×N): valuation prices, forward-filled, NaN before a name's first price; orders
    are sized from them at the decision close.  ``exec_prices`` (T×N): base fill price of orders
    executing on each row (the close, or the open with the close where the open is missing).
    ``targets`` (T×N): weights (fractions, NaN = 0) on rows where ``is_rebalance``.
    ``delay``: 0 fills at the decision close, 1 at the next row.  ``costs``: (flat fee per order,
    fee per share, commission rate, slippage rate), rates as fractions of notional.
    ``thresholds``: (min trade value in currency, min trade weight as a fraction of equity).
    ``drift_threshold``: NaN disables; else re-target to the last weights at any close where a
    weight differs from its target by more than this fraction.
    ``stop_distance`` (T): stop-loss fraction per row (NaN = none), ``take_profit`` (fraction,
    NaN = none), ``trailing``: the rule of ``backtest.stops``; an empty ``stop_distance``
    switches the rule off.  Stopped columns sit at target 0 until the next ``is_rebalance``
    row; their sells carry the exit's reason code in the records.

    Returns end-of-row positions (T×N), weights (T×N, position value / equity), equity, cash,
    turnover (fraction of decision equity), costs paid (currency), decided (bool per row) and
    the order records (see ``RECORD_FIELDS``).
    """
    T, N = marks.shape
    positions = np.zeros((T, N))
    weights = np.zeros((T, N))
    equity_out = np.empty(T)
    cash_out = np.empty(T)
    turnover = np.zeros(T)
    paid = np.zeros(T)
    decided = np.zeros(T, dtype=np.bool_)
    records = np.empty((max(16, 4 * N), RECORD_FIELDS))
    n_rec = 0
    min_value, min_weight = thresholds
    use_drift = not math.isnan(drift_threshold)
    use_stops = stop_distance.shape[0] == T and T > 0

    position = np.zeros(N)
    cash = initial_cash
    target = np.zeros(N)
    have_target = False
    pending = np.zeros(N)
    pending_row = -1
    pending_equity = 0.0
    entry = np.full(N, np.nan)
    high = np.full(N, np.nan)
    blocked = np.zeros(N, dtype=np.bool_)
    exits = np.full(N, REBALANCE_CODE, dtype=np.int64)
    pending_reasons = exits.copy()
    for t in range(T):
        if pending_row >= 0:
            cash, records, n_rec = _execute_nb(
                t, pending_row, pending, exec_prices[t], marks[pending_row], position, cash,
                pending_equity, costs, fractional, allow_leverage, turnover, paid, records, n_rec,
                pending_reasons, entry,
            )  # fmt: skip
            pending_row = -1
        equity = _equity_nb(position, marks[t], cash)
        if is_rebalance[t]:
            for j in range(N):
                weight = targets[t, j]
                target[j] = 0.0 if math.isnan(weight) else weight
            have_target = True
            blocked[:] = False
        stopped = False
        if use_stops:
            stopped = stop_exits_nb(
                position, marks[t], entry, high, stop_distance[t], take_profit, trailing, exits
            )
            for j in range(N):
                if exits[j] != REBALANCE_CODE:
                    blocked[j] = True
        decide = bool(is_rebalance[t])
        if not decide and use_drift and have_target and equity > 0.0:
            decide = _drifted_nb(position, marks[t], equity, target, drift_threshold, blocked)
        if decide or stopped:
            if decide:
                decided[t] = True
                effective = np.where(blocked, 0.0, target)
                deltas = _order_deltas_nb(
                    position, effective, marks[t], equity, fractional, min_value, min_weight
                )
            else:  # exits only: the other holdings are left as they are
                deltas = _exit_deltas_nb(position, exits)
            if delay == 0:
                cash, records, n_rec = _execute_nb(
                    t, t, deltas, exec_prices[t], marks[t], position, cash, equity,
                    costs, fractional, allow_leverage, turnover, paid, records, n_rec,
                    exits, entry,
                )  # fmt: skip
            elif t + 1 < T:
                pending = deltas
                pending_row = t
                pending_equity = equity
                pending_reasons[:] = exits
        positions[t] = position
        cash_out[t] = cash
        equity_out[t] = _equity_nb(position, marks[t], cash)
        for j in range(N):
            if position[j] != 0.0:
                weights[t, j] = position[j] * marks[t, j] / equity_out[t]
    return (
        positions,
        weights,
        equity_out,
        cash_out,
        turnover,
        paid,
        decided,
        records[:n_rec].copy(),
    )


@njit(cache=True)
def round_trips_nb(
    codes: np.ndarray,
    quantities: np.ndarray,
    prices: np.ndarray,
    commissions: np.ndarray,
    dates: np.ndarray,
    last_prices: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Round trips from fills in time order (see ``result.round_trip_trades``).

    ``quantities`` are signed (buys positive); ``dates`` int64 nanoseconds; ``last_prices`` per
    code marks trips still open.  Returns code, entry date, exit date (int64 min when open),
    signed quantity opened, entry price, exit price, pnl, return, is_open.
    """
    n_codes = last_prices.shape[0]
    cap = codes.shape[0] + n_codes
    out_code = np.empty(cap, dtype=np.int64)
    out_entry = np.empty(cap, dtype=np.int64)
    out_exit = np.empty(cap, dtype=np.int64)
    out_qty = np.empty(cap)
    out_entry_px = np.empty(cap)
    out_exit_px = np.empty(cap)
    out_pnl = np.empty(cap)
    out_ret = np.empty(cap)
    out_open = np.zeros(cap, dtype=np.bool_)
    position = np.zeros(n_codes)
    opened = np.zeros(n_codes)
    entry_notional = np.zeros(n_codes)
    exit_qty = np.zeros(n_codes)
    exit_notional = np.zeros(n_codes)
    fees = np.zeros(n_codes)
    entry_date = np.zeros(n_codes, dtype=np.int64)
    n_out = 0
    for i in range(codes.shape[0]):
        c = codes[i]
        q = quantities[i]
        remaining = abs(q)
        direction = 1.0 if q > 0 else -1.0
        if q == 0.0:
            continue
        if position[c] != 0.0 and direction * position[c] < 0.0:
            closing = min(remaining, abs(position[c]))
            exit_qty[c] += closing
            exit_notional[c] += closing * prices[i]
            fees[c] += commissions[i] * closing / abs(q)
            position[c] -= np.sign(position[c]) * closing
            remaining -= closing
            if abs(position[c]) <= 1e-9 * abs(opened[c]):
                side = np.sign(opened[c])
                pnl = side * (exit_notional[c] - entry_notional[c]) - fees[c]
                out_code[n_out] = c
                out_entry[n_out] = entry_date[c]
                out_exit[n_out] = dates[i]
                out_qty[n_out] = opened[c]
                out_entry_px[n_out] = entry_notional[c] / abs(opened[c])
                out_exit_px[n_out] = exit_notional[c] / exit_qty[c]
                out_pnl[n_out] = pnl
                out_ret[n_out] = pnl / entry_notional[c] if entry_notional[c] > 0 else np.nan
                n_out += 1
                position[c] = 0.0
                opened[c] = 0.0
                entry_notional[c] = 0.0
                exit_qty[c] = 0.0
                exit_notional[c] = 0.0
                fees[c] = 0.0
        if remaining > 1e-12 * abs(q):
            if position[c] == 0.0:
                entry_date[c] = dates[i]
            position[c] += direction * remaining
            opened[c] += direction * remaining
            entry_notional[c] += remaining * prices[i]
            fees[c] += commissions[i] * remaining / abs(q)
    for c in range(n_codes):
        if position[c] == 0.0:
            continue
        side = np.sign(opened[c])
        held = abs(position[c])
        exit_value = exit_notional[c] + held * last_prices[c]
        pnl = side * (exit_value - entry_notional[c]) - fees[c]
        out_code[n_out] = c
        out_entry[n_out] = entry_date[c]
        out_exit[n_out] = np.iinfo(np.int64).min
        out_qty[n_out] = opened[c]
        out_entry_px[n_out] = entry_notional[c] / abs(opened[c])
        out_exit_px[n_out] = exit_value / (exit_qty[c] + held)
        out_pnl[n_out] = pnl
        out_ret[n_out] = pnl / entry_notional[c] if entry_notional[c] > 0 else np.nan
        out_open[n_out] = True
        n_out += 1
    return (
        out_code[:n_out],
        out_entry[:n_out],
        out_exit[:n_out],
        out_qty[:n_out],
        out_entry_px[:n_out],
        out_exit_px[:n_out],
        out_pnl[:n_out],
        out_ret[:n_out],
        out_open[:n_out],
    )


@njit(cache=True)
def forward_fill_nb(values: np.ndarray) -> np.ndarray:
    """Copy of a T×N array with each NaN replaced by the last finite value above it."""
    out = values.copy()
    T, N = values.shape
    last = np.full(N, np.nan)
    for t in range(T):  # row by row: the arrays are C-ordered
        for j in range(N):
            v = values[t, j]
            if math.isnan(v):
                out[t, j] = last[j]
            else:
                last[j] = v
    return out
