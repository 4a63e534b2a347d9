"""Round trips from fills in plain Python: ``backtest.nb.round_trips_nb`` without numba.

A momentum backtest has about 15,000 fills; walking them in Python takes a few hundredths of a
second, loading numba and the cached kernel about half a second and 100 MB (issue 11). The
rules and the float operation order are the kernel's, so the results are bit for bit the same
(``tests/unit/backtest/test_allocation_np.py``); ``result.round_trip_trades`` picks this walk
for up to ``PYTHON_FILLS`` fills.
"""

from __future__ import annotations

import math

import numpy as np

# above this many fills the kernel's load cost is repaid (measured: ~2 µs per fill in Python)
PYTHON_FILLS = 100_000
_OPEN = np.iinfo(np.int64).min


def _sign(value: float) -> float:
    return 1.0 if value > 0.0 else (-1.0 if value < 0.0 else value)


def round_trips(
    codes: np.ndarray,
    quantities: np.ndarray,
    prices: np.ndarray,
    commissions: np.ndarray,
    dates: np.ndarray,
    last_prices: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Same arguments and outputs as ``round_trips_nb`` (see ``result.round_trip_trades``)."""
    n_codes = last_prices.shape[0]
    position = [0.0] * n_codes
    opened = [0.0] * n_codes
    entry_notional = [0.0] * n_codes
    exit_qty = [0.0] * n_codes
    exit_notional = [0.0] * n_codes
    fees = [0.0] * n_codes
    entry_date = [0] * n_codes
    rows: list[tuple[int, int, int, float, float, float, float, float, bool]] = []
    for c, q, price, commission, date in zip(
        codes.tolist(),
        quantities.tolist(),
        prices.tolist(),
        commissions.tolist(),
        dates.tolist(),
        strict=True,
    ):
        remaining = abs(q)
        direction = 1.0 if q > 0 else -1.0
        if q == 0.0:
            continue
        if position[c] != 0.0 and direction * position[c] < 0.0:
            closing = min(remaining, abs(position[c]))
            exit_qty[c] += closing
            exit_notional[c] += closing * price
            fees[c] += commission * closing / abs(q)
            position[c] -= _sign(position[c]) * closing
            remaining -= closing
            if abs(position[c]) <= 1e-9 * abs(opened[c]):
                side = _sign(opened[c])
                pnl = side * (exit_notional[c] - entry_notional[c]) - fees[c]
                rows.append(
                    (
                        c,
                        entry_date[c],
                        date,
                        opened[c],
                        entry_notional[c] / abs(opened[c]),
                        exit_notional[c] / exit_qty[c],
                        pnl,
                        pnl / entry_notional[c] if entry_notional[c] > 0 else math.nan,
                        False,
                    )
                )
                position[c] = opened[c] = entry_notional[c] = 0.0
                exit_qty[c] = exit_notional[c] = fees[c] = 0.0
        if remaining > 1e-12 * abs(q):
            if position[c] == 0.0:
                entry_date[c] = date
            position[c] += direction * remaining
            opened[c] += direction * remaining
            entry_notional[c] += remaining * price
            fees[c] += commission * remaining / abs(q)
    last = last_prices.tolist()
    for c in range(n_codes):
        if position[c] == 0.0:
            continue
        side = _sign(opened[c])
        held = abs(position[c])
        exit_value = exit_notional[c] + held * last[c]
        pnl = side * (exit_value - entry_notional[c]) - fees[c]
        rows.append(
            (
                c,
                entry_date[c],
                _OPEN,
                opened[c],
                entry_notional[c] / abs(opened[c]),
                exit_value / (exit_qty[c] + held),
                pnl,
                pnl / entry_notional[c] if entry_notional[c] > 0 else math.nan,
                True,
            )
        )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 9
    kinds = (np.int64, np.int64, np.int64) + (np.float64,) * 5 + (np.bool_,)
    return tuple(np.array(col, dtype=kind) for col, kind in zip(columns, kinds, strict=True))
