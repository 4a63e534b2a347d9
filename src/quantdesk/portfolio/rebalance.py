"""Drift and rebalance trade lists: from current holdings and target weights to orders.

Money (cash, prices, notionals) is ``decimal.Decimal``; floats given for prices or cash are
converted with ``Decimal(str(x))``. Weights and drift are float fractions of total portfolio
value (0.05 = 5 %), where total value = cash + every position marked at its latest price.
Long-only: positions, cash and prices must not be negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

import pandas as pd

from quantdesk.core.enums import Side
from quantdesk.execution.costs import CostModel
from quantdesk.execution.targets import fill_in_sequence, trade_sequence
from quantdesk.portfolio._validation import check_fraction, check_weights
from quantdesk.portfolio.errors import MissingPriceError, PortfolioInputError
from quantdesk.portfolio.sizing import Money, to_decimal

# A weight × value / price that lands within this many shares below a whole share rounds up, so
# float noise in a target weight does not produce a one-share trade.
_SHARE_TOLERANCE = Decimal("1e-9")


TradeSide = Side
"""The one :class:`~quantdesk.core.enums.Side` (kept under this name for existing imports)."""


@dataclass(frozen=True, slots=True)
class Trade:
    """One line of a trade list. ``shares`` > 0; ``notional = shares × price``.

    Weights are fractions of total portfolio value before the trades; ``drift`` is
    ``current_weight − target_weight`` (positive: overweight, so a sell).
    """

    symbol: str
    side: TradeSide
    shares: Decimal
    price: Decimal
    notional: Decimal
    current_weight: float
    target_weight: float
    drift: float


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    """Trades to reach the targets: ``trades`` lists sells before buys.

    ``skipped`` are trades below the minimum trade threshold (not to be executed).
    ``cash_after`` is the cash left when every trade fills at its price (never negative).
    """

    trades: tuple[Trade, ...]
    skipped: tuple[Trade, ...]
    total_value: Decimal
    cash_before: Decimal
    cash_after: Decimal
    positions_after: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def sells(self) -> tuple[Trade, ...]:
        return tuple(trade for trade in self.trades if trade.side is TradeSide.SELL)

    @property
    def buys(self) -> tuple[Trade, ...]:
        return tuple(trade for trade in self.trades if trade.side is TradeSide.BUY)

    @property
    def turnover(self) -> float:
        """Traded notional (buys + sells) as a fraction of total value."""
        if self.total_value == 0:
            return 0.0
        return float(sum(trade.notional for trade in self.trades) / self.total_value)


def portfolio_value(
    positions: Mapping[str, Money], prices: Mapping[str, Money], cash: Money
) -> Decimal:
    """Cash plus every position (shares) marked at its price; a held symbol needs a price."""
    holdings = _holdings(positions)
    marks = _prices(prices, holdings)
    return _cash(cash) + sum(
        (shares * marks[symbol] for symbol, shares in holdings.items()), Decimal(0)
    )


def current_weights(
    positions: Mapping[str, Money], prices: Mapping[str, Money], cash: Money
) -> pd.Series:
    """Each held symbol's value as a fraction of total portfolio value (cash included)."""
    holdings = _holdings(positions)
    marks = _prices(prices, holdings)
    total = _cash(cash) + sum(
        (shares * marks[symbol] for symbol, shares in holdings.items()), Decimal(0)
    )
    symbols = sorted(holdings)
    if total == 0:
        return pd.Series(0.0, index=symbols, dtype="float64")
    return pd.Series(
        [float(holdings[s] * marks[s] / total) for s in symbols], index=symbols, dtype="float64"
    )


def drift(
    current: pd.Series | Mapping[str, float], target: pd.Series | Mapping[str, float]
) -> pd.Series:
    """``current − target`` weight per symbol over both sets of symbols (missing = 0), sorted."""
    now = check_weights(current, "current weights")
    goal = check_weights(target, "target weights")
    symbols = sorted(set(now.index) | set(goal.index), key=str)
    return now.reindex(symbols, fill_value=0.0) - goal.reindex(symbols, fill_value=0.0)


def needs_rebalance(drift: pd.Series | Mapping[str, float], threshold: float) -> bool:
    """Whether any symbol's absolute drift exceeds ``threshold`` (a fraction, 0.05 = 5 %)."""
    check_fraction(threshold, "threshold", allow_zero=True)
    values = pd.Series(drift, dtype="float64") if not isinstance(drift, pd.Series) else drift
    if values.isna().any():
        raise PortfolioInputError(f"drift is NaN for {list(values.index[values.isna()])}")
    return bool(len(values)) and float(values.abs().max()) > threshold


