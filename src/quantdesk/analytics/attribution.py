"""Performance attribution: by position, by sector and by factor.

**By position** (holdings based, exact in currency). Over a period, a position's P&L is

    pnl_i = V_i(end) − V_i(start) − bought_i + sold_i

(market values at the period's first and last marks; ``bought``/``sold`` the notional of its
fills in the period at fill prices, so slippage is inside the position's P&L). Its
contribution is ``pnl_i / E(start)``, the period-start equity. Held through a period without
trades this is the familiar weight × return, linked over days:
``Σ_t w_i(t−1) · r_i(t) · E(t−1) / E(start)``. The contributions add up to the period return
up to a **residual** = period return − Σ contributions, which is

- − commissions / E(start) (commissions are paid from cash, not by a position),
- plus, for portfolios with deposits or withdrawals, the gap between the time-weighted return
  and P&L / E(start) (the flows change the base mid-period),
- plus rounding. Without costs and flows the residual is 0 to float precision.

**By sector**: the position contributions summed by each symbol's sector.

**By factor** (returns based): an ordinary least-squares regression of the portfolio's daily
returns on daily factor returns (long-short: equal-weight top minus bottom fraction by score,
rebalanced monthly on scores known the day before). Returns-based rather than holdings-based
because it needs no score history for the subject (portfolios, sub-ledgers and comparisons
work alike) and any factor whose returns can be built from prices can be used. With an
intercept the fitted residuals sum to zero, so the **sum** of daily returns over the period
splits exactly into alpha (intercept × days) + Σ_k beta_k × Σ_t f_k(t); the compounded
period return differs from that sum by the compounding term, reported apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class TradeFlow:
    """One fill: ``quantity`` > 0 bought, < 0 sold, at ``price`` (currency per share)."""

    symbol: str
    quantity: float
    price: float


@dataclass(frozen=True, slots=True)
class PositionContribution:
    """One symbol's P&L (currency) and contribution (fraction of period-start equity)."""

    symbol: str
    start_value: float
    end_value: float
    bought: float
    sold: float
    pnl: float
    contribution: float
    end_weight: float


@dataclass(frozen=True, slots=True)
class PositionAttribution:
    positions: tuple[PositionContribution, ...]
    start_equity: float
    period_return: float
    total_contribution: float
    residual: float
    costs: float = 0.0

    @property
    def unexplained(self) -> float:
        """The residual once the period's commissions are added back (fraction)."""
        return self.residual + self.costs / self.start_equity


@dataclass(frozen=True, slots=True)
class SectorContribution:
    sector: str
    positions: int
    pnl: float
    contribution: float


@dataclass(frozen=True, slots=True)
class FactorExposure:
    """A factor's beta, its return summed over the period and beta × that sum (fractions)."""

    factor: str
    beta: float
    factor_return: float
    contribution: float


@dataclass(frozen=True, slots=True)
class FactorAttribution:
    """``summed_return`` = alpha_contribution + Σ contributions (exact for OLS); the
    compounding term is the compounded period return minus ``summed_return``."""

    exposures: tuple[FactorExposure, ...]
    alpha_contribution: float
    alpha_annualised: float
    r_squared: float
    observations: int
    summed_return: float
    compounded_return: float

    @property
    def compounding(self) -> float:
        return self.compounded_return - self.summed_return


def position_attribution(
    start_quantities: Mapping[str, float],
    end_quantities: Mapping[str, float],
    start_prices: Mapping[str, float],
    end_prices: Mapping[str, float],
    flows: Iterable[TradeFlow],
    start_equity: float,
    end_equity: float,
    period_return: float | None = None,
    costs: float = 0.0,
) -> PositionAttribution:
    """Contribution of every symbol held or traded in the period (see the module docstring).

    ``period_return`` defaults to ``end_equity / start_equity − 1``; pass the time-weighted
    return when cash flows happened. ``costs``: commissions paid in the period (currency),
    reported so the residual can be explained. A symbol held at a boundary needs a price there.
    """
    if not start_equity > 0:
        raise ValueError(f"start equity must be positive, got {start_equity}")
    bought: dict[str, float] = {}
    sold: dict[str, float] = {}
    for flow in flows:
        notional = abs(flow.quantity) * flow.price
        target = bought if flow.quantity > 0 else sold
        target[flow.symbol] = target.get(flow.symbol, 0.0) + notional
    symbols = sorted(
        {s for s, q in start_quantities.items() if q}
        | {s for s, q in end_quantities.items() if q}
        | set(bought)
        | set(sold)
    )
    rows = []
    for symbol in symbols:
        start_value = _value(symbol, start_quantities, start_prices, "start")
        end_value = _value(symbol, end_quantities, end_prices, "end")
        pnl = end_value - start_value - bought.get(symbol, 0.0) + sold.get(symbol, 0.0)
        rows.append(
            PositionContribution(
                symbol=symbol,
                start_value=start_value,
                end_value=end_value,
                bought=bought.get(symbol, 0.0),
                sold=sold.get(symbol, 0.0),
                pnl=pnl,
                contribution=pnl / start_equity,
                end_weight=end_value / end_equity if end_equity else math.nan,
            )
        )
    rows.sort(key=lambda r: -r.contribution)
    total = math.fsum(r.contribution for r in rows)
    realised = end_equity / start_equity - 1.0 if period_return is None else period_return
    return PositionAttribution(
        positions=tuple(rows),
        start_equity=start_equity,
        period_return=realised,
        total_contribution=total,
        residual=realised - total,
        costs=costs,
    )


