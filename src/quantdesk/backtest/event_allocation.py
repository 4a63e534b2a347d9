"""Allocation strategies in the event-driven engine, with the vectorised engine's orders."""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np

from quantdesk.backtest.nb import stop_exits_nb
from quantdesk.backtest.stops import ORDER_REASONS, REBALANCE_CODE, OrderReason, StopLossRule
from quantdesk.core.enums import Side
from quantdesk.data.panel import Panel
from quantdesk.execution.costs import CostModel
from quantdesk.execution.targets import order_deltas, trade_sequence
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy, StrategyContext


class AllocationBook(Protocol):
    """Cash-and-shares view an allocation run reads (float shares by panel column)."""

    positions: list[float]
    marks: np.ndarray  # valuation prices (T, N), forward-filled
    entry: np.ndarray  # average cost of each long holding (NaN when not long)


class AllocationVenue(Protocol):
    @property
    def symbols(self) -> tuple[str, ...]: ...


class AllocationOrders(Protocol):
    """The order intake an :class:`AllocationAdapter` sends through: the event engine's
    ``BacktestOrders``, or the paper runner of the trading service (same orders, one rule)."""

    @property
    def ledger(self) -> AllocationBook: ...

    @property
    def broker(self) -> AllocationVenue: ...

    @property
    def costs(self) -> CostModel: ...

    def submit(self, side: Side, symbol: str, quantity: float, *, tag: str = "") -> str: ...


class AllocationAdapter(SignalStrategy):
    """Runs an :class:`AllocationStrategy` bar by bar with the vectorised engine's orders.

    On a rebalance row (or, with ``drift_threshold``, a row where a weight drifted further than
    that fraction from its target) it sizes each position to ``w × V / price`` shares (``V`` =
    equity at the bar's price, truncated in whole-share mode), skips float-noise trades and
    trades under the cost model's thresholds (a full close is never skipped), then sends the
    sells in column order and the buys in ascending notional; the engine trims the buy the cash
    cannot pay. Weights are computed once over the whole panel, as the vectorised engine does.

    With ``stop_loss`` each long holding is checked at every bar's price before the rebalance
    decision, by the kernel the vectorised engine uses; a stopped symbol is sold in full and
    held at target 0 until the next rebalance row (rule: :mod:`quantdesk.backtest.stops`).
    Orders are tagged with their :class:`~quantdesk.backtest.stops.OrderReason`.
    """

    name: ClassVar[str] = "allocation-adapter"

    def __init__(
        self,
        allocation: AllocationStrategy,
        drift_threshold: float | None = None,
        stop_loss: StopLossRule | None = None,
        vix: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.allocation = allocation
        self.drift_threshold = drift_threshold
        self.stop_loss = stop_loss
        self.vix = vix
        self.rebalance_rows: list[int] = []
        self._targets = np.empty((0, 0))
        self._decide = np.zeros(0, dtype=bool)
        self._target: np.ndarray | None = None
        self._distances: np.ndarray | None = None
        self._high = np.empty(0)
        self._blocked = np.zeros(0, dtype=bool)
        self._exits = np.empty(0, dtype=np.int64)
        self._orders: AllocationOrders | None = None
        self.fractional = True

    def attach(self, orders: AllocationOrders, *, fractional: bool) -> None:
        """Wire the engine's order intake (and through it the book) before the run."""
        self._orders = orders
        self.fractional = fractional

    def init(self, data: Panel) -> None:
        mask = np.asarray(self.allocation.rebalance_mask(data.dates), dtype=bool)
        self._targets = np.asarray(self.allocation.target_weights(data, mask), dtype=np.float64)
        self._decide = mask & np.isfinite(self._targets).any(axis=1)
        self._target = None
        self.rebalance_rows = []
        n_rows, n_symbols = data.shape
        if self.stop_loss is not None:
            self._distances = self.stop_loss.distances(n_rows, self.vix)
        self._high = np.full(n_symbols, np.nan)
        self._blocked = np.zeros(n_symbols, dtype=bool)
        self._exits = np.full(n_symbols, REBALANCE_CODE, dtype=np.int64)

    def targets_at(self, i: int) -> np.ndarray | None:
        """The target weights (fractions, by panel column) in force at row ``i``: those of the
        latest rebalance row at or before it; ``None`` before the first (after :meth:`init`)."""
        rows = np.flatnonzero(self._decide[: i + 1])
        if not len(rows):
            return None
        return np.asarray(np.nan_to_num(self._targets[rows[-1]], nan=0.0), dtype=np.float64)

    def on_bar(self, context: StrategyContext) -> None:
        orders = self._orders
        if orders is None:
            raise RuntimeError("AllocationAdapter runs inside EventEngine, which attaches it")
        i = context.index
        rebalance = bool(self._decide[i])
        if rebalance:
            self._target = np.nan_to_num(self._targets[i], nan=0.0)
            self._blocked[:] = False
        ledger = orders.ledger
        marks = ledger.marks[i]
        stopped = self._check_stops(ledger.positions, marks, ledger.entry, i)
        if rebalance or self._drifted(ledger.positions, marks, context.equity):
            self.rebalance_rows.append(i)
            self._send_orders(orders, marks, context.equity)
        elif stopped:
            # exits only: the other holdings are left as they are
            for j in np.flatnonzero(self._exits != REBALANCE_CODE):
                reason = ORDER_REASONS[self._exits[j]]
                held = ledger.positions[j]
                orders.submit(Side.SELL, context.symbols[j], held, tag=reason.value)

    def _check_stops(
        self, positions: list[float], marks: np.ndarray, entry: np.ndarray, i: int
    ) -> bool:
        if self._distances is None or self.stop_loss is None:
            return False
        fired = stop_exits_nb(
            np.asarray(positions, dtype=np.float64),
            marks,
            entry,
            self._high,
            float(self._distances[i]),
            self.stop_loss.take_profit_fraction,
            self.stop_loss.trailing,
            self._exits,
        )
        self._blocked |= self._exits != REBALANCE_CODE
        return bool(fired)

    def _drifted(self, positions: list[float], marks: np.ndarray, equity: float) -> bool:
        if self.drift_threshold is None or self._target is None or not equity > 0:
            return False
        held = np.asarray(positions) * np.nan_to_num(marks)
        drifted = np.abs(held / equity - self._target) > self.drift_threshold
        # a stopped symbol is held at zero until the next rebalance: that is not a drift
        return bool((drifted & ~self._blocked).any())

    def _send_orders(self, orders: AllocationOrders, marks: np.ndarray, equity: float) -> None:
        assert self._target is not None
        target = np.where(self._blocked, 0.0, self._target)
        prices = marks.tolist()
        deltas = order_deltas(
            target.tolist(),
            orders.ledger.positions,
            prices,
            equity,
            fractional=self.fractional,
            min_trade_value=orders.costs.min_trade_value,
            min_trade_weight=orders.costs.min_trade_weight,
        )
        symbols = orders.broker.symbols
        for j in trade_sequence(deltas, prices, equity):
            delta = deltas[j]
            if delta < 0:
                reason = ORDER_REASONS[self._exits[j]].value
                orders.submit(Side.SELL, symbols[j], -delta, tag=reason)
            else:
                orders.submit(Side.BUY, symbols[j], delta, tag=OrderReason.REBALANCE.value)


__all__ = ["AllocationAdapter", "AllocationOrders"]
