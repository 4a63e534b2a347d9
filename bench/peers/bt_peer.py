"""bt (pmorissette/bt): algo stacks ``Run* -> Select/Weigh -> Rebalance`` on a price frame.

Fee convention: bt nets the commission into each allocation (see bench/README.md), so its
S1 equity differs from the exact rule by that convention; it matches
``reference.s1_fee_netting``.  For S2/S3 the two conventions coincide (a buy of all the cash
is ``cash / (close * (1 + fee))`` shares either way).
"""

from __future__ import annotations

from collections.abc import Callable

import bt
import pandas as pd
from common import (
    INIT_CASH,
    S1_FEE,
    S2_FAST,
    S2_FEE,
    S2_SLOW,
    momentum_top_k,
    rebalance_mask,
    s3_combos,
)


class RunOnDates(bt.Algo):
    """``bt.algos.RunOnDate`` with a hashed date set (the stock one scans a list each bar)."""

    def __init__(self, dates: pd.DatetimeIndex) -> None:
        super().__init__()
        self.dates = frozenset(dates)

    def __call__(self, target: bt.core.StrategyBase) -> bool:
        return target.now in self.dates


def _commission(fee: float) -> Callable[[float, float], float]:
    """bt calls ``commissions(quantity, price)``; ``fee`` is a fraction of the notional."""
    return lambda quantity, price: abs(quantity) * price * fee


def _final_equity(strategy: bt.Strategy, prices: pd.DataFrame, fee: float) -> float:
    backtest = bt.Backtest(
        strategy,
        prices,
        initial_capital=INIT_CASH,
        commissions=_commission(fee),
        integer_positions=False,  # fractional shares
        progress_bar=False,
    )
    backtest.run()  # the engine only; bt.run() would also compute ffn statistics
    return float(backtest.strategy.values.iloc[-1])


def s1(close: pd.DataFrame) -> float:
    rebalance = rebalance_mask(close.index)
    selected = momentum_top_k(close, rebalance)
    strategy = bt.Strategy(
        "momentum-12-1",
        [
            bt.algos.RunOnDate(*close.index[rebalance]),
            bt.algos.SelectWhere(selected),
            bt.algos.WeighEqually(),
            bt.algos.Rebalance(),
        ],
    )
    return _final_equity(strategy, close, S1_FEE)


def _sma_strategy(prices: pd.DataFrame, fast: int, slow: int) -> bt.Strategy:
    close = prices["close"]
    long = close.rolling(fast).mean() > close.rolling(slow).mean()
    weights = long.astype(float).to_frame("close")
    changed = long.ne(long.shift(fill_value=False))
    changed.iloc[-1] = False  # no order on the final bar
    return bt.Strategy(
        f"sma-{fast}-{slow}",
        [
            RunOnDates(close.index[changed.to_numpy()]),
            bt.algos.WeighTarget(weights),
            bt.algos.Rebalance(),
        ],
    )


def _close_frame(ohlcv: pd.DataFrame) -> pd.DataFrame:
    return ohlcv[["Close"]].rename(columns={"Close": "close"})


def s2(ohlcv: pd.DataFrame) -> float:
    prices = _close_frame(ohlcv)
    return _final_equity(_sma_strategy(prices, S2_FAST, S2_SLOW), prices, S2_FEE)


def s3(ohlcv: pd.DataFrame) -> list[float]:
    prices = _close_frame(ohlcv)
    return [
        _final_equity(_sma_strategy(prices, fast, slow), prices, S2_FEE)
        for fast, slow in s3_combos()
    ]
