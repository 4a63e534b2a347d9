"""vectorbt 1.x: S1 with ``Portfolio.from_orders``, S2/S3 with ``MA`` + ``Portfolio.from_signals``.

``engine`` selects vectorbt's simulation back end through ``vbt.settings["engine"]``:
``"numba"`` (the JIT kernels) or ``"rust"`` (the optional ``vectorbt-rust`` extension,
``pip install "vectorbt[rust]"``).  The indicators and the portfolio run on that engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import vectorbt as vbt
from common import (
    INIT_CASH,
    S1_FEE,
    S2_FAST,
    S2_FEE,
    S2_SLOW,
    S3_FAST,
    S3_SLOW,
    momentum_top_k,
    rebalance_mask,
)


def s1(close: pd.DataFrame, engine: str) -> float:
    """Target weights on rebalance rows (NaN = no order elsewhere), one cash-sharing group.

    ``call_seq="auto"`` executes each rebalance's orders sells first, then buys by ascending
    order value; ``targetpercent`` sizes against the group value before the rebalance
    (``update_value=False``), and a buy the cash cannot pay is partially filled with the fee
    included.  That is S1 exactly.
    """
    vbt.settings["engine"] = engine
    selected = momentum_top_k(close, rebalance_mask(close.index))
    weights = selected.div(selected.sum(axis=1), axis=0)  # 1/k on the chosen, 0 on the rest
    weights[~selected.any(axis=1)] = np.nan  # no order on non-rebalance rows
    portfolio = vbt.Portfolio.from_orders(
        close,
        size=weights,
        size_type="targetpercent",
        group_by=True,
        cash_sharing=True,
        call_seq="auto",
        fees=S1_FEE,
        init_cash=INIT_CASH,
        freq="1D",
    )
    return float(portfolio.final_value())


def _sma_portfolio(close: pd.Series, fast: list[int], slow: list[int]) -> vbt.Portfolio:
    fast_ma = vbt.MA.run(close, fast, short_name="fast")
    slow_ma = vbt.MA.run(close, slow, short_name="slow")
    long = fast_ma.ma_above(slow_ma)  # state, not crossing: long while fast > slow
    entries = long.copy()
    exits = ~long
    entries.iloc[-1] = False  # no order on the final bar
    exits.iloc[-1] = False
    return vbt.Portfolio.from_signals(
        close,
        entries,
        exits,
        size=np.inf,  # all the cash: cash / (close * (1 + fee))
        fees=S2_FEE,
        init_cash=INIT_CASH,
        freq="1min",
    )


def s2(ohlcv: pd.DataFrame, engine: str) -> float:
    vbt.settings["engine"] = engine
    portfolio = _sma_portfolio(ohlcv["Close"], [S2_FAST], [S2_SLOW])
    return float(portfolio.final_value())


def s3(ohlcv: pd.DataFrame, engine: str) -> list[float]:
    """All 100 (fast, slow) columns in one broadcast simulation, fast-major order."""
    vbt.settings["engine"] = engine
    fast = [f for f in S3_FAST for _ in S3_SLOW]
    slow = [s for _ in S3_FAST for s in S3_SLOW]
    portfolio = _sma_portfolio(ohlcv["Close"], fast, slow)
    return [float(v) for v in portfolio.final_value().to_numpy()]
