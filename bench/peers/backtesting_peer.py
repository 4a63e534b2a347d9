"""backtesting.py: a ``Strategy`` with two ``self.I`` SMAs, ``trade_on_close=True``.

Single-asset library, so S1 is not expressible.  ``FractionalBacktest`` (backtesting.lib)
trades whole units of 1e-8 share, i.e. fractional shares to 1e-8.  S3 is the library's own
``Backtest.optimize`` grid with ``return_heatmap=True`` (the heatmap holds every combo's final
equity); it runs the combos in a process pool over the machine's cores.

Convention: ``Backtest.run`` first calls ``next`` one bar after the slowest indicator's first
value (``start = 1 + warm-up bars``), so an entry that the rule takes on that first bar is
taken one bar later; this matches ``reference.s2_first_bar_delay``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from backtesting import Strategy
from backtesting.lib import FractionalBacktest
from common import INIT_CASH, S2_FAST, S2_FEE, S2_SLOW, S3_FAST, S3_SLOW, s3_combos

UNIT = 1e-8  # FractionalBacktest's smallest tradable fraction of a share


def _sma(values: np.ndarray, window: int) -> np.ndarray:
    return pd.Series(values).rolling(window).mean().to_numpy()


class SmaCross(Strategy):
    fast = S2_FAST
    slow = S2_SLOW

    def init(self) -> None:
        self.sma_fast = self.I(_sma, self.data.Close, self.fast)
        self.sma_slow = self.I(_sma, self.data.Close, self.slow)

    def next(self) -> None:
        # An order placed on the final bar is never filled (trade_on_close fills it at the
        # next iteration, and there is none), which is the "no order on the final bar" rule.
        long = self.sma_fast[-1] > self.sma_slow[-1]
        if long and not self.position:
            price = self.data.Close[-1]  # per unit of 1e-8 share
            units = math.floor(self.equity / (price * (1.0 + S2_FEE))) - 1  # -1: float safety
            self.buy(size=units)
        elif not long and self.position:
            self.position.close()


def _backtest(ohlcv: pd.DataFrame) -> FractionalBacktest:
    return FractionalBacktest(
        ohlcv,
        SmaCross,
        cash=INIT_CASH,
        commission=S2_FEE,
        trade_on_close=True,
        fractional_unit=UNIT,
    )


def s2(ohlcv: pd.DataFrame) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some trades remain open" is intended (marked)
        stats = _backtest(ohlcv).run()
    return float(stats["Equity Final [$]"])


def s3(ohlcv: pd.DataFrame) -> list[float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, heatmap = _backtest(ohlcv).optimize(
            fast=list(S3_FAST),
            slow=list(S3_SLOW),
            maximize="Equity Final [$]",
            return_heatmap=True,
        )
        # optimize() leaves NaN for runs without a closed trade ((20, 20) and (40, 40) never
        # trade); their equity comes from a plain run
        for fast, slow in heatmap.index[heatmap.isna()]:
            heatmap.loc[(fast, slow)] = _backtest(ohlcv).run(fast=fast, slow=slow)[
                "Equity Final [$]"
            ]
    return [float(heatmap.loc[(fast, slow)]) for fast, slow in s3_combos()]