def _value(
    symbol: str, quantities: Mapping[str, float], prices: Mapping[str, float], where: str
) -> float:
    quantity = float(quantities.get(symbol, 0.0))
    if not quantity:
        return 0.0
    price = prices.get(symbol)
    if price is None or not math.isfinite(price):
        raise ValueError(f"no {where} price for held symbol {symbol!r}")
    return quantity * float(price)


def sector_attribution(
    attribution: PositionAttribution, sectors: Mapping[str, str | None]
) -> tuple[SectorContribution, ...]:
    """Position contributions summed by sector (``"(unknown)"`` without one), largest first."""
    totals: dict[str, list[float]] = {}
    for row in attribution.positions:
        sector = sectors.get(row.symbol) or "(unknown)"
        entry = totals.setdefault(sector, [0.0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += row.pnl
        entry[2] += row.contribution
    out = [
        SectorContribution(sector, int(count), pnl, contribution)
        for sector, (count, pnl, contribution) in totals.items()
    ]
    return tuple(sorted(out, key=lambda s: -s.contribution))


def long_short_returns(
    returns: pd.DataFrame, scores: pd.DataFrame, fraction: float = 0.3
) -> pd.Series:
    """Daily returns of an equal-weight long top-``fraction`` / short bottom-``fraction``
    portfolio by ``scores`` (dates × symbols; a score at date d is used from the day after d
    until the next score date). ``returns`` are daily simple returns (dates × symbols)."""
    if not 0.0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    held = scores.reindex(columns=returns.columns)
    # a score is known at its date's close: positions built on it earn from the next day
    held = held.reindex(returns.index.union(held.index)).ffill().shift(1).reindex(returns.index)
    ranks = held.rank(axis=1, pct=True)
    # strict above the cut, so 4 symbols at fraction 0.25 hold one each side (1e-12: float ranks)
    long = (ranks > 1.0 - fraction + 1e-12).astype(float)
    short = (ranks <= fraction + 1e-12).astype(float)
    values = returns.fillna(0.0)
    long_count = long.sum(axis=1).replace(0.0, np.nan)
    short_count = short.sum(axis=1).replace(0.0, np.nan)
    spread = (values * long).sum(axis=1) / long_count - (values * short).sum(axis=1) / short_count
    return spread.fillna(0.0).rename("long_short")


def factor_attribution(
    returns: pd.Series, factors: pd.DataFrame, periods: int = 252
) -> FactorAttribution:
    """Regress daily ``returns`` on daily factor returns (columns of ``factors``) with an
    intercept, paired on common dates; see the module docstring for the split."""
    paired = pd.concat([returns.rename("__portfolio__"), factors], axis=1, join="inner").dropna()
    if len(paired) < len(factors.columns) + 2:
        raise ValueError(
            f"factor attribution needs at least {len(factors.columns) + 2} days with every "
            f"factor's return, got {len(paired)}"
        )
    target = paired["__portfolio__"].to_numpy(dtype=np.float64)
    design = paired.drop(columns="__portfolio__").to_numpy(dtype=np.float64)
    matrix = np.column_stack([np.ones(len(paired)), design])
    coefficients, *_ = np.linalg.lstsq(matrix, target, rcond=None)
    fitted = matrix @ coefficients
    total_ss = float(np.square(target - target.mean()).sum())
    r_squared = 1.0 - float(np.square(target - fitted).sum()) / total_ss if total_ss else math.nan
    exposures = tuple(
        FactorExposure(
            factor=str(name),
            beta=float(beta),
            factor_return=float(design[:, k].sum()),
            contribution=float(beta * design[:, k].sum()),
        )
        for k, (name, beta) in enumerate(zip(paired.columns[1:], coefficients[1:], strict=True))
    )
    return FactorAttribution(
        exposures=exposures,
        alpha_contribution=float(coefficients[0] * len(paired)),
        alpha_annualised=float(coefficients[0] * periods),
        r_squared=r_squared,
        observations=len(paired),
        summed_return=float(target.sum()),
        compounded_return=float(np.prod(1.0 + target) - 1.0),
    )
