"""The one cost model the backtest engines (vectorised and event-driven) and the paper broker share.

Amounts are plain floats in the account currency: the engines do their arithmetic on float64
arrays, and the ledger (which keeps ``Decimal``) converts at its boundary.  Rates are in basis
points (1 bp = 0.0001 of notional); thresholds are currency amounts or fractions of equity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from quantdesk.core.enums import Side

BASIS_POINT = 1e-4
_BP = Decimal("0.0001")


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


class FillTiming(StrEnum):
    """When an order decided at bar ``t`` fills.

    ``CLOSE``: at the close of ``t`` (the decision bar).  ``NEXT_OPEN``: at the open of ``t + 1``;
    orders decided on the final bar never fill.
    """

    CLOSE = "close"
    NEXT_OPEN = "next_open"


@dataclass(frozen=True, slots=True)
class CostModel:
    """Commission, slippage and trade-size thresholds.

    Attributes:
        commission_per_order: flat fee per order that trades, in currency (default 1.0, like the
            paper broker).
        commission_per_share: fee per share traded, in currency.
        commission_bps: fee in basis points of traded notional (at the fill price).
        slippage_bps: adverse price move in basis points: buys pay ``price × (1 + s)``, sells get
            ``price × (1 − s)`` with ``s = slippage_bps / 10_000``.
        min_trade_value: trades whose notional is below this currency amount are skipped.
        min_trade_weight: trades below this fraction of pre-trade equity are skipped.
        fill_timing: fill at the decision bar's close or at the next bar's open.

    Closing a position entirely is never skipped by the thresholds, so no dust is left behind.
    """

    commission_per_order: float = 1.0
    commission_per_share: float = 0.0
    commission_bps: float = 0.0
    slippage_bps: float = 0.0
    min_trade_value: float = 0.0
    min_trade_weight: float = 0.0
    fill_timing: FillTiming = FillTiming.CLOSE

    def __post_init__(self) -> None:
        for name in (
            "commission_per_order",
            "commission_per_share",
            "commission_bps",
            "slippage_bps",
            "min_trade_value",
            "min_trade_weight",
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"CostModel.{name} must be a finite number >= 0, got {value!r}")
        # accept the plain string values too ("close", "next_open") and normalise them
        object.__setattr__(self, "fill_timing", FillTiming(self.fill_timing))

    @classmethod
    def free(cls) -> CostModel:
        """No commission, no slippage, no thresholds (handy for tests and parity checks)."""
        return cls(commission_per_order=0.0)

    def commission(self, shares: float, price: float) -> float:
        """Commission in currency for trading ``shares`` (sign ignored) at ``price``.

        Zero shares cost nothing (no order is sent).
        """
        quantity = abs(shares)
        if quantity == 0:
            return 0.0
        return (
            self.commission_per_order
            + self.commission_per_share * quantity
            + self.commission_bps * BASIS_POINT * quantity * price
        )

    def fill_price(self, side: Side | str, price: float) -> float:
        """The price a market order fills at after slippage (buys pay more, sells get less)."""
        slip = self.slippage_bps * BASIS_POINT
        if Side(side) is Side.BUY:
            return price * (1.0 + slip)
        return price * (1.0 - slip)

    def decimal_fill_price(self, side: Side, price: Decimal) -> Decimal:
        """:meth:`fill_price` in Decimal arithmetic (the paper broker and ledgers use it)."""
        slip = _decimal(self.slippage_bps) * _BP
        return price * (1 + slip) if Side(side) is Side.BUY else price * (1 - slip)

    def decimal_commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        """:meth:`commission` in Decimal arithmetic; zero shares cost nothing."""
        quantity = abs(quantity)
        if quantity == 0:
            return Decimal(0)
        return (
            _decimal(self.commission_per_order)
            + _decimal(self.commission_per_share) * quantity
            + _decimal(self.commission_bps) * _BP * quantity * price
        )

    def affordable_shares(self, cash: float, price: float) -> float:
        """The largest (fractional) share count whose fill plus commission costs at most ``cash``.

        ``price`` is the fill price (slippage already applied).  Returns 0 when even the flat fee
        is more than ``cash``.
        """
        per_share = price * (1.0 + self.commission_bps * BASIS_POINT) + self.commission_per_share
        budget = cash - self.commission_per_order
        if budget <= 0 or per_share <= 0:
            return 0.0
        return budget / per_share

    def is_below_threshold(self, notional: float, equity: float) -> bool:
        """True when a trade of ``notional`` (currency, sign ignored) is too small to send."""
        size = abs(notional)
        if size < self.min_trade_value:
            return True
        return equity > 0 and size < self.min_trade_weight * equity


__all__ = ["BASIS_POINT", "CostModel", "FillTiming", "Side"]
