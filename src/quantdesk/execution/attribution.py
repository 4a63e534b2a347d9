"""Attribution of a netted broker fill back to the strategies that wanted it.

A netted broker order carries an :class:`Allocation`: the shares each strategy wanted from it.
Every fill of that order is split pro rata to those wants (shares rounded down to
:data:`SHARE_QUANTUM`, commission to :data:`CASH_QUANTUM`; the last strategy with a positive
want takes the remainder), so the parts always sum exactly to the fill. The split depends only on
the allocation and the fill, so replaying stored fills after a restart books the same parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from quantdesk.execution.events import ZERO, Fill

SHARE_QUANTUM = Decimal("1e-9")
"""Attributed share quantities are multiples of this (the remainder goes to the last strategy)."""
CASH_QUANTUM = Decimal("1e-10")
"""Attributed commissions are multiples of this (the remainder goes to the last strategy)."""


@dataclass(frozen=True, slots=True)
class Allocation:
    """Who wanted what from one broker order: ``(strategy, shares)`` pairs, shares > 0."""

    client_order_id: str
    wants: tuple[tuple[str, Decimal], ...]

    @property
    def total(self) -> Decimal:
        return sum((q for _, q in self.wants), ZERO)


def split_fill(fill: Fill, allocation: Allocation) -> list[Fill]:
    """``fill`` as one part per strategy with a positive share (execution id
    ``f"{fill_id}/{strategy}"``); shares and commission sum exactly to the fill's."""
    quantities = pro_rata(fill.quantity, allocation.wants, SHARE_QUANTUM)
    weights = [(s, q) for (s, _), q in zip(allocation.wants, quantities, strict=True)]
    commissions = pro_rata(fill.commission, weights, CASH_QUANTUM)
    parts = []
    for (strategy, quantity), commission in zip(weights, commissions, strict=True):
        if quantity == ZERO:
            continue
        parts.append(
            Fill(
                fill_id=f"{fill.fill_id}/{strategy}",
                client_order_id=fill.client_order_id,
                symbol=fill.symbol,
                side=fill.side,
                quantity=quantity,
                price=fill.price,
                commission=commission,
                filled_at=fill.filled_at,
                account=fill.account,
                strategy=strategy,
            )
        )
    return parts


def pro_rata(
    amount: Decimal, weights: Sequence[tuple[str, Decimal]], quantum: Decimal
) -> list[Decimal]:
    """``amount`` split in proportion to the weights, each rounded down to ``quantum``; the last
    positive weight takes the remainder, so the parts sum to ``amount`` exactly."""
    total = sum((w for _, w in weights), ZERO)
    parts = [ZERO] * len(weights)
    if total == ZERO:
        return parts
    last = max(k for k, (_, w) in enumerate(weights) if w > ZERO)
    given = ZERO
    for k, (_, weight) in enumerate(weights):
        if k == last:
            parts[k] = amount - given
            break
        share = (amount * weight / total).quantize(quantum, rounding=ROUND_DOWN)
        parts[k] = share
        given += share
    return parts


__all__ = ["CASH_QUANTUM", "SHARE_QUANTUM", "Allocation", "pro_rata", "split_fill"]
