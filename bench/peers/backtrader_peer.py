"""backtrader: event-driven ``Strategy.next`` with cheat-on-close fills (``set_coc(True)``).

* S1: one ``PandasData`` feed per symbol; on rebalance bars ``next`` ranks momentum from the
  feeds' own history (``close[-21] / close[-252] - 1``), then submits the sells and the buys
  in ascending notional, the last buy sized to the cash left.  backtrader rejects (does not
  trim) an order the cash cannot pay, so the strategy does the trimming itself.
* S2: ``SMA(fast) > SMA(slow)`` as a line; ``next`` first runs on the bar where the slow SMA has
  its first value (the same first actionable bar as the rule).
* S3: ``cerebro.optstrategy`` over the grid, an analyzer records each run's final value.

Sizes are fractional floats; the commission is 10 / 1 bp of notional
(``setcommission(commission=fee)``: stock-like, percentage, absolute).
"""

from __future__ import annotations

import math

import backtrader as bt
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
    S3_FAST,
    S3_SLOW,
    rebalance_mask,
    s3_combos,
    top_k_count,
)


def _affordable(cash: float, price: float, fee: float) -> float:
    """Largest size backtrader accepts with ``cash``: it rejects an order whose
    ``cash - size * price - commission`` is negative, even by a rounding error, so this
    mirrors its arithmetic (``CommInfoBase._getcommission`` = ``abs(size) * fee * price``)."""
    size = cash / (price * (1.0 + fee))
    while size > 0 and (cash - size * price) - size * fee * price < 0.0:
        size = math.nextafter(size, 0.0)
    return size


class Momentum(bt.Strategy):
    params = (("rebalance_bars", frozenset()), ("fee", S1_FEE))

    def next(self) -> None:
        if len(self) - 1 not in self.p.rebalance_bars:
            return
        feeds = self.datas
        prices = np.array([d.close[0] for d in feeds])
        momentum = np.array([d.close[-S1_SKIP] / d.close[-S1_LOOKBACK] - 1.0 for d in feeds])
        k = top_k_count(len(feeds))
        chosen = set(np.argsort(-momentum, kind="stable")[:k].tolist())  # ties by symbol
        equity = self.broker.getvalue()  # marked at this close, before any trade
        cash = self.broker.getcash()
        buys = []
        for j, feed in enumerate(feeds):  # sells first
            held = self.getposition(feed).size
            # trade notional in value space, so new positions (all V/k) tie exactly and
            # the ties go by symbol, as in the rule's "ascending notional"
            delta = (equity / k if j in chosen else 0.0) - held * prices[j]
            if j not in chosen and held:
                self.close(data=feed)
                cash += held * prices[j] * (1.0 - self.p.fee)
            elif delta < 0:
                self.sell(data=feed, size=-delta / prices[j])
                cash += -delta * (1.0 - self.p.fee)
            elif delta > 0:
                buys.append((delta, j))
        for notional, j in sorted(buys):  # then buys, ascending notional
            # ``cash`` is our running estimate; the broker's own arithmetic (average-price
            # P&L on sells) can differ by rounding, so keep 1e-12 of it back when trimming
            spendable = cash * (1.0 - 1e-12)
            size = min(notional / prices[j], _affordable(spendable, prices[j], self.p.fee))
            self.buy(data=feeds[j], size=size)
            cash -= size * prices[j] * (1.0 + self.p.fee)


class SmaCross(bt.Strategy):
    params = (("fast", S2_FAST), ("slow", S2_SLOW), ("fee", S2_FEE))

    def __init__(self) -> None:
        self.long = bt.ind.SMA(period=self.p.fast) > bt.ind.SMA(period=self.p.slow)
        self.last_bar = self.data.buflen()

    def next(self) -> None:
        if len(self) == self.last_bar:  # no order on the final bar
            return
        if self.long[0] and not self.position:
            self.buy(size=_affordable(self.broker.getcash(), self.data.close[0], self.p.fee))
        elif not self.long[0] and self.position:
            self.close()


class FinalValue(bt.Analyzer):
    def stop(self) -> None:
        self.rets["value"] = self.strategy.broker.getvalue()

    def get_analysis(self) -> dict[str, float]:
        return dict(self.rets)


def _cerebro(fee: float) -> bt.Cerebro:
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(INIT_CASH)
    cerebro.broker.set_coc(True)  # market orders fill at the close of the submitting bar
    cerebro.broker.setcommission(commission=fee)
    return cerebro


def _ohlcv_feed(ohlcv: pd.DataFrame) -> bt.feeds.PandasData:
    return bt.feeds.PandasData(dataname=ohlcv, openinterest=None)


def s1(close: pd.DataFrame) -> float:
    cerebro = _cerebro(S1_FEE)
    for symbol in close.columns:
        frame = close[[symbol]].rename(columns={symbol: "close"})
        feed = bt.feeds.PandasData(
            dataname=frame, open=None, high=None, low=None, volume=None, openinterest=None
        )
        cerebro.adddata(feed, name=symbol)
    bars = frozenset(np.flatnonzero(rebalance_mask(close.index)).tolist())
    cerebro.addstrategy(Momentum, rebalance_bars=bars)
    cerebro.run()
    return float(cerebro.broker.getvalue())


def s2(ohlcv: pd.DataFrame) -> float:
    cerebro = _cerebro(S2_FEE)
    cerebro.adddata(_ohlcv_feed(ohlcv))
    cerebro.addstrategy(SmaCross)
    cerebro.run()
    return float(cerebro.broker.getvalue())


def s3(ohlcv: pd.DataFrame) -> list[float]:
    cerebro = _cerebro(S2_FEE)
    cerebro.adddata(_ohlcv_feed(ohlcv))
    cerebro.optstrategy(SmaCross, fast=list(S3_FAST), slow=list(S3_SLOW))
    cerebro.addanalyzer(FinalValue, _name="final")
    runs = cerebro.run(optreturn=True)  # a process pool over the machine's cores
    values = {
        (run[0].params.fast, run[0].params.slow): run[0].analyzers.final.get_analysis()["value"]
        for run in runs
    }
    return [float(values[combo]) for combo in s3_combos()]