def rebalance_trades(
    positions: Mapping[str, Money],
    cash: Money,
    prices: Mapping[str, Money],
    target_weights: pd.Series | Mapping[str, float],
    *,
    min_trade_weight: float = 0.0,
    min_trade_notional: Money = 0,
    whole_shares: bool = True,
    share_decimals: int = 6,
    always_exit: bool = True,
) -> RebalancePlan:
    """The trade list that moves ``positions`` (symbol → shares) to ``target_weights``.

    Target shares are ``target_weight × total value / price`` rounded down (whole shares, or
    ``share_decimals`` places). A trade is skipped when its drift is below ``min_trade_weight``
    (fraction) or its notional below ``min_trade_notional`` (money), except that with
    ``always_exit`` a name whose target is zero is always sold in full. The trades are then
    ordered and fitted to the cash by the backtest's rule (:mod:`quantdesk.execution.targets`):
    sells first (symbol order), buys in ascending notional, and a buy the cash left cannot pay
    (because a sell was skipped) is trimmed to what it affords, rounded down — so the list a
    trader executes is the one the backtest traded, and cash after the trades is never
    negative. Costs are not modelled here.
    """
    check_fraction(min_trade_weight, "min_trade_weight", allow_zero=True)
    minimum_notional = to_decimal(min_trade_notional, "min_trade_notional")
    if share_decimals < 0:
        raise PortfolioInputError(f"share_decimals must be ≥ 0, got {share_decimals}")
    quantum = Decimal(1) if whole_shares else Decimal(1).scaleb(-share_decimals)
    holdings = _holdings(positions)
    targets = check_weights(target_weights, "target weights")
    wanted = {str(symbol): float(weight) for symbol, weight in targets.items() if weight > 0}
    marks = _prices(prices, {**holdings, **dict.fromkeys(wanted, Decimal(0))})
    cash_before = _cash(cash)
    total = cash_before + sum(
        (shares * marks[symbol] for symbol, shares in holdings.items()), Decimal(0)
    )
    trades: list[Trade] = []
    skipped: list[Trade] = []
    for symbol in sorted(set(holdings) | set(wanted)):
        held = holdings.get(symbol, Decimal(0))
        price = marks[symbol]
        target_weight = wanted.get(symbol, 0.0)
        current_weight = float(held * price / total) if total else 0.0
        goal = Decimal(str(target_weight)) * total / price + _SHARE_TOLERANCE
        delta = goal.quantize(quantum, rounding=ROUND_DOWN) - held
        if delta == 0:
            continue
        trade = Trade(
            symbol=symbol,
            side=TradeSide.BUY if delta > 0 else TradeSide.SELL,
            shares=abs(delta),
            price=price,
            notional=abs(delta) * price,
            current_weight=current_weight,
            target_weight=target_weight,
            drift=current_weight - target_weight,
        )
        is_exit = always_exit and target_weight == 0
        small = abs(trade.drift) < min_trade_weight or trade.notional < minimum_notional
        (skipped if small and not is_exit else trades).append(trade)
    ordered = _fit_to_cash(trades, cash_before, total, quantum, fractional=not whole_shares)
    buys = [trade for trade in ordered if trade.side is TradeSide.BUY]
    sold = sum((t.notional for t in ordered if t.side is TradeSide.SELL), Decimal(0))
    available = cash_before + sold
    return RebalancePlan(
        trades=tuple(ordered),
        skipped=tuple(skipped),
        total_value=total,
        cash_before=cash_before,
        cash_after=available - sum((trade.notional for trade in buys), Decimal(0)),
        positions_after=_positions_after(holdings, tuple(ordered)),
    )


def _fit_to_cash(
    trades: list[Trade], cash: Decimal, total: Decimal, quantum: Decimal, *, fractional: bool
) -> list[Trade]:
    """``trades`` in the shared rule's order, each buy trimmed to the cash left (rounded down
    to ``quantum``); buys trimmed to nothing are dropped."""
    signed = [float(t.shares if t.side is TradeSide.BUY else -t.shares) for t in trades]
    prices = [float(t.price) for t in trades]
    sequence = trade_sequence(signed, prices, float(total))
    planned = fill_in_sequence(
        signed, prices, float(cash), CostModel.free(), fractional=fractional, sequence=sequence
    )
    fitted: list[Trade] = []
    available = cash
    for plan in planned:
        trade = trades[plan.index]
        shares = trade.shares
        if trade.side is TradeSide.BUY:
            if plan.quantity != float(shares) or shares * trade.price > available:
                # trimmed: recount in Decimal so rounding can never overdraw the cash
                affordable = (available / trade.price).quantize(quantum, rounding=ROUND_DOWN)
                shares = min(shares, affordable)
            if shares <= 0:
                continue
            available -= shares * trade.price
        else:
            available += shares * trade.price
        fitted.append(
            trade
            if shares == trade.shares
            else Trade(
                symbol=trade.symbol,
                side=trade.side,
                shares=shares,
                price=trade.price,
                notional=shares * trade.price,
                current_weight=trade.current_weight,
                target_weight=trade.target_weight,
                drift=trade.drift,
            )
        )
    return fitted


def _positions_after(
    holdings: Mapping[str, Decimal], trades: tuple[Trade, ...]
) -> dict[str, Decimal]:
    after = dict(holdings)
    for trade in trades:
        signed = trade.shares if trade.side is TradeSide.BUY else -trade.shares
        after[trade.symbol] = after.get(trade.symbol, Decimal(0)) + signed
    return {symbol: shares for symbol, shares in sorted(after.items()) if shares != 0}


def _holdings(positions: Mapping[str, Money]) -> dict[str, Decimal]:
    holdings: dict[str, Decimal] = {}
    for symbol, shares in positions.items():
        amount = to_decimal(shares, f"shares of {symbol!r}")
        if amount < 0:
            raise PortfolioInputError(
                f"shares of {symbol!r} are {amount}; short positions are not supported"
            )
        if amount > 0:
            holdings[str(symbol)] = amount
    return holdings


def _prices(prices: Mapping[str, Money], needed: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Prices of the ``needed`` symbols, each present, finite and > 0."""
    marks: dict[str, Decimal] = {}
    for symbol in sorted(needed):
        if symbol not in prices:
            raise MissingPriceError(symbol, "is held or targeted but has no price")
        price = to_decimal(prices[symbol], f"price of {symbol!r}")
        if price <= 0:
            raise PortfolioInputError(f"price of {symbol!r} is {price}; prices must be > 0")
        marks[symbol] = price
    return marks


def _cash(cash: Money) -> Decimal:
    amount = to_decimal(cash, "cash")
    if amount < 0:
        raise PortfolioInputError(f"cash is {amount}; a long-only rebalance needs cash ≥ 0")
    return amount
