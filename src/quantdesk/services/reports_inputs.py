"""Shared inputs of the report builders: prices at dates, price-built factor returns, sectors.

Factor returns (for attribution by factor) are long-short portfolios built from prices, so they
exist for any subject and period: **market** (the benchmark's daily return), **momentum**
(12-1: return from 252 to 21 sessions back) and **low volatility** (minus the 63-session
standard deviation), each the top 30 % minus the bottom 30 % by score, equal weight, scored at
month ends and held from the next session. Where the research service has **stored scores**
(``momentum-composite`` for stocks, ``etf-factor`` for ETFs) on dates around the period, the
same long-short is built from them too, one factor per score set. Quality and value need
fundamentals the price data does not carry; they enter only through stored scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd

from quantdesk.analytics.attribution import factor_attribution, long_short_returns
from quantdesk.reports.model import Table
from quantdesk.reports.sections import factor_attribution_table
from quantdesk.research.inputs import ScoreSet
from quantdesk.services.data import DataService
from quantdesk.services.research import ResearchService

LOOKBACK_DAYS = 400  # calendar days of history before the period for 12-1 momentum scores
MOMENTUM_LOOKBACK = 252
MOMENTUM_SKIP = 21
VOLATILITY_WINDOW = 63
MIN_FACTOR_SYMBOLS = 6


def price_frame(
    data: DataService, symbols: Iterable[str], field: str, start: date, end: date
) -> pd.DataFrame:
    """Dates × symbols of ``field`` (``close``/``adj_close``), tz-naive dates; empty when no
    symbol is given. Missing adjusted closes fall back to the close."""
    wanted = sorted(set(symbols))
    if not wanted:
        return pd.DataFrame()
    known = {i.symbol for i in data.get_symbols()}
    wanted = [s for s in wanted if s in known]
    if not wanted:
        return pd.DataFrame()
    fields = ("close", "adj_close") if field == "adj_close" else ("close",)
    panel = data.load_panel(wanted, fields=fields, start=start, end=end)
    frame = panel.frame("close")
    if field == "adj_close":
        adjusted = panel.frame("adj_close")
        frame = adjusted.where(adjusted.notna(), frame)
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        frame.index = index.tz_convert(None)
    frame.index = pd.DatetimeIndex(frame.index).normalize()
    return frame


def prices_at(frame: pd.DataFrame, day: date) -> dict[str, float]:
    """Each symbol's last known price on or before ``day``."""
    if frame.empty:
        return {}
    upto = frame[pd.DatetimeIndex(frame.index) <= pd.Timestamp(day)]
    if upto.empty:
        return {}
    last = upto.ffill().iloc[-1]
    return {str(s): float(v) for s, v in last.items() if math.isfinite(v)}


def factor_returns(
    prices: pd.DataFrame, benchmark: pd.Series | None, start: date, end: date
) -> pd.DataFrame:
    """Daily factor returns from ``start`` to ``end`` (columns market / momentum /
    low_volatility; a factor without enough symbols or history is left out)."""
    columns: dict[str, pd.Series] = {}
    window = (pd.Timestamp(start), pd.Timestamp(end))
    if benchmark is not None and benchmark.notna().sum() > 2:
        market = benchmark.dropna().pct_change().dropna()
        columns["market"] = market[(market.index >= window[0]) & (market.index <= window[1])]
    usable = prices.dropna(axis=1, how="all")
    if usable.shape[1] >= MIN_FACTOR_SYMBOLS and len(usable) > MOMENTUM_LOOKBACK:
        daily = usable.pct_change(fill_method=None)
        filled = usable.ffill()
        momentum = filled.shift(MOMENTUM_SKIP) / filled.shift(MOMENTUM_LOOKBACK) - 1.0
        volatility = -daily.rolling(VOLATILITY_WINDOW).std()
        month_ends = _month_ends(pd.DatetimeIndex(usable.index))
        in_window = (daily.index >= window[0]) & (daily.index <= window[1])
        for name, scores in (("momentum", momentum), ("low_volatility", volatility)):
            at_month_end = scores.loc[month_ends].dropna(how="all")
            if at_month_end.empty:
                continue
            spread = long_short_returns(daily, at_month_end)
            columns[name] = spread[in_window]
    return pd.DataFrame(columns).dropna()


