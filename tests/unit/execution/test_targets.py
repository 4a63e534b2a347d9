"""The one targets → trades rule: the numba kernel of the vectorised engine equals it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.backtest.nb import RECORD_FIELDS, _execute_nb, _order_deltas_nb
from quantdesk.core.enums import Side
from quantdesk.execution.costs import BASIS_POINT, CostModel
from quantdesk.execution.targets import order_deltas, plan_trades, trade_sequence


def kernel_trades(
    targets: np.ndarray,
    positions: np.ndarray,
    prices: np.ndarray,
    cash: float,
    equity: float,
    costs: CostModel,
    fractional: bool,
) -> tuple[np.ndarray, list[tuple[int, Side, float]]]:
    deltas = _order_deltas_nb(
        positions, targets, prices, equity, fractional, costs.min_trade_value,
        costs.min_trade_weight,
    )  # fmt: skip
    n = len(prices)
    records = np.empty((4, RECORD_FIELDS))
    _, records, n_rec = _execute_nb(
        0, 0, deltas, prices, prices, positions.copy(), cash, equity,
        (costs.commission_per_order, costs.commission_per_share,
         costs.commission_bps * BASIS_POINT, costs.slippage_bps * BASIS_POINT),
        fractional, False, np.zeros(1), np.zeros(1), records, 0,
        np.zeros(n, dtype=np.int64), np.full(n, np.nan),
    )  # fmt: skip
    trades = [
        (int(r[2]), Side.BUY if r[3] > 0 else Side.SELL, abs(float(r[4])))
        for r in records[:n_rec]
        if r[4] != 0.0
    ]
    return deltas, trades


@settings(max_examples=300)
@given(
    data=st.data(),
    n=st.integers(1, 8),
    fractional=st.booleans(),
    per_order=st.sampled_from([0.0, 1.0, 5.0]),
    bps=st.sampled_from([0.0, 2.5, 10.0]),
    slippage=st.sampled_from([0.0, 5.0]),
    min_value=st.sampled_from([0.0, 250.0]),
    min_weight=st.sampled_from([0.0, 0.02]),
    cash=st.floats(0.0, 50_000.0),
)
def test_the_numba_kernel_trades_exactly_as_the_shared_rule(
    *,
    data: st.DataObject,
    n: int,
    fractional: bool,
    per_order: float,
    bps: float,
    slippage: float,
    min_value: float,
    min_weight: float,
    cash: float,
) -> None:
    # a few repeated prices and equal targets make ties the rule must break by symbol order
    price = st.one_of(st.sampled_from([7.0, 33.3]), st.floats(0.5, 900.0))
    prices = np.array(data.draw(st.lists(price, min_size=n, max_size=n)))
    positions = np.array(data.draw(st.lists(st.floats(0.0, 300.0), min_size=n, max_size=n)))
    weight = st.one_of(st.just(0.125), st.floats(0.0, 1.0))
    raw = np.array(data.draw(st.lists(weight, min_size=n, max_size=n)))
    # up to 150 % invested, so the cash often runs out and the last buys are trimmed
    targets = raw / raw.sum() * data.draw(st.floats(0.0, 1.5)) if raw.sum() > 0 else raw
    costs = CostModel(
        commission_per_order=per_order,
        commission_bps=bps,
        slippage_bps=slippage,
        min_trade_value=min_value,
        min_trade_weight=min_weight,
    )
    equity = cash + float((positions * prices).sum())
    if not equity > 0:
        return
    deltas, expected = kernel_trades(targets, positions, prices, cash, equity, costs, fractional)
    ours = order_deltas(
        targets.tolist(), positions.tolist(), prices.tolist(), equity, fractional=fractional,
        min_trade_value=min_value, min_trade_weight=min_weight,
    )  # fmt: skip
    assert ours == deltas.tolist()  # bit for bit
    planned = plan_trades(
        targets.tolist(), positions.tolist(), prices.tolist(), cash, costs,
        fractional=fractional, equity=equity,
    )  # fmt: skip
    assert [(t.index, t.side, t.quantity) for t in planned] == expected


def test_sells_first_then_buys_in_ascending_notional_ties_by_symbol() -> None:
    deltas = [5.0, -1.0, 2.0, 2.0, -3.0]
    prices = [10.0, 10.0, 10.0, 10.0, 10.0]
    assert trade_sequence(deltas, prices, 1_000.0) == [1, 4, 2, 3, 0]


def test_the_last_buy_is_trimmed_to_the_cash_left() -> None:
    free = CostModel.free()
    planned = plan_trades([0.5, 0.5], [0.0, 0.0], [10.0, 20.0], 1_000.0, free, fractional=False,
                          equity=1_200.0)  # fmt: skip
    # targets of 600 each; ascending notional (ties by column): 60 × 10, then 20 shares is all
    # the 400 left buys of the second
    assert [(t.index, t.quantity) for t in planned] == [(0, 60.0), (1, 20.0)]
