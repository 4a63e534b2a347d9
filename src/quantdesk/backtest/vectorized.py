"""Vectorised engine for allocation strategies (target weights on rebalance dates).

Rules (the event engine follows the same ones where it runs an allocation strategy):

- Valuation prices are the adjusted close where the panel has one, else the close; a symbol
  without a price on a day keeps its last one (for marking and for trading it out).
- On a rebalance row ``t`` the engine marks equity ``V`` at ``t``'s close and sizes each order
  so the position becomes ``w × V / close[t]`` shares (floored toward zero in whole-share mode).
- Fills at that close (``FillTiming.CLOSE``) or at the next row's open
  (``FillTiming.NEXT_OPEN``; the open is rescaled by ``adj_close / close`` when valuing with the
  adjusted close, a missing open fills at the last close; orders decided on the final row never
  fill).  Quantities stay as decided at the close; only the cash trim uses the fill prices.
- Sells first, then buys in ascending notional (notionals within 1e-9 of equity are ties,
  broken by symbol order: equal targets differ by float noise); the buy the cash cannot fully
  pay (commission included) is trimmed to what the cash affords, so cash never goes negative
  unless ``allow_leverage``.  Orders of less than 1e-12 of equity are float noise, not sent.
- With a ``StopLossRule`` each long holding is checked at every close (before that close's
  rebalance decision) and sold when its close crosses the stop (or take-profit); the symbol then
  sits out until the next rebalance date (the rule in full: :mod:`quantdesk.backtest.stops`).
  Orders and fills carry a ``reason`` column (``rebalance``, ``stop_loss``, ``take_profit``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.backtest.allocation_np import allocation_np, forward_fill
from quantdesk.backtest.costs import BASIS_POINT, CostModel, FillTiming, Side
from quantdesk.backtest.result import BacktestResult, round_trip_trades
from quantdesk.backtest.stops import ORDER_REASONS, StopLossRule
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy

ENGINE_NAME = "vector"
_WEIGHT_TOLERANCE = 1e-9


class WeightsError(ValueError):
    """Target weights are malformed or not tradable (the message names the date and symbol)."""


def run_allocation(
    panel: Panel,
    strategy: AllocationStrategy | np.ndarray,
    costs: CostModel | None = None,
    *,
    initial_cash: float = 1_000_000.0,
    fractional: bool = True,
    allow_leverage: bool = False,
    drift_threshold: float | None = None,
    benchmark: pd.Series | None = None,
    stop_loss: StopLossRule | None = None,
    vix: np.ndarray | None = None,
) -> BacktestResult:
    """Backtest target weights on ``panel`` and return a :class:`BacktestResult`.

    Args:
        panel: prices (``adj_close`` or ``close``; ``open`` too for next-open fills).
        strategy: an allocation strategy, or a ``(T, N)`` array of target weights (fractions
            of equity) with NaN rows where nothing is decided (NaN inside a row means 0).
        costs: commission, slippage, thresholds and fill timing; default ``CostModel()``.
        initial_cash: starting cash in currency.
        fractional: fractional shares; False floors share counts toward zero.
        allow_leverage: allow weights summing above 1, negative weights and negative cash.
        drift_threshold: also rebalance, to the latest targets, at any close where a weight
            has drifted more than this fraction (0.05 = 5 percentage points) from its target.
        benchmark: a price or value series to carry in the result (reindexed to the dates).
        stop_loss: stop-loss / take-profit exits checked at each close, or None.
        vix: VIX levels (index points) aligned to the panel's dates, NaN where unknown; read
            only by a VIX-regime ``stop_loss``.
    """
    costs = costs or CostModel()
    if not (math.isfinite(initial_cash) and initial_cash > 0):
        raise ValueError(f"initial_cash must be a positive amount, got {initial_cash!r}")
    if drift_threshold is not None and not drift_threshold > 0:
        raise ValueError(f"drift_threshold must be a positive fraction, got {drift_threshold!r}")
    price_field, raw = panel.prices()
    raw = np.ascontiguousarray(raw, dtype=np.float64)
    # a gap-free panel needs no copy (allocating T×N arrays is a large part of the run time)
    marks = forward_fill(raw) if np.isnan(raw).any() else raw
    targets, is_rebalance, name, params = _targets(panel, strategy)
    _check_targets(panel, targets, is_rebalance, marks, allow_leverage)
    exec_prices = _execution_prices(panel, price_field, marks, costs.fill_timing)
    delay = 1 if costs.fill_timing is FillTiming.NEXT_OPEN else 0
    fee_rates = (
        costs.commission_per_order,
        costs.commission_per_share,
        costs.commission_bps * BASIS_POINT,
        costs.slippage_bps * BASIS_POINT,
    )
    thresholds = (costs.min_trade_value, costs.min_trade_weight)
    compiled = stop_loss is not None or drift_threshold is not None
    if not compiled:
        # decisions only on rebalance rows: NumPy, bit for bit the kernel, without loading numba
        outputs = allocation_np(
            marks, exec_prices, targets, is_rebalance, delay, float(initial_cash),
            fee_rates, thresholds, fractional, allow_leverage,
        )  # fmt: skip
    else:
        # a check at every close: the numba kernel (loaded here, not at import)
        from quantdesk.backtest.nb import allocation_nb

        if stop_loss is None:
            distances, take_profit, trailing = np.empty(0), math.nan, False
        else:
            distances = stop_loss.distances(len(panel.dates), vix)
            take_profit, trailing = stop_loss.take_profit_fraction, stop_loss.trailing
        outputs = allocation_nb(
            marks, exec_prices, targets, is_rebalance, delay, float(initial_cash),
            fee_rates, thresholds, fractional, allow_leverage,
            math.nan if drift_threshold is None else float(drift_threshold),
            distances, take_profit, trailing,
        )  # fmt: skip
    positions, weights, equity, cash, turnover, paid, decided, records = outputs
    return _build_result(
        panel,
        price_field=price_field,
        marks=marks,
        positions=positions,
        weights=weights,
        equity=equity,
        cash=cash,
        turnover=turnover,
        paid=paid,
        decided=decided,
        records=records,
        name=name,
        params=params,
        initial_cash=float(initial_cash),
        benchmark=benchmark,
        compiled=compiled,
    )


def _targets(
    panel: Panel, strategy: AllocationStrategy | np.ndarray
) -> tuple[np.ndarray, np.ndarray, str, dict[str, Any]]:
    if isinstance(strategy, AllocationStrategy):
        mask = np.asarray(strategy.rebalance_mask(panel.dates), dtype=bool)
        weights = np.asarray(strategy.target_weights(panel, mask), dtype=np.float64)
        name, params = strategy.name, strategy.params.model_dump()
    else:
        weights = np.asarray(strategy, dtype=np.float64)
        mask = np.ones(len(panel.dates), dtype=bool)
        name, params = "weights", {}
    if weights.shape != panel.shape:
        raise WeightsError(f"target weights have shape {weights.shape}, panel is {panel.shape}")
    is_rebalance = mask & np.isfinite(weights).any(axis=1)
    return np.ascontiguousarray(weights), is_rebalance, name, params


def _check_targets(
    panel: Panel,
    targets: np.ndarray,
    is_rebalance: np.ndarray,
    marks: np.ndarray,
    allow_leverage: bool,
) -> None:
    rows = np.flatnonzero(is_rebalance)
    weights = np.nan_to_num(targets[rows], nan=0.0)
    if np.isinf(weights).any():
        _raise_at(panel, rows, np.isinf(weights), "is infinite")
    unpriced = (weights != 0) & ~(marks[rows] > 0)
    if unpriced.any():
        _raise_at(panel, rows, unpriced, "has a target weight but no price yet")
    if allow_leverage:
        return
    if (weights < 0).any():
        _raise_at(panel, rows, weights < 0, "has a negative weight (short) without allow_leverage")
    totals = weights.sum(axis=1)
    over = np.flatnonzero(totals > 1 + _WEIGHT_TOLERANCE)
    if over.size:
        date = pd.Timestamp(panel.dates[rows[over[0]]]).date()
        raise WeightsError(
            f"target weights on {date} sum to {totals[over[0]]:.6f} > 1 without allow_leverage"
        )


def _raise_at(panel: Panel, rows: np.ndarray, bad: np.ndarray, problem: str) -> None:
    row, column = np.argwhere(bad)[0]
    date = pd.Timestamp(panel.dates[rows[row]]).date()
    raise WeightsError(f"target weight for {panel.symbols[column]} on {date} {problem}")


def _execution_prices(
    panel: Panel, price_field: str, marks: np.ndarray, timing: FillTiming
) -> np.ndarray:
    if timing is FillTiming.CLOSE:
        return marks
    if "open" not in panel.fields:
        raise WeightsError("next-open fills need an 'open' field in the panel")
    opens = np.asarray(panel["open"], dtype=np.float64)
    if price_field == "adj_close":
        # put the open on the adjusted scale of the closes the positions are valued at
        with np.errstate(invalid="ignore", divide="ignore"):
            opens = opens * panel["adj_close"] / panel["close"]
    return np.where(opens > 0, opens, marks)


def _build_result(
    panel: Panel,
    *,
    price_field: str,
    marks: np.ndarray,
    positions: np.ndarray,
    weights: np.ndarray,
    equity: np.ndarray,
    cash: np.ndarray,
    turnover: np.ndarray,
    paid: np.ndarray,
    decided: np.ndarray,
    records: np.ndarray,
    name: str,
    params: Mapping[str, Any],
    initial_cash: float,
    benchmark: pd.Series | None,
    compiled: bool,
) -> BacktestResult:
    index = pd.DatetimeIndex(panel.dates, name="date")
    symbols = list(panel.symbols)
    previous = np.concatenate(([initial_cash], equity[:-1]))
    orders, fills = _order_frames(panel, marks, records)
    last_prices = dict(zip(symbols, marks[-1].tolist(), strict=True)) if len(index) else {}
    return BacktestResult(
        strategy=name,
        params=dict(params),
        engine=ENGINE_NAME,
        price_field=price_field,
        initial_cash=initial_cash,
        dates=index,
        symbols=tuple(symbols),
        equity=pd.Series(equity, index=index, name="equity"),
        returns=pd.Series(equity / previous - 1.0, index=index, name="returns"),
        cash=pd.Series(cash, index=index, name="cash"),
        weights=pd.DataFrame(weights, index=index, columns=symbols, copy=False),
        positions=pd.DataFrame(positions, index=index, columns=symbols, copy=False),
        orders=orders,
        fills=fills,
        trades=round_trip_trades(fills, last_prices, compiled=compiled),
        turnover=pd.Series(turnover, index=index, name="turnover"),
        costs=pd.Series(paid, index=index, name="costs"),
        rebalance_dates=index[decided],
        benchmark=None if benchmark is None else benchmark.reindex(index),
    )


def _order_frames(
    panel: Panel, marks: np.ndarray, records: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    decision = records[:, 0].astype(np.int64)
    fill_row = records[:, 1].astype(np.int64)
    column = records[:, 2].astype(np.int64)
    ordered, filled = records[:, 3], records[:, 4]
    dates = np.asarray(panel.dates, dtype="datetime64[ns]")
    # pandas string arrays built once here; object arrays would be re-inferred per frame
    symbols = pd.array(np.asarray(panel.symbols, dtype=object)[column], dtype="str")
    sides = pd.array(np.where(ordered > 0, Side.BUY.value, Side.SELL.value), dtype="str")
    order_ids = pd.array([f"v{i}" for i in range(len(records))], dtype="str")
    reason_names = np.asarray([reason.value for reason in ORDER_REASONS], dtype=object)
    reasons = pd.array(reason_names[records[:, 7].astype(np.int64)], dtype="str")
    orders = pd.DataFrame(
        {
            "date": dates[decision],
            "symbol": symbols,
            "side": sides,
            "quantity": np.abs(ordered),
            "price": marks[decision, column],
            "commission": records[:, 6],
            "order_id": order_ids,
            "reason": reasons,
        }
    )
    done = filled != 0
    fills = pd.DataFrame(
        {
            "date": dates[fill_row[done]],
            "symbol": symbols[done],
            "side": sides[done],
            "quantity": np.abs(filled[done]),
            "price": records[done, 5],
            "commission": records[done, 6],
            "order_id": order_ids[done],
            "reason": reasons[done],
        }
    )
    return orders, fills
