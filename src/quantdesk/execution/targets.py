"""The one rule that turns target weights into trades (backtest engines and live trade lists).

1. **Sizes**: each symbol's target is ``w × equity / price`` shares (truncated toward zero in
   whole-share mode); the trade is the difference to what is held. Trades worth at most
   ``1e-12 × equity`` (float noise) are dropped, and so are trades under the minimum trade value
   (currency) or weight (fraction of equity) — except a full close, never skipped, so no dust
   remains. Symbols without a positive price are not traded.
2. **Order**: sells first, in symbol (column) order; then buys in ascending notional, where
   notionals within ``TIE_TOLERANCE × (|equity| + 1)`` tie and ties go in symbol order.
3. **Cash**: executed in that order, the buy the cash cannot pay (commission and slippage
   included) is trimmed to what the cash affords (floored to whole shares in whole-share mode);
   later buys get nothing.

The vectorised engine's numba kernel (``backtest/nb.py``) implements the same rule on arrays; a
test proves both give the same trades. Floats here: the engines keep float64 arithmetic, and the
operation order below is the kernel's, so results are bit-identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from quantdesk.core.enums import Side
from quantdesk.execution.costs import BASIS_POINT, CostModel

NOISE = 1e-12
"""Trades worth at most this fraction of equity are float noise, never sent."""

TIE_TOLERANCE = 1e-9
"""Buy notionals closer than this fraction of equity are ties (broken by symbol order)."""


@dataclass(frozen=True, slots=True)
class PlannedTrade:
    """One trade of a plan: column ``index`` of the inputs, shares > 0 at the decision price."""

    index: int
    side: Side
    quantity: float
    price: float


def order_deltas(
    targets: Sequence[float],
    positions: Sequence[float],
    prices: Sequence[float],
    equity: float,
    *,
    fractional: bool,
    min_trade_value: float = 0.0,
    min_trade_weight: float = 0.0,
) -> list[float]:
    """Signed share deltas moving ``positions`` to ``targets`` (fractions of ``equity``)."""
    deltas = [0.0] * len(targets)
    for j, raw in enumerate(prices):
        price = float(raw)
        if not price > 0.0:  # no price yet (NaN) or a bad one: cannot trade this name
            continue
        shares = float(targets[j]) * equity / price
        if not fractional:
            shares = float(int(shares))  # truncation toward zero, as np.trunc
        delta = shares - float(positions[j])
        notional = abs(delta) * price
        if notional <= NOISE * abs(equity):
            continue
        if shares != 0.0 and (notional < min_trade_value or notional < min_trade_weight * equity):
            continue
        deltas[j] = delta
    return deltas


def trade_sequence(deltas: Sequence[float], prices: Sequence[float], equity: float) -> list[int]:
    """Indices of the non-zero ``deltas`` in sending order: sells by index, then buys by
    ascending notional at ``prices`` (ties by index)."""
    sells = [j for j, q in enumerate(deltas) if q < 0.0]
    tick = TIE_TOLERANCE * (abs(equity) + 1.0)
    # round half to even, as np.round in the kernel
    buys = sorted((round(q * float(prices[j]) / tick), j) for j, q in enumerate(deltas) if q > 0.0)
    return sells + [j for _, j in buys]


def fill_in_sequence(
    deltas: Sequence[float],
    prices: Sequence[float],
    cash: float,
    costs: CostModel,
    *,
    fractional: bool,
    sequence: Sequence[int],
) -> list[PlannedTrade]:
    """Step 3 of the rule: execute ``deltas`` in ``sequence`` against ``cash``.

    Sells fill in full (unless the flat fee would exceed proceeds and cash); each buy is trimmed
    to what the cash left affords at its fill price (``prices`` ± slippage, commission
    included), floored to whole shares unless ``fractional``. A fractional trim spends exactly
    the cash left. Trades that fill nothing are left out.
    """
    planned: list[PlannedTrade] = []
    slip = costs.slippage_bps * BASIS_POINT
    for j in sequence:
        q, base = float(deltas[j]), float(prices[j])
        if q < 0.0:
            price = base * (1.0 - slip)
            fee = costs.commission(-q, price)
            if cash + (-q * price - fee) < 0.0:
                continue  # the flat fee would exceed both the proceeds and the cash
            cash += -q * price - fee
            planned.append(PlannedTrade(j, Side.SELL, -q, base))
            continue
        price = base * (1.0 + slip)
        fee = costs.commission(q, price)
        filled, trimmed = q, False
        if q * price + fee > cash:
            filled = costs.affordable_shares(cash, price)
            if not fractional:
                filled = float(int(filled))
            trimmed = fractional
        if not filled > 0.0:
            continue
        if trimmed:
            cash = 0.0  # the trimmed buy spends exactly the cash left
        else:
            cash -= filled * price + costs.commission(filled, price)
            cash = max(cash, 0.0)  # rounding of an exactly affordable whole-share buy
        planned.append(PlannedTrade(j, Side.BUY, filled, base))
    return planned


def plan_trades(
    targets: Sequence[float],
    positions: Sequence[float],
    prices: Sequence[float],
    cash: float,
    costs: CostModel,
    *,
    fractional: bool,
    equity: float | None = None,
) -> list[PlannedTrade]:
    """The whole rule (sizes, order, cash) with fills at ``prices`` ± the cost model's slippage.

    ``equity`` defaults to ``cash`` plus the positions at ``prices``. Trades come in sending
    order; a buy trimmed to nothing is left out. Quantities are shares, prices per share.
    """
    if equity is None:
        equity = cash + sum(
            float(q) * float(p) for q, p in zip(positions, prices, strict=True) if q != 0.0
        )
    deltas = order_deltas(
        targets,
        positions,
        prices,
        equity,
        fractional=fractional,
        min_trade_value=costs.min_trade_value,
        min_trade_weight=costs.min_trade_weight,
    )
    sequence = trade_sequence(deltas, prices, equity)
    return fill_in_sequence(deltas, prices, cash, costs, fractional=fractional, sequence=sequence)


__all__ = [
    "NOISE",
    "TIE_TOLERANCE",
    "PlannedTrade",
    "fill_in_sequence",
    "order_deltas",
    "plan_trades",
    "trade_sequence",
]
