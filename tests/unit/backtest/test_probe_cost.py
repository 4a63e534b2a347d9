"""The look-ahead probe made cheaper gives the same verdicts, details and inputs (issue 11).

The probe now perturbs only the rows and symbols it re-runs on and compares the two runs'
orders column by column; these tests hold it to the full perturbation and the order-by-order
comparison it replaced, bit for bit and word for word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.bias import (
    _first_order_difference,
    perturb_after,
    perturbed_view,
    probe_signal,
    truncate,
)
from quantdesk.backtest.event import run_events
from quantdesk.data.panel import Panel
from quantdesk.strategies.base import SignalStrategy, StrategyContext


class PeekingSignal(SignalStrategy):
    """Buys a symbol the day before its price rises: reads tomorrow in ``init``."""

    name: ClassVar[str] = "peeking-signal"

    def init(self, data: Panel) -> None:
        close = data["close"]
        self.rises = np.zeros(close.shape, dtype=bool)
        self.rises[:-1] = close[1:] > close[:-1]

    def on_bar(self, context: StrategyContext) -> None:
        for k, symbol in enumerate(context.symbols):
            if self.rises[context.index, k] and context.position(symbol) == 0:
                context.order_target_percent(symbol, 0.02)
            elif not self.rises[context.index, k] and context.position(symbol) > 0:
                context.close_position(symbol)


class HonestSignal(PeekingSignal):
    name: ClassVar[str] = "honest-signal"

    def init(self, data: Panel) -> None:
        close = data["close"]
        self.rises = np.zeros(close.shape, dtype=bool)
        self.rises[1:] = close[1:] > close[:-1]


def _panel(rows: int, width: int) -> Panel:
    rng = np.random.default_rng(11)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, size=(rows, width)), axis=0))
    close[: rows // 4, 0] = np.nan  # a late listing stays NaN
    volume = rng.integers(1_000, 9_000, size=(rows, width)).astype(float)
    dates = pd.bdate_range("2016-01-01", periods=rows).to_numpy(dtype="datetime64[ns]")
    symbols = tuple(f"T{j:02d}" for j in range(width))
    return Panel(dates, symbols, {"close": close, "volume": volume, "open": close * 0.99})


@pytest.mark.parametrize(("cut", "end"), [(40, 104), (150, 180), (10, 200), (198, 200)])
@pytest.mark.parametrize("sampled", [False, True])
def test_the_perturbed_window_equals_the_full_perturbation_cut_down(
    cut: int, end: int, sampled: bool
) -> None:
    panel = _panel(200, 30)
    columns = np.array([0, 3, 4, 17, 29]) if sampled else None
    expected, _ = truncate(perturb_after(panel, cut, seed=5), {}, end, columns)
    view = perturbed_view(panel, cut, end, columns, seed=5)
    assert view.symbols == expected.symbols
    np.testing.assert_array_equal(view.dates, expected.dates)
    assert view.fields.keys() == expected.fields.keys()
    for name, values in expected.fields.items():
        # bit for bit, NaN where NaN: the same factor multiplies the same cell
        assert view[name].tobytes() == np.ascontiguousarray(values).tobytes(), name
    assert np.shares_memory(view["close"], panel["close"]) is False  # the input is untouched


def _row_by_row(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
    """The comparison the probe used before, one order at a time (the reference)."""
    for i in range(max(len(before), len(after))):
        if i >= len(before) or i >= len(after):
            extra = after.iloc[i] if i < len(after) else before.iloc[i]
            return f"order #{i} ({extra['date']:%Y-%m-%d} {extra['symbol']}) only in one run"
        left, right = before.iloc[i], after.iloc[i]
        same = (
            left["date"] == right["date"]
            and left["symbol"] == right["symbol"]
            and left["side"] == right["side"]
            and math.isclose(left["quantity"], right["quantity"], rel_tol=1e-9)
        )
        if not same:
            return (
                f"order #{i}: {left['date']:%Y-%m-%d} {left['side']} {left['quantity']:.6g} "
                f"{left['symbol']} became {right['side']} {right['quantity']:.6g} {right['symbol']}"
            )
    return None


def _orders(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame(
        {
            "date": pd.bdate_range("2020-01-01", periods=rows),
            "symbol": [f"S{k % 7}" for k in range(rows)],
            "side": ["buy" if k % 3 else "sell" for k in range(rows)],
            "quantity": rng.uniform(1, 500, rows),
        }
    )


def _changed(orders: pd.DataFrame, row: int, column: str, value: Any) -> pd.DataFrame:
    out = orders.copy()
    out.loc[row, column] = value
    return out


BASE = _orders(40)
CASES = {
    "equal": BASE.copy(),
    "quantity within 1e-9": _changed(BASE, 5, "quantity", BASE.loc[5, "quantity"] * (1 + 1e-12)),
    "quantity beyond 1e-9": _changed(BASE, 5, "quantity", BASE.loc[5, "quantity"] * (1 + 1e-6)),
    "side": _changed(BASE, 12, "side", "sell"),
    "symbol": _changed(BASE, 0, "symbol", "ZZ"),
    "date": _changed(BASE, 39, "date", pd.Timestamp("2031-01-01")),
    "NaN quantity": _changed(BASE, 7, "quantity", float("nan")),
    "one more": pd.concat([BASE, _orders(41).iloc[[40]]], ignore_index=True),
    "one fewer": BASE.iloc[:-1].copy(),
    "both empty": BASE.iloc[:0].copy(),
    "changed and longer": pd.concat(
        [_changed(BASE, 20, "side", "sell"), _orders(41).iloc[[40]]], ignore_index=True
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_orders_compared_at_once_name_the_same_first_difference(case: str) -> None:
    after = CASES[case]
    before = BASE.iloc[:0] if case == "both empty" else BASE
    assert _first_order_difference(before, after) == _row_by_row(before, after)
    assert _first_order_difference(after, before) == _row_by_row(after, before)


# the probe's full results on this panel before it was made cheaper (main at 5215585)
GOLDEN = {
    PeekingSignal: (
        "fail",
        "orders up to 2016-07-28 changed when only inputs after it (prices, volumes) changed "
        "(first: order #1775: 2016-07-28 buy 591.231 T12 became buy 497.207 T08): the strategy "
        "reads future data",
        1788,
    ),
    HonestSignal: (
        "pass",
        "orders up to 2016-07-29 are unchanged when every input after it (prices, volumes) is "
        "perturbed (probed on 24 of 60 symbols)",
        1788,
    ),
}


@pytest.mark.parametrize("cls", [PeekingSignal, HonestSignal], ids=lambda c: c.name)
def test_the_signal_probe_reports_what_it_reported_before(cls: type[Any]) -> None:
    rng = np.random.default_rng(3)
    rows, width = 300, 60
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, size=(rows, width)), axis=0))
    dates = pd.bdate_range("2016-01-01", periods=rows).to_numpy(dtype="datetime64[ns]")
    panel = Panel(dates, tuple(f"T{j:02d}" for j in range(width)), {"close": close})
    result = run_events(panel, cls(), None, 1_000_000.0)

    def run(view: Panel, changed: Mapping[str, Any]) -> Any:
        return run_events(view, cls(), None, 1_000_000.0)

    check = probe_signal(cls(), panel, result.orders, run=run, data={})
    status, detail, compared = GOLDEN[cls]
    assert (check.status.value, check.detail) == (status, detail)
    assert check.data["decisions_compared"] == compared
    assert check.data["rows_rerun_after_cut"] == 63
