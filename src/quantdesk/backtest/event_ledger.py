"""The event engine's cash and position book, indexed by panel column.

Floats on purpose: the event engine must reproduce the vectorised kernel's arithmetic (same
operation order, same rounding) for the parity tests; the Decimal
:class:`~quantdesk.execution.ledger.Ledger` is the book of paper and live trading.
"""

from __future__ import annotations

import numpy as np


class ArrayLedger:
    """Cash, shares per column and the average cost of each long holding."""

    def __init__(self, initial_cash: float, n_symbols: int, marks: np.ndarray) -> None:
        self.initial_cash = float(initial_cash)
        self.cash = float(initial_cash)
        self.positions = [0.0] * n_symbols
        # average cost of each long holding (NaN when not long), as the vectorised kernel keeps it
        self.entry = np.full(n_symbols, np.nan)
        self.marks = marks  # valuation prices (T, N), forward-filled
        self.cash_log: dict[int, float] = {}
        self.position_log: list[tuple[int, int, float]] = []
        self.n_trades = 0
        self._equity_key = (-1, -1)
        self._equity_value = self.cash

    def equity(self, i: int) -> float:
        """Cash plus positions marked at row ``i``'s prices (cached until the next trade)."""
        key = (i, self.n_trades)
        if key != self._equity_key:
            row = self.marks[i]
            held = sum(q * row[j] for j, q in enumerate(self.positions) if q != 0.0)
            self._equity_key, self._equity_value = key, self.cash + held
        return self._equity_value

    def trade(
        self, i: int, j: int, buy: bool, quantity: float, price: float, commission: float
    ) -> None:
        """Book ``quantity`` (> 0) shares of column ``j`` at ``price`` on row ``i``."""
        held = self.positions[j]
        if buy:
            self.cash = self.cash - (quantity * price + commission)
            self.positions[j] = held + quantity
        else:
            self.cash = self.cash + (quantity * price - commission)
            self.positions[j] = held - quantity
        self._log(i, j, held, quantity if buy else -quantity, price)

    def spend_all(self, i: int, j: int, quantity: float, price: float) -> float:
        """Book a buy trimmed to the cash: it spends exactly the cash left, float rounding goes
        to the fee, which is returned."""
        held = self.positions[j]
        commission = self.cash - quantity * price
        self.cash = 0.0
        self.positions[j] = held + quantity
        self._log(i, j, held, quantity, price)
        return commission

    def _log(self, i: int, j: int, before: float, quantity: float, price: float) -> None:
        self._track_entry(j, before, quantity, price)
        self.cash_log[i] = self.cash
        self.position_log.append((i, j, self.positions[j]))
        self.n_trades += 1

    def _track_entry(self, j: int, before: float, quantity: float, price: float) -> None:
        """Keep the average cost (the rule and arithmetic of ``_track_entry_nb`` in ``nb.py``)."""
        after = self.positions[j]
        if not after > 0.0:
            self.entry[j] = np.nan
        elif not before > 0.0:
            self.entry[j] = price
        elif quantity > 0.0:
            self.entry[j] = (before * float(self.entry[j]) + quantity * price) / after


__all__ = ["ArrayLedger"]
