"""NumPy twins of the allocation kernels (``backtest.nb``) for the plain case: no stops, no drift.

Why a second implementation: a momentum backtest rebalances a few hundred times in 20 years, so
the simulation is a few hundred decision rows and long stretches in which nothing but the marks
change. Loading numba and its cached kernels costs about 0.5 s and 100 MB per process (issue 11),
more than this whole simulation in NumPy. Rows between decisions are filled in whole slices; the
decision rows run the kernel's rules in the kernel's float operation order (scalar IEEE doubles,
sequential sums), so the results are bit for bit the kernel's — ``tests/unit/backtest/
test_allocation_np.py`` checks that against ``allocation_nb`` on real and synthetic panels.
Stops, take-profit and drift rebalancing (a check at every close) stay with the kernel.
"""

from __future__ import annotations

import math

import numpy as np

from quantdesk.backtest.stops import REBALANCE_CODE

# the kernel's constants (``backtest.nb`` imports numba, so they are repeated here and a test
# keeps them equal)
NOISE = 1e-12
TIE_TOLERANCE = 1e-9
RECORD_FIELDS = 8


def forward_fill(values: np.ndarray) -> np.ndarray:
    """Copy of a T×N array with each NaN replaced by the last non-NaN value above it."""
    out = values.copy()
    missing = np.isnan(values)
    rows = values.shape[0]
    if rows == 0:
        return out
    # only columns with a gap after their first value have anything to fill: on real panels a
    # handful (most NaNs are before a listing), so whole columns are filled at once
    first = np.argmax(~missing, axis=0)
    last_gap = rows - 1 - np.argmax(missing[::-1], axis=0)
    for j in np.flatnonzero(missing.any(axis=0) & (last_gap > first)).tolist():
        source = np.where(missing[:, j], 0, np.arange(rows))
        np.maximum.accumulate(source, out=source)  # the row of the last value at or above
        out[:, j] = values[source, j]
    return out


def allocation_np(
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
) -> tuple[np.ndarray, ...]:
    """``allocation_nb`` without drift threshold and stops: same arguments, same outputs."""
    T, N = marks.shape
    positions = np.empty((T, N))
    cash_out = np.empty(T)
    turnover = np.zeros(T)
    paid = np.zeros(T)
    decided = np.zeros(T, dtype=np.bool_)
    records: list[tuple[float, ...]] = []
    rules = _Rules(costs, thresholds, fractional, allow_leverage)

    position = np.zeros(N)
    cash = float(initial_cash)
    pending = np.zeros(N)
    pending_row = -1
    pending_equity = 0.0
    rebalance_rows = np.flatnonzero(is_rebalance)
    events = rebalance_rows
    if delay != 0:
        fills = rebalance_rows + 1
        events = np.union1d(rebalance_rows, fills[fills < T])
    start = 0
    for t in events.tolist():
        positions[start:t] = position
        cash_out[start:t] = cash
        if pending_row >= 0:
            cash = rules.execute(
                t, pending_row, pending, exec_prices[t], marks[pending_row], position, cash,
                pending_equity, turnover, paid, records,
            )  # fmt: skip
            pending_row = -1
        if is_rebalance[t]:
            equity = _equity(position, marks[t], cash)
            weights = targets[t]
            target = np.where(np.isnan(weights), 0.0, weights)
            decided[t] = True
            deltas = rules.order_deltas(position, target, marks[t], equity)
            if delay == 0:
                cash = rules.execute(
                    t, t, deltas, exec_prices[t], marks[t], position, cash, equity,
                    turnover, paid, records,
                )  # fmt: skip
            elif t + 1 < T:
                pending = deltas
                pending_row = t
                pending_equity = equity
        positions[t] = position
        cash_out[t] = cash
        start = t + 1
    positions[start:] = position
    cash_out[start:] = cash
    weights_out, equity_out = _weights_and_equity(positions, marks, cash_out)
    record_array = np.array(records, dtype=np.float64).reshape(len(records), RECORD_FIELDS)
    return positions, weights_out, equity_out, cash_out, turnover, paid, decided, record_array