MAX_SCORE_DATES = 150  # one query per stored date: longer histories skip the stored-score factor


def stored_score_factors(
    research: ResearchService, daily: pd.DataFrame, start: date, end: date
) -> tuple[pd.DataFrame, list[str]]:
    """Daily long-short returns of each stored score set (columns ``<set> score``) over the
    symbols of ``daily`` (dates × symbols of daily returns), and notes on what was skipped."""
    columns: dict[str, pd.Series] = {}
    notes: list[str] = []
    window = (pd.Timestamp(start), pd.Timestamp(end))
    for score_set in ScoreSet:
        dates = [d for d in research.stored_dates(score_set) if d <= end]
        # the last score before the period decides its first days
        earlier = [d for d in dates if d < start]
        dates = ([earlier[-1]] if earlier else []) + [d for d in dates if d >= start]
        if not dates:
            continue
        if len(dates) > MAX_SCORE_DATES:
            notes.append(
                f"stored {score_set} scores left out of the factor attribution: "
                f"{len(dates)} score dates in the period (at most {MAX_SCORE_DATES})"
            )
            continue
        rows = {}
        for day in dates:
            frame = research.latest_scores(score_set, date=day)
            if len(frame):
                rows[pd.Timestamp(day)] = frame.set_index("symbol")["score"].astype("float64")
        scores = pd.DataFrame(rows).T.reindex(columns=daily.columns)
        if scores.notna().sum(axis=1).max() < MIN_FACTOR_SYMBOLS:
            continue
        spread = long_short_returns(daily, scores.dropna(how="all"))
        columns[f"{score_set} score"] = spread[
            (spread.index >= window[0]) & (spread.index <= window[1])
        ]
    return pd.DataFrame(columns), notes


def _month_ends(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    periods = index.to_period("M")
    last = np.r_[periods[1:] != periods[:-1], True]
    return index[last]


def sectors(data: DataService, symbols: Iterable[str]) -> dict[str, str | None]:
    wanted = set(symbols)
    return {i.symbol: i.sector for i in data.get_symbols() if i.symbol in wanted}


def lookback_start(start: date) -> date:
    return start - timedelta(days=LOOKBACK_DAYS)


def signed(side: str, quantity: float) -> float:
    return quantity if str(side).lower() == "buy" else -quantity


def nonzero(quantities: Mapping[str, float]) -> dict[str, float]:
    """Quantities without the float dust (below a millionth of a share) that a fully sold
    position leaves behind."""
    return {s: q for s, q in quantities.items() if abs(q) > 1e-6}


def factor_table(
    returns: pd.Series,
    prices: pd.DataFrame,
    benchmark: pd.Series | None,
    research: ResearchService,
    end_day: date,
    notes: list[str],
) -> Table | None:
    """Attribution by factor of the period's daily ``returns`` (fractions, dated): a
    regression on the price-built factors of ``prices`` (dates × symbols, with the momentum
    look-back before the period) and on every stored score set's long-short returns; what
    cannot be done is said in ``notes``."""
    if returns.empty:
        notes.append("attribution by factor left out: the period has no daily return")
        return None
    first = pd.Timestamp(returns.index[0]).date()
    factors = factor_returns(prices, benchmark, first, end_day)
    stored, skipped = stored_score_factors(
        research, prices.pct_change(fill_method=None), first, end_day
    )
    notes.extend(skipped)
    if not stored.empty:
        factors = pd.concat([factors, stored], axis=1, join="inner") if len(factors) else stored
    if factors.empty:
        notes.append("attribution by factor left out: no factor has returns in the period")
        return None
    try:
        return factor_attribution_table(factor_attribution(returns, factors))
    except ValueError as error:
        notes.append(f"attribution by factor left out: {error}")
        return None
