"""Position sizing helpers: Kelly fraction and fixed-fractional (risk per trade) sizing.

Fractions are fractions of equity (0.25 = 25 %), never percent. Money amounts are
``decimal.Decimal``; floats are converted with ``Decimal(str(x))`` so 0.1 stays 0.1.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal

from quantdesk.portfolio._validation import check_fraction
from quantdesk.portfolio.errors import PortfolioInputError

Money = Decimal | float | int


def kelly_fraction(
    win_rate: float, win_loss_ratio: float, *, multiplier: float = 1.0, cap: float = 1.0
) -> float:
    """Kelly bet size ``f* = p − (1 − p) / b`` as a fraction of equity, long-only.

    ``win_rate`` p is the probability of a win (fraction in [0, 1]); ``win_loss_ratio`` b is the
    average win divided by the average loss (> 0). The result is ``multiplier × f*`` (fractional
    Kelly, multiplier in (0, 1], e.g. 0.5 for half Kelly), floored at 0 (a negative edge means
    no position) and limited to ``cap`` (fraction in (0, 1]).
    """
    check_fraction(win_rate, "win_rate", allow_zero=True)
    _check_positive(win_loss_ratio, "win_loss_ratio")
    full = win_rate - (1.0 - win_rate) / win_loss_ratio
    return _scale_and_cap(full, multiplier, cap)


def continuous_kelly_fraction(
    expected_return: float,
    variance: float,
    *,
    risk_free_rate: float = 0.0,
    multiplier: float = 1.0,
    cap: float = 1.0,
) -> float:
    """Continuous-time Kelly fraction ``f* = (μ − r) / σ²`` of equity, long-only.

    ``expected_return`` μ, ``risk_free_rate`` r and ``variance`` σ² must be for the same period
    (e.g. all annualised: μ = 0.08, r = 0.02, σ² = 0.2² = 0.04 gives f* = 1.5 before the cap).
    Multiplier and cap as in :func:`kelly_fraction`.
    """
    _check_finite(expected_return, "expected_return")
    _check_finite(risk_free_rate, "risk_free_rate")
    _check_positive(variance, "variance")
    return _scale_and_cap((expected_return - risk_free_rate) / variance, multiplier, cap)


def fixed_fraction_shares(
    equity: Money,
    risk_fraction: float,
    entry: Money,
    stop: Money,
    *,
    whole_shares: bool = True,
    share_decimals: int = 6,
    max_position_fraction: float = 1.0,
) -> Decimal:
    """Shares to buy so that hitting the stop loses ``risk_fraction`` of equity.

    ``shares = equity × risk_fraction / |entry − stop|``, rounded down (whole shares, or
    ``share_decimals`` places when fractional), then limited so that the position's notional
    ``shares × entry`` is at most ``max_position_fraction × equity`` — a tight stop must not
    produce a position larger than the account. ``risk_fraction`` is a fraction (0.01 = 1 %
    of equity at risk). A stop above the entry sizes a short the same way.
    """
    equity_amount = to_decimal(equity, "equity")
    entry_price = to_decimal(entry, "entry")
    stop_price = to_decimal(stop, "stop")
    if equity_amount < 0:
        raise PortfolioInputError(f"equity must be ≥ 0, got {equity_amount}")
    if entry_price <= 0:
        raise PortfolioInputError(f"entry price must be > 0, got {entry_price}")
    if stop_price < 0:
        raise PortfolioInputError(f"stop price must be ≥ 0, got {stop_price}")
    if stop_price == entry_price:
        raise PortfolioInputError(f"stop equals entry ({entry_price}); risk per share is zero")
    check_fraction(risk_fraction, "risk_fraction")
    check_fraction(max_position_fraction, "max_position_fraction")
    if share_decimals < 0:
        raise PortfolioInputError(f"share_decimals must be ≥ 0, got {share_decimals}")
    at_risk = equity_amount * Decimal(str(risk_fraction))
    by_risk = at_risk / abs(entry_price - stop_price)
    by_notional = equity_amount * Decimal(str(max_position_fraction)) / entry_price
    quantum = Decimal(1) if whole_shares else Decimal(1).scaleb(-share_decimals)
    return min(by_risk, by_notional).quantize(quantum, rounding=ROUND_DOWN)


def to_decimal(value: Money, name: str) -> Decimal:
    """A money amount or price as ``Decimal`` (floats via ``str``), finite or an error."""
    if isinstance(value, bool) or not isinstance(value, Decimal | float | int):
        raise PortfolioInputError(f"{name} must be a number, got {value!r}")
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite():
        raise PortfolioInputError(f"{name} must be finite, got {value!r}")
    return amount


def _scale_and_cap(full: float, multiplier: float, cap: float) -> float:
    check_fraction(multiplier, "multiplier")
    check_fraction(cap, "cap")
    return min(cap, max(0.0, multiplier * full))


def _check_finite(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PortfolioInputError(f"{name} must be a finite number, got {value!r}")


def _check_positive(value: float, name: str) -> None:
    _check_finite(value, name)
    if value <= 0:
        raise PortfolioInputError(f"{name} must be > 0, got {value!r}")