def _weights_and_equity(
    positions: np.ndarray, marks: np.ndarray, cash: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every row's weights and equity: the kernel's sums, one held column at a time."""
    flat = positions == 0.0
    # each held position's value, 0.0 where nothing is held (0 × a missing mark would be NaN)
    weights = np.multiply(positions, marks, out=np.empty(positions.shape))
    weights[flat] = 0.0
    equity = cash.copy()
    for j in np.flatnonzero(~flat.all(axis=0)).tolist():
        equity += weights[:, j]  # in column order, as the kernel adds (+0.0 changes nothing)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(weights, equity[:, None], out=weights)
    weights[flat] = 0.0
    return weights, equity


def _equity(position: np.ndarray, marks: np.ndarray, cash: float) -> float:
    """Cash plus each held position's value, added in column order (the kernel's sum)."""
    held = np.flatnonzero(position)
    if held.size == 0:
        return cash
    terms = np.empty(held.size + 1)
    terms[0] = cash
    np.multiply(position[held], marks[held], out=terms[1:])
    return float(np.add.accumulate(terms)[-1])  # sequential, unlike np.sum's pairwise sum


class _Rules:
    """The kernel's order sizing and fill rules, for one run's costs and switches."""

    def __init__(
        self,
        costs: tuple[float, float, float, float],
        thresholds: tuple[float, float],
        fractional: bool,
        allow_leverage: bool,
    ) -> None:
        self.per_order, self.per_share, self.rate, self.slippage = (float(c) for c in costs)
        self.min_value, self.min_weight = (float(v) for v in thresholds)
        self.fractional = fractional
        self.allow_leverage = allow_leverage

    def commission(self, quantity: float, price: float) -> float:
        if quantity == 0.0:
            return 0.0
        return self.per_order + self.per_share * quantity + self.rate * quantity * price

    def order_deltas(
        self, position: np.ndarray, target: np.ndarray, marks: np.ndarray, equity: float
    ) -> np.ndarray:
        """``_order_deltas_nb``, element by element the same operations."""
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = target * equity / marks
        if not self.fractional:
            shares = np.trunc(shares)
        delta = shares - position
        notional = np.abs(delta) * marks
        small = (shares != 0.0) & (
            (notional < self.min_value) | (notional < self.min_weight * equity)
        )
        send = (marks > 0.0) & ~(notional <= NOISE * abs(equity)) & ~small
        return np.where(send, delta, 0.0)

    def execute(
        self,
        t: int,
        decision_row: int,
        deltas: np.ndarray,
        base_prices: np.ndarray,
        order_prices: np.ndarray,
        position: np.ndarray,
        cash: float,
        equity_ref: float,
        turnover: np.ndarray,
        paid: np.ndarray,
        records: list[tuple[float, ...]],
    ) -> float:
        """``_execute_nb``: sells in column order, then buys by ascending notional."""
        traded = np.flatnonzero(deltas)
        quantities = deltas[traded]
        moved = 0.0
        cost = 0.0
        sells = quantities < 0.0
        for j, q, base in zip(
            traded[sells].tolist(),
            quantities[sells].tolist(),
            base_prices[traded[sells]].tolist(),
            strict=True,
        ):
            price = base * (1.0 - self.slippage)
            fee = self.commission(-q, price)
            filled = q
            if cash + (-q * price - fee) < 0.0 and not self.allow_leverage:
                filled, fee = 0.0, 0.0  # the flat fee would exceed both the proceeds and the cash
            else:
                cash += -q * price - fee
                position[j] += q
                moved += -q * price
                cost += fee - q * (base - price)
            records.append((decision_row, t, j, q, filled, price, fee, REBALANCE_CODE))
        buys = traded[~sells]
        keys = np.round(
            deltas[buys] * order_prices[buys] / (TIE_TOLERANCE * (abs(equity_ref) + 1.0))
        )
        order = buys[np.argsort(keys, kind="mergesort")]
        for j, q, base in zip(
            order.tolist(), deltas[order].tolist(), base_prices[order].tolist(), strict=True
        ):
            cash, bought, spent = self._buy(t, decision_row, j, q, base, position, cash, records)
            moved += bought
            cost += spent
        turnover[t] += moved
        paid[t] += cost
        if equity_ref > 0.0:
            turnover[t] /= equity_ref
        return cash

    def _buy(
        self,
        t: int,
        decision_row: int,
        j: int,
        q: float,
        base: float,
        position: np.ndarray,
        cash: float,
        records: list[tuple[float, ...]],
    ) -> tuple[float, float, float]:
        """One buy of the kernel's second loop: (cash after, notional bought, costs paid)."""
        price = base * (1.0 + self.slippage)
        fee = self.commission(q, price)
        filled = q
        trimmed = False
        moved = 0.0
        cost = 0.0
        if q * price + fee > cash and not self.allow_leverage:
            budget = cash - self.per_order
            filled = budget / (price * (1.0 + self.rate) + self.per_share) if budget > 0.0 else 0.0
            if not self.fractional:
                filled = float(math.floor(filled))
            fee = self.commission(filled, price)
            trimmed = self.fractional
        if filled > 0.0:
            if trimmed:
                # the trimmed buy spends exactly the cash left; float rounding goes to the fee
                fee = cash - filled * price
                cash = 0.0
            else:
                cash -= filled * price + fee
                if cash < 0.0 and not self.allow_leverage:
                    cash = 0.0  # rounding of an exactly affordable whole-share buy
            position[j] += filled
            moved = filled * price
            cost = fee + filled * (price - base)
        else:
            filled, fee = 0.0, 0.0
        records.append((decision_row, t, j, q, filled, price, fee, REBALANCE_CODE))
        return cash, moved, cost
