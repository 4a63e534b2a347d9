"""Human-readable text of a rebalance trade list, in the style of the live-track-record signal
report: rank, side, shares, price, notional, weights, then the cash remaining.

Weights are shown in percent here (display only); everything upstream uses fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from quantdesk.portfolio.rebalance import RebalancePlan, Trade

_HEADER = (
    f"{'Rank':>4}  {'Symbol':<8} {'Side':<4} {'Shares':>12} {'Price':>11} {'Notional':>14}"
    f" {'Current':>8} {'Target':>8} {'Drift':>8}"
)


def format_trade_list(
    plan: RebalancePlan,
    *,
    ranking: Sequence[str] | None = None,
    title: str = "Rebalance trade list",
) -> str:
    """The plan as a plain-text table.

    ``ranking`` lists symbols best first (e.g. from :func:`~quantdesk.portfolio.select.rank_order`);
    a trade's rank is its 1-based position there, ``-`` when absent. Money is shown with two
    decimals and thousands separators; weights and drift in percent with one decimal.
    """
    position = {symbol: index + 1 for index, symbol in enumerate(ranking or ())}
    lines = [
        title,
        "=" * len(title),
        f"Portfolio value: {_money(plan.total_value)}    Cash before: {_money(plan.cash_before)}",
        "",
    ]
    if plan.trades:
        lines += [_HEADER, "-" * len(_HEADER)]
        lines += [_row(trade, position.get(trade.symbol)) for trade in plan.trades]
        bought = sum((trade.notional for trade in plan.buys), Decimal(0))
        sold = sum((trade.notional for trade in plan.sells), Decimal(0))
        lines += ["", f"Sells: {_money(sold)}    Buys: {_money(bought)}"]
    else:
        lines.append("No trades: the portfolio is on target.")
    if plan.skipped:
        below = ", ".join(
            f"{trade.symbol} ({trade.side.value} {_shares(trade.shares)}, drift {trade.drift:+.1%})"
            for trade in plan.skipped
        )
        lines.append(f"Skipped (below minimum trade): {below}")
    lines.append(f"Cash remaining: {_money(plan.cash_after)}")
    return "\n".join(lines) + "\n"


def _row(trade: Trade, rank: int | None) -> str:
    return (
        f"{rank if rank is not None else '-':>4}  {trade.symbol:<8} {trade.side.value.upper():<4}"
        f" {_shares(trade.shares):>12} {_money(trade.price):>11} {_money(trade.notional):>14}"
        f" {trade.current_weight:>8.1%} {trade.target_weight:>8.1%} {trade.drift:>+8.1%}"
    )


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _shares(shares: Decimal) -> str:
    if shares == shares.to_integral_value():
        return f"{int(shares):,}"
    return f"{shares.normalize():f}"
