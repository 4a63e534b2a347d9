"""Trade-based metrics over round-trip trades (one profit or loss per closed trade).

These differ from the period-based ``win_rate`` / ``profit_factor`` in ``metrics``: a trade
held over five days counts once here, five times there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class TradeStatistics:
    """Statistics of closed round-trip trades.

    Money fields share the unit of the input (currency for P&L, fraction for per-trade
    returns). Rates are fractions. Empty inputs give zero counts and NaN statistics.
    """

    trades: int
    winning_trades: int
    losing_trades: int
    breakeven_trades: int
    win_rate: float
    profit_factor: float
    gross_profit: float
    gross_loss: float
    net_profit: float
    average_win: float
    average_loss: float
    payoff_ratio: float
    expectancy: float


def trade_statistics(pnl: Sequence[float] | np.ndarray | pd.Series) -> TradeStatistics:
    """Win rate, profit factor, average win/loss and expectancy of round-trip trades.

    - ``win_rate``: winning trades / all trades (breakeven trades count as not winning).
    - ``profit_factor``: gross profit / |gross loss|; ``inf`` with no losing trade.
    - ``average_win`` / ``average_loss``: mean P&L of winners / of losers (loss negative).
    - ``payoff_ratio``: average win / |average loss|.
    - ``expectancy``: mean P&L per trade (= win rate × average win + loss rate × average loss).
    """
    values = np.asarray(pnl, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"pnl must be one-dimensional, got shape {values.shape}")
    if not np.isfinite(values).all():
        position = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValueError(f"pnl has a missing or infinite value at position {position}")
    wins = values[values > 0.0]
    losses = values[values < 0.0]
    count = len(values)
    gross_profit = float(wins.sum())
    gross_loss = float(losses.sum())
    average_win = float(wins.mean()) if len(wins) else math.nan
    average_loss = float(losses.mean()) if len(losses) else math.nan
    if gross_loss == 0.0:
        factor = math.inf if gross_profit > 0.0 else math.nan
    else:
        factor = gross_profit / abs(gross_loss)
    return TradeStatistics(
        trades=count,
        winning_trades=len(wins),
        losing_trades=len(losses),
        breakeven_trades=count - len(wins) - len(losses),
        win_rate=len(wins) / count if count else math.nan,
        profit_factor=factor,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net_profit=float(values.sum()),
        average_win=average_win,
        average_loss=average_loss,
        payoff_ratio=average_win / abs(average_loss) if len(wins) and len(losses) else math.nan,
        expectancy=float(values.mean()) if count else math.nan,
    )
