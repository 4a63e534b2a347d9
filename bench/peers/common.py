"""Rules, parameters and data loading shared by every peer implementation.

The three workloads are specified in ``../shared/bench/README.md``:

* **S1** momentum 12-1, monthly, top 10 %, 10 bp of traded notional, sells first, buys in
  ascending notional, the buy the cash cannot pay trimmed, fractional shares, 1,000,000 start;
* **S2** SMA(20) > SMA(50) long / flat on the 1-minute closes, fill at the signal bar's close,
  buy size ``cash / (close * (1 + fee))``, 1 bp per fill, no order on the final bar;
* **S3** S2 over fast in 5..50 step 5 x slow in 20..200 step 20 (100 combos) on 100,000 bars.

Only the parts every peer needs identically live here (calendar, parameters, data loading);
each peer computes its own indicators and runs its own engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

INIT_CASH = 1_000_000.0

# S1
S1_FEE = 0.001  # 10 bp of traded notional
S1_LOOKBACK = 252  # momentum = P[t-21] / P[t-252] - 1
S1_SKIP = 21
S1_TOP_FRACTION = 0.10

# S2 / S3
S2_FEE = 0.0001  # 1 bp per fill
S2_FAST = 20
S2_SLOW = 50
S3_FAST = tuple(range(5, 51, 5))
S3_SLOW = tuple(range(20, 201, 20))
BENCHMARK = "SPY"


def s3_combos() -> list[tuple[int, int]]:
    """The 100 (fast, slow) pairs in a fixed order (fast-major); fast >= slow pairs are kept."""
    return [(fast, slow) for fast in S3_FAST for slow in S3_SLOW]


def load_daily(path: str | Path) -> pd.DataFrame:
    """Wide closes of the tradable universe (the benchmark column is dropped), date index."""
    frame = pd.read_parquet(path)
    return frame.drop(columns=[BENCHMARK], errors="ignore").astype(np.float64)


def load_intraday(path: str | Path) -> pd.DataFrame:
    """One symbol's 1-minute OHLCV with a datetime index."""
    return pd.read_parquet(path)


def rebalance_mask(index: pd.DatetimeIndex) -> np.ndarray:
    """True on the last bar of each month once 252 bars of history exist; never the final bar.

    "Last trading day of the month" = the next bar is in another month, so the final bar of the
    file never qualifies (there is no next bar).
    """
    period = index.year * 12 + index.month
    mask = np.zeros(len(index), dtype=bool)
    mask[:-1] = np.asarray(period[1:] != period[:-1])
    mask[:S1_LOOKBACK] = False
    return mask


def top_k_count(n_eligible: int) -> int:
    """k = max(1, floor(10 % of the eligible symbols))."""
    return max(1, int(np.floor(S1_TOP_FRACTION * n_eligible + 1e-9)))


def momentum_top_k(close: pd.DataFrame, rebalance: np.ndarray) -> pd.DataFrame:
    """Boolean frame, True for the top-k momentum symbols on rebalance rows (ties by symbol).

    Vectorised pandas selection used by the "bring your own signals" peers (vectorbt, bt);
    the event-driven peers (backtrader) rank inside their own ``next``.
    """
    values = close.to_numpy()
    momentum = np.full(values.shape, np.nan)
    momentum[S1_LOOKBACK:] = values[S1_LOOKBACK - S1_SKIP : -S1_SKIP] / values[:-S1_LOOKBACK] - 1.0
    selected = np.zeros(values.shape, dtype=bool)
    for t in np.flatnonzero(rebalance):
        row = momentum[t]
        eligible = np.flatnonzero(~np.isnan(row))
        k = top_k_count(len(eligible))
        # stable sort on -momentum keeps column (= symbol) order among ties
        order = eligible[np.argsort(-row[eligible], kind="stable")]
        selected[t, order[:k]] = True
    return pd.DataFrame(selected, index=close.index, columns=close.columns)
