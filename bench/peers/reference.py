"""Plain numpy / python reference implementation of S1, S2 and S3 (readable loops).

Every peer's final equity is compared with these numbers.  The rules are the exact ones of
``../shared/bench/README.md``; the keyword options reproduce the conventions some peers use
instead, so that a disagreement can be attributed to a named convention (see bench/README.md):

* ``fee_netting=True`` (S1): bt's convention -- a trade of notional delta moves the cash by
  exactly delta, the fee is paid out of it (a buy of amount A gets A / (1 + fee) of stock, a
  sell raising A sells A / (1 - fee) of stock), so no buy is ever trimmed;
* ``first_bar_delay=1`` (S2/S3): backtesting.py's convention -- ``next`` is first called one bar
  after the slowest indicator's first value, so an entry on that bar is taken a bar later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from common import (
    INIT_CASH,
    S1_FEE,
    S1_LOOKBACK,
    S1_SKIP,
    S2_FAST,
    S2_FEE,
    S2_SLOW,
    load_intraday,
    rebalance_mask,
    s3_combos,
    top_k_count,
)


def s1_final_equity(prices: np.ndarray, rebalance: np.ndarray, fee_netting: bool = False) -> float:
    """Momentum 12-1 on a T x N price matrix; returns the final equity."""
    n_bars, n_symbols = prices.shape
    fee = S1_FEE
    assert not np.isnan(prices).any(), "the synthetic panel has a close for every symbol and day"
    cash = INIT_CASH
    shares = np.zeros(n_symbols)
    for t in range(n_bars):
        if not rebalance[t]:
            continue
        price = prices[t]
        momentum = prices[t - S1_SKIP] / prices[t - S1_LOOKBACK] - 1.0
        k = top_k_count(n_symbols)
        ranked = sorted(range(n_symbols), key=lambda j: (-momentum[j], j))
        chosen = set(ranked[:k])
        equity = cash + float(shares @ price)  # pre-trade equity marked at this close
        deltas = []  # (notional to trade, symbol); negative = sell
        for j in range(n_symbols):
            target = equity / k if j in chosen else 0.0
            delta = target - shares[j] * price[j]
            if delta != 0.0:
                deltas.append((delta, j))
        sells = [(d, j) for d, j in deltas if d < 0]
        buys = sorted((d, j) for d, j in deltas if d > 0)  # ascending notional, ties by symbol
        for delta, j in sells:
            if j not in chosen:  # exit: sell the whole position, leave exactly zero shares
                sold = shares[j] * price[j]
                cash += sold - fee * sold
                shares[j] = 0.0
            elif fee_netting:
                sold = -delta / (1.0 - fee)  # sell enough to raise -delta after the fee
                cash += -delta
                shares[j] -= sold / price[j]
            else:
                sold = -delta
                cash += sold - fee * sold
                shares[j] -= sold / price[j]
        for delta, j in buys:
            if fee_netting:
                bought = delta / (1.0 + fee)  # the fee comes out of the amount
                cash -= delta
            else:
                bought = min(delta, cash / (1.0 + fee))  # trim the buy the cash cannot pay
                cash -= bought + fee * bought
            shares[j] += bought / price[j]
    return cash + float(shares @ prices[-1])


def sma(close: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average, NaN for the first window - 1 bars (each window summed afresh)."""
    out = np.full(len(close), np.nan)
    out[window - 1 :] = np.lib.stride_tricks.sliding_window_view(close, window).mean(axis=1)
    return out


def s2_final_equity(
    close: np.ndarray, fast: int = S2_FAST, slow: int = S2_SLOW, first_bar_delay: int = 0
) -> float:
    """SMA(fast) > SMA(slow) long / flat, fills at the signal bar's close; final equity."""
    long = sma(close, fast) > sma(close, slow)  # NaN compares False: flat while warming up
    first_bar = max(fast, slow) - 1 + first_bar_delay
    cash, shares = INIT_CASH, 0.0
    for i in range(first_bar, len(close) - 1):  # no order on the final bar
        if long[i] and shares == 0.0:
            shares = cash / (close[i] * (1.0 + S2_FEE))
            cash -= shares * close[i] * (1.0 + S2_FEE)
        elif not long[i] and shares > 0.0:
            cash += shares * close[i] * (1.0 - S2_FEE)
            shares = 0.0
    return cash + shares * close[-1]


def s1(close: pd.DataFrame) -> float:
    return s1_final_equity(close.to_numpy(), rebalance_mask(close.index))


def s1_fee_netting(close: pd.DataFrame) -> float:
    return s1_final_equity(close.to_numpy(), rebalance_mask(close.index), fee_netting=True)


def s2(ohlcv: pd.DataFrame) -> float:
    return s2_final_equity(ohlcv["Close"].to_numpy())


def s2_first_bar_delay(ohlcv: pd.DataFrame) -> float:
    return s2_final_equity(ohlcv["Close"].to_numpy(), first_bar_delay=1)


def s3(ohlcv: pd.DataFrame) -> list[float]:
    close = ohlcv["Close"].to_numpy()
    return [s2_final_equity(close, fast, slow) for fast, slow in s3_combos()]


def s3_first_bar_delay(ohlcv: pd.DataFrame) -> list[float]:
    close = ohlcv["Close"].to_numpy()
    return [s2_final_equity(close, fast, slow, first_bar_delay=1) for fast, slow in s3_combos()]


if __name__ == "__main__":  # quick self-check on the small files
    import sys

    print(s2(load_intraday(sys.argv[1])))
