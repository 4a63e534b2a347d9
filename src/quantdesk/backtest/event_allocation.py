"""Allocation strategies in the event-driven engine, with the vectorised engine's orders."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from quantdesk.backtest.event_context import EventContext
from quantdesk.backtest.nb import TIE_TOLERANCE, stop_exits_nb
from quantdesk.backtest.stops import ORDER_REASONS, REBALANCE_CODE, OrderReason, StopLossRule
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy, StrategyContext


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
    _NOISE = 1e-12  # the vectorised engine's float-noise cut-off, a fraction of equity

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

    def on_bar(self, context: StrategyContext) -> None:
        ctx = _require_event_context(context)
        i = ctx.index
        rebalance = bool(self._decide[i])
        if rebalance:
            self._target = np.nan_to_num(self._targets[i], nan=0.0)
            self._blocked[:] = False
        stopped = self._check_stops(ctx)
        if rebalance or self._drifted(ctx):
            self.rebalance_rows.append(i)
            self._send_orders(ctx, ctx._px[i])
        elif stopped:
            # exits only: the other holdings are left as they are
            for j in np.flatnonzero(self._exits != REBALANCE_CODE):
                reason = ORDER_REASONS[self._exits[j]]
                ctx.sell(ctx.symbols[j], ctx._positions[j], tag=reason.value)

    def _check_stops(self, ctx: EventContext) -> bool:
        if self._distances is None or self.stop_loss is None:
            return False
        fired = stop_exits_nb(
            np.asarray(ctx._positions, dtype=np.float64),
            ctx._px[ctx.index],
            ctx._entry,
            self._high,
            float(self._distances[ctx.index]),
            self.stop_loss.take_profit_fraction,
            self.stop_loss.trailing,
            self._exits,
        )
        self._blocked |= self._exits != REBALANCE_CODE
        return bool(fired)

    def _drifted(self, ctx: EventContext) -> bool:
        if self.drift_threshold is None or self._target is None or not ctx.equity > 0:
            return False
        held = np.asarray(ctx._positions) * np.nan_to_num(ctx._px[ctx.index])
        drifted = np.abs(held / ctx.equity - self._target) > self.drift_threshold
        # a stopped symbol is held at zero until the next rebalance: that is not a drift
        return bool((drifted & ~self._blocked).any())

    def _send_orders(self, ctx: EventContext, marks: np.ndarray) -> None:
        assert self._target is not None
        target = np.where(self._blocked, 0.0, self._target)
        equity = ctx.equity
        costs = ctx._costs
        sells: list[tuple[str, float, str]] = []
        buys: list[tuple[float, int, str, float]] = []
        for j, symbol in enumerate(ctx.symbols):
            price = float(marks[j])
            if not price > 0.0:
                continue
            shares = float(target[j]) * equity / price
            if not ctx.fractional:
                shares = float(np.trunc(shares))
            delta = shares - ctx._positions[j]
            notional = abs(delta) * price
            if notional <= self._NOISE * abs(equity):
                continue
            if shares != 0.0 and costs.is_below_threshold(notional, equity):
                continue
            if delta < 0:
                sells.append((symbol, -delta, ORDER_REASONS[self._exits[j]].value))
            else:
                # the vectorised kernel's rule: notionals within TIE_TOLERANCE of equity tie,
                # and ties go in symbol (column) order
                tick = TIE_TOLERANCE * (abs(equity) + 1.0)
                buys.append((float(np.round(delta * price / tick)), j, symbol, delta))
        for symbol, quantity, reason in sells:
            ctx.sell(symbol, quantity, tag=reason)
        for _, _, symbol, quantity in sorted(buys):
            ctx.buy(symbol, quantity, tag=OrderReason.REBALANCE.value)


def _require_event_context(context: StrategyContext) -> EventContext:
    if not isinstance(context, EventContext):
        raise TypeError(
            f"AllocationAdapter runs in the event engine only, got {type(context).__name__}"
        )
    return context


__all__ = ["AllocationAdapter"]
