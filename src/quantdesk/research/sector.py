"""The 12-1 sector-momentum signal as a ranking table and a human-readable report, in the style
of the live-track-record design's ``format_signal_report`` (ranking, selection, trade list)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from quantdesk.portfolio import RebalancePlan, format_trade_list
from quantdesk.research.scoring import FloatArray

RANKING_COLUMNS = (
    "rank",
    "symbol",
    "name",
    "momentum_pct",
    "selected",
    "target_weight",
    "price",
)


def sector_ranking(
    symbols: Sequence[str],
    momentum: FloatArray,
    rank: FloatArray,
    target_weights: FloatArray,
    prices: FloatArray,
    names: Mapping[str, str | None],
) -> pd.DataFrame:
    """One row per symbol, best 12-1 momentum first; unranked (no 12-1 value) symbols last.

    ``momentum_pct`` is the 12-1 return in percent (12.5 = +12.5 %); ``target_weight`` a fraction;
    ``price`` the latest close on or before the signal date (what a trade would pay).
    """
    frame = pd.DataFrame(
        {
            "rank": pd.array([int(r) if np.isfinite(r) else None for r in rank], dtype="Int64"),
            "symbol": list(symbols),
            "name": [names.get(s) for s in symbols],
            "momentum_pct": momentum * 100.0,
            "selected": target_weights > 0,
            "target_weight": target_weights,
            "price": prices,
        },
        columns=list(RANKING_COLUMNS),
    )
    frame["_unranked"] = frame["rank"].isna()
    frame = frame.sort_values(["_unranked", "rank", "symbol"], kind="stable")
    return frame.drop(columns="_unranked").reset_index(drop=True)


def no_signal_reason(
    symbols: Sequence[str],
    prices: FloatArray,
    dates: Sequence[date],
    signal_date: date,
    lookback: int = 252,
) -> str:
    """Why no ETF could be ranked on ``signal_date`` (call it when none was).

    ``prices`` holds the rows up to the signal date (dates × symbols); the 12-1 return needs a
    price ``lookback`` trading rows back and one 21 rows back.
    """
    if not symbols:
        return f"no sector ETF has prices on or before {signal_date}"
    rows = prices.shape[0]
    if rows > lookback and np.isfinite(prices[rows - 1 - lookback]).any():
        return (
            f"no ETF has prices both {lookback} and 21 trading days before {signal_date} "
            "(gaps in the data)"
        )
    present = np.isfinite(prices)
    firsts = {
        s: dates[int(np.argmax(present[:, k]))]
        for k, s in enumerate(symbols)
        if present[:, k].any()
    }
    earliest = min(firsts.values()) if firsts else None
    held = rows - int(np.argmax(present.any(axis=1))) if present.any() else 0
    since = f" (the first prices are from {earliest})" if earliest else ""
    return (
        f"no ETF is eligible on {signal_date}: the 12-1 return needs prices {lookback} trading "
        f"days before the date and the longest history of {', '.join(symbols)} is {held} "
        f"trading days{since}; choose a later date or import older prices"
    )


def signal_report(
    ranking: pd.DataFrame,
    plan: RebalancePlan,
    signal_date: date,
    top_n: int,
    reason: str | None = None,
) -> str:
    """Plain-text report: the ranking (12-1 return in percent), the selection, the trade list,
    and ``reason`` when nothing could be ranked."""
    title = f"Sector momentum signal (12-1) for {signal_date.isoformat()}"
    lines = [title, "=" * len(title), ""]
    if reason:
        lines += [f"No signal: {reason}.", ""]
    header = f"{'Rank':>4}  {'Symbol':<8} {'12-1 return':>12}  {'Target':>7}  Name"
    lines += [header, "-" * len(header)]
    for row in ranking.to_dict("records"):
        rank = "-" if pd.isna(row["rank"]) else str(row["rank"])
        value = row["momentum_pct"]
        momentum = "n/a" if pd.isna(value) else f"{value:+.2f} %"
        target = f"{row['target_weight']:.1%}" if row["selected"] else ""
        name = row["name"] or ""
        lines.append(f"{rank:>4}  {row['symbol']:<8} {momentum:>12}  {target:>7}  {name}".rstrip())
    selected = [str(s) for s in ranking.loc[ranking["selected"], "symbol"]]
    lines += [
        "",
        f"Selected (top {top_n}, {1 / top_n:.1%} each): {', '.join(selected) or 'none'}",
        "",
    ]
    ordered = [str(s) for s in ranking.loc[ranking["rank"].notna(), "symbol"]]
    lines.append(format_trade_list(plan, ranking=ordered, title="Trade list").rstrip("\n"))
    return "\n".join(lines) + "\n"
