"""Bias checks carried by every backtest: look-ahead probe, survivorship, corporate actions.

Pure functions over a panel and a strategy (no I/O). Each check has a status:

- ``pass``: the check found nothing wrong;
- ``warn``: the result may be biased and the detail says how (e.g. a static universe);
- ``fail``: the result is biased (a decision changed when only later data changed).

**Look-ahead probe.** Pick a cut row ``t*`` (by default the middle decision date) and perturb
*every* input the strategy receives after ``t*``: each price and volume is multiplied by an
independent random factor in [0.5, 1.5], so is the benchmark; earnings reported after ``t*``
get new EPS values; index membership after ``t*`` is inverted. The strategy is built again on
the perturbed inputs and its decisions up to ``t*`` are compared: target weights for an
allocation strategy, orders (date, symbol, side, quantity) for a signal strategy (which runs
through the event engine). Any change means a decision at or before ``t*`` read data after it.

To stay cheap the probe re-runs only up to ``t*`` plus :data:`PROBE_HORIZON` rows (a strategy
reaching further ahead sees the end of the data there instead of the real rows, which changes
its decisions too) and, for signal strategies on many symbols, on a seeded sample of
:data:`SIGNAL_SAMPLE` symbols (the ones trading before the cut first); the result's data says
both. The probe samples one cut; a pass is evidence, not proof.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.data.panel import Panel
from quantdesk.strategies.base import AllocationStrategy, SignalStrategy

PERTURB_LOW = 0.5
PERTURB_HIGH = 1.5
PROBE_HORIZON = 63  # trading rows after the cut kept in the re-run
SIGNAL_SAMPLE = 24  # symbols a signal strategy's probe re-runs on
PERTURBED_INPUTS = ("prices", "volumes", "benchmark", "earnings", "membership")
_WEIGHT_TOLERANCE = 1e-12
_QUANTITY_RTOL = 1e-9


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class BiasCheck:
    """One check: its ``name``, ``status``, a readable ``detail`` and JSON-ready ``data``."""

    name: str
    status: CheckStatus
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> BiasCheck:
        return cls(
            str(values["name"]),
            CheckStatus(values["status"]),
            str(values.get("detail", "")),
            dict(values.get("data") or {}),
        )


@dataclass(frozen=True)
class BiasReport:
    """The bias checks block of a run."""

    checks: tuple[BiasCheck, ...]

    @property
    def status(self) -> CheckStatus:
        """The worst status of the checks (fail > warn > pass)."""
        statuses = {check.status for check in self.checks}
        for worst in (CheckStatus.FAIL, CheckStatus.WARN):
            if worst in statuses:
                return worst
        return CheckStatus.PASS

    def __getitem__(self, name: str) -> BiasCheck:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no bias check {name!r}; checks: {[c.name for c in self.checks]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "checks": {check.name: check.to_dict() for check in self.checks},
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> BiasReport:
        checks = values.get("checks") or {}
        return cls(tuple(BiasCheck.from_dict(v) for v in checks.values()))


# -- look-ahead probe --------------------------------------------------------------------------
def perturb_after(panel: Panel, cut: int, seed: int = 0) -> Panel:
    """A copy of ``panel`` whose rows after ``cut`` are multiplied by random factors.

    One factor per cell, shared by every field of the cell (so high ≥ low still holds); rows
    ``≤ cut`` are untouched and NaN stays NaN.
    """
    return perturbed_view(panel, cut, len(panel.dates), None, seed)


def perturbed_view(
    panel: Panel, cut: int, end: int, columns: np.ndarray | None = None, seed: int = 0
) -> Panel:
    """``perturb_after(panel, cut, seed)`` cut to rows ``< end`` and ``columns``, bit for bit,
    without perturbing the rows and columns it leaves out (the probe re-runs on 24 symbols and
    63 rows after the cut: perturbing all 515 symbols' fields to the end cost more than that
    re-run).

    The factors are drawn row-major, one uniform per cell, so the first ``end - cut - 1`` rows
    of the full draw are exactly a draw of that many rows from the same seed.
    """
    rng = np.random.default_rng(seed)
    n_symbols = len(panel.symbols)
    end = min(max(end, 0), len(panel.dates))
    factors = rng.uniform(PERTURB_LOW, PERTURB_HIGH, size=(max(end - cut - 1, 0), n_symbols))
    keep = slice(None) if columns is None else columns
    if columns is not None:
        factors = factors[:, columns]
    fields = {}
    for name, values in panel.fields.items():
        changed = np.array(values[:end][:, keep], dtype=np.float64, copy=True)
        changed[cut + 1 :] *= factors
        fields[name] = changed
    symbols = panel.symbols if columns is None else tuple(panel.symbols[k] for k in columns)
    return Panel(panel.dates[:end], symbols, fields)


def default_cut(decision_rows: np.ndarray, n_rows: int) -> int | None:
    """The middle decision row that has later rows to perturb, else the middle row."""
    rows = decision_rows[decision_rows < n_rows - 1]
    if rows.size:
        return int(rows[rows.size // 2])
    return (n_rows - 1) // 2 if n_rows >= 2 else None


def perturb_data(
    data: Mapping[str, Any], dates: np.ndarray, cut: int, seed: int = 0
) -> dict[str, Any]:
    """Copies of a strategy's data inputs with everything after row ``cut`` changed.

    Per-date series (a benchmark: a Series or array with one value per panel date) are
    mirrored in log space around their value at the cut (``v[cut]² / v[t]``: every move after
    the cut reverses, so even a strategy reading only the direction of tomorrow's benchmark
    changes) and then scaled by random factors in [0.9, 1.1]; per-date boolean masks
    (membership, ``T × N``) are inverted; earnings (a frame with ``report_date``) reported after
    the cut date get their EPS columns negated and scaled by random factors in [0.5, 1.5].
    Anything else (e.g. sector labels, which carry no date) is kept.
    """
    rng = np.random.default_rng([seed, 1])
    n_rows = len(dates)
    cut_day = pd.Timestamp(dates[cut])
    cut_day = cut_day.tz_convert(None) if cut_day.tzinfo is not None else cut_day
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, pd.DataFrame) and "report_date" in value.columns:
            changed = value.copy()
            later = pd.to_datetime(changed["report_date"]) > cut_day.normalize()
            for column in changed.columns:
                if column.startswith("eps") and pd.api.types.is_float_dtype(changed[column]):
                    factors = rng.uniform(PERTURB_LOW, PERTURB_HIGH, size=int(later.sum()))
                    changed.loc[later, column] = -changed.loc[later, column] * factors
            out[key] = changed
        elif isinstance(value, pd.Series) and len(value) == n_rows:
            values = value.to_numpy(dtype=np.float64)
            out[key] = pd.Series(_mirror(values, cut, rng), index=value.index, name=value.name)
        elif isinstance(value, np.ndarray) and value.shape[:1] == (n_rows,):
            array = value.copy()
            if array.dtype == bool:
                array[cut + 1 :] = ~array[cut + 1 :]
            elif array.ndim == 1:
                array = _mirror(array.astype(np.float64), cut, rng)
            else:
                factors = rng.uniform(PERTURB_LOW, PERTURB_HIGH, size=array[cut + 1 :].shape)
                array = array.astype(np.float64)
                array[cut + 1 :] *= factors
            out[key] = array
        else:
            out[key] = value
    return out


def _mirror(values: np.ndarray, cut: int, rng: np.random.Generator) -> np.ndarray:
    out = np.array(values, dtype=np.float64, copy=True)
    anchor = out[cut] if np.isfinite(out[cut]) else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        mirrored = anchor * anchor / out[cut + 1 :]
    factors = rng.uniform(0.9, 1.1, size=mirrored.shape)
    # without a value at the cut to mirror around, scale by the wide factors instead
    wide = rng.uniform(PERTURB_LOW, PERTURB_HIGH, size=mirrored.shape)
    out[cut + 1 :] = np.where(np.isfinite(mirrored), mirrored * factors, out[cut + 1 :] * wide)
    return out


def truncate(
    panel: Panel, data: Mapping[str, Any], end: int, columns: np.ndarray | None = None
) -> tuple[Panel, dict[str, Any]]:
    """The panel's rows ``< end`` (and ``columns``), with per-date data cut the same way."""
    keep = np.arange(len(panel.symbols)) if columns is None else columns
    fields = {name: values[:end][:, keep] for name, values in panel.fields.items()}
    view = Panel(panel.dates[:end], tuple(panel.symbols[k] for k in keep), fields)
    return view, truncate_data(data, len(panel.dates), end, columns)


def truncate_data(
    data: Mapping[str, Any], n_rows: int, end: int, columns: np.ndarray | None = None
) -> dict[str, Any]:
    """A strategy's per-date data (one value or row per panel date, ``n_rows`` dates) cut to
    rows ``< end`` and ``columns``, as :func:`truncate` cuts the panel; the rest unchanged."""
    keep = slice(None) if columns is None else columns
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, pd.Series) and len(value) == n_rows:
            out[key] = value.iloc[:end]
        elif isinstance(value, np.ndarray) and value.shape[:1] == (n_rows,):
            out[key] = value[:end][:, keep] if value.ndim == 2 else value[:end]
        else:
            out[key] = value
    return out


def allocation_decisions(strategy: AllocationStrategy, panel: Panel) -> np.ndarray:
    """The strategy's target weights ``(T, N)`` (NaN rows: no decision)."""
    mask = np.asarray(strategy.rebalance_mask(panel.dates), dtype=bool)
    return np.asarray(strategy.target_weights(panel, mask), dtype=np.float64)


Rebuild = Callable[[Mapping[str, Any]], Any]


def probe_allocation(
    strategy: AllocationStrategy,
    panel: Panel,
    *,
    targets: np.ndarray | None = None,
    cut: int | None = None,
    seed: int = 0,
    data: Mapping[str, Any] | None = None,
    rebuild: Rebuild | None = None,
) -> BiasCheck:
    """Look-ahead probe of an allocation strategy (``targets``: its weights, if computed).

    ``data`` are the strategy's data inputs (benchmark, earnings, membership, …) and
    ``rebuild(changed_data)`` builds the strategy again on changed ones; without them only
    prices and volumes are perturbed.
    """
    original = allocation_decisions(strategy, panel) if targets is None else targets
    decided = np.flatnonzero(np.isfinite(original).any(axis=1))
    cut = default_cut(decided, len(panel.dates)) if cut is None else cut
    if cut is None or cut >= len(panel.dates) - 1:
        return _skipped("the panel has no rows after the cut to perturb")
    end = min(len(panel.dates), cut + 1 + PROBE_HORIZON)
    changed_all = perturb_data(data or {}, panel.dates, cut, seed)
    try:
        view = perturbed_view(panel, cut, end, seed=seed)
        changed = truncate_data(changed_all, len(panel.dates), end)
        probed_strategy = strategy if rebuild is None else rebuild(changed)
        probed = allocation_decisions(probed_strategy, view)
    except Exception:  # a strategy that needs every row: re-run them all
        end = len(panel.dates)
        probed_strategy = strategy if rebuild is None else rebuild(changed_all)
        probed = allocation_decisions(probed_strategy, perturb_after(panel, cut, seed))
    # rows without a decision in either run are equal (all NaN): compare the others only
    rows = np.union1d(
        decided[decided <= cut], np.flatnonzero(np.isfinite(probed[: cut + 1]).any(1))
    )
    before, after = original[rows], probed[rows]
    same_nan = np.isnan(before) == np.isnan(after)
    close = np.isclose(np.nan_to_num(before), np.nan_to_num(after), rtol=0, atol=_WEIGHT_TOLERANCE)
    bad = ~(same_nan & close)
    data_out = _probe_data(panel, cut, seed, int((decided <= cut).sum()))
    data_out |= _scope(data, rebuild, end - cut - 1, len(panel.symbols), len(panel.symbols))
    inputs = ", ".join(data_out["perturbed_inputs"])
    if not bad.any():
        return BiasCheck(
            "lookahead",
            CheckStatus.PASS,
            f"target weights up to {data_out['cut_date']} are unchanged when every input after "
            f"it ({inputs}) is perturbed",
            data_out,
        )
    at, column = (int(v) for v in np.argwhere(bad)[0])
    row = int(rows[at])
    day = _day(panel, row)
    data_out |= {
        "first_change_date": day,
        "first_change_symbol": panel.symbols[column],
        "changed_cells": int(bad.sum()),
        "weight_before": _finite_or_none(before[at, column]),
        "weight_after": _finite_or_none(after[at, column]),
    }
    return BiasCheck(
        "lookahead",
        CheckStatus.FAIL,
        f"the target weight of {panel.symbols[column]} on {day} changed when only inputs after "
        f"{data_out['cut_date']} ({inputs}) changed: the strategy reads future data",
        data_out,
    )


def probe_signal(
    strategy: SignalStrategy,
    panel: Panel,
    orders: pd.DataFrame,
    *,
    run: Any,
    cut: int | None = None,
    seed: int = 0,
    data: Mapping[str, Any] | None = None,
    sample: int = SIGNAL_SAMPLE,
) -> BiasCheck:
    """Look-ahead probe of a signal strategy: its orders up to the cut on the real inputs
    against those on perturbed ones. ``run(panel, data)`` builds the strategy on ``data`` (its
    data inputs; ``data=None`` perturbs prices only) and returns a result with ``orders``.

    With more than ``sample`` symbols both runs use a seeded sample of them (symbols with
    orders before the cut first), and the perturbed run stops :data:`PROBE_HORIZON` rows after
    the cut.
    """
    dates = pd.DatetimeIndex(panel.dates)
    order_rows = np.unique(dates.get_indexer(pd.DatetimeIndex(orders["date"])))
    cut = default_cut(order_rows[order_rows >= 0], len(dates)) if cut is None else cut
    if cut is None or cut >= len(dates) - 1:
        return _skipped("the panel has no rows after the cut to perturb")
    cut_date = dates[cut]
    given = dict(data or {})
    columns = _sample_columns(panel, orders, cut_date, sample, seed)
    end = min(len(dates), cut + 1 + PROBE_HORIZON)
    if columns is None:
        reference = orders
    else:
        view, view_data = truncate(panel, given, len(dates), columns)
        reference = run(view, view_data).orders
    changed_all = perturb_data(given, panel.dates, cut, seed)
    try:
        view = perturbed_view(panel, cut, end, columns, seed)
        changed = truncate_data(changed_all, len(dates), end, columns)
        probed = run(view, changed).orders
    except Exception:  # a strategy that needs every row: re-run them all
        end = len(dates)
        view = perturbed_view(panel, cut, end, columns, seed)
        changed = truncate_data(changed_all, len(dates), end, columns)
        probed = run(view, changed).orders
    before = _decision_table(reference, cut_date)
    after = _decision_table(probed, cut_date)
    probe_data = _probe_data(panel, cut, seed, len(before))
    kept = len(panel.symbols) if columns is None else len(columns)
    probe_data |= _scope(data, run, end - cut - 1, kept, len(panel.symbols))
    inputs = ", ".join(probe_data["perturbed_inputs"])
    difference = _first_order_difference(before, after)
    if difference is None:
        return BiasCheck(
            "lookahead",
            CheckStatus.PASS,
            f"orders up to {probe_data['cut_date']} are unchanged when every input after it "
            f"({inputs}) is perturbed"
            + ("" if columns is None else f" (probed on {kept} of {len(panel.symbols)} symbols)"),
            probe_data,
        )
    probe_data |= {"first_change": difference}
    return BiasCheck(
        "lookahead",
        CheckStatus.FAIL,
        f"orders up to {probe_data['cut_date']} changed when only inputs after it ({inputs}) "
        f"changed (first: {difference}): the strategy reads future data",
        probe_data,
    )


def _sample_columns(
    panel: Panel, orders: pd.DataFrame, cut_date: pd.Timestamp, sample: int, seed: int
) -> np.ndarray | None:
    """Columns of a seeded sample of ``sample`` symbols (those trading before the cut first),
    or None to keep them all."""
    if len(panel.symbols) <= sample:
        return None
    rng = np.random.default_rng([seed, 2])
    early = orders[pd.DatetimeIndex(orders["date"]) <= cut_date]["symbol"].astype(str)
    active = sorted(set(early) & set(panel.symbols))
    rest = sorted(set(panel.symbols) - set(active))
    chosen = list(rng.permutation(active))[:sample] if active else []
    if len(chosen) < sample:
        chosen += list(rng.permutation(rest))[: sample - len(chosen)] if rest else []
    index = {s: k for k, s in enumerate(panel.symbols)}
    return np.sort(np.asarray([index[s] for s in chosen], dtype=np.intp))


def _scope(
    data: Mapping[str, Any] | None, rebuild: Any, rows_after: int, kept: int, total: int
) -> dict[str, Any]:
    names = ["prices", "volumes"]
    if rebuild is not None and data:
        names += [_INPUT_NAMES[key] for key in data if key in _INPUT_NAMES]
    return {
        "perturbed_inputs": names,
        "rows_rerun_after_cut": rows_after,
        "symbols_probed": kept,
        "symbols": total,
    }


_INPUT_NAMES = {
    "benchmark": "benchmark",
    "earnings": "earnings",
    "universe": "membership",
    "membership": "membership",
}


def _decision_table(orders: pd.DataFrame, cut_date: pd.Timestamp) -> pd.DataFrame:
    kept = orders[pd.DatetimeIndex(orders["date"]) <= cut_date]
    columns = ["date", "symbol", "side", "quantity"]
    return kept[columns].reset_index(drop=True)


def _first_order_difference(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
    """The first order (in sequence) that differs between the two runs, described, or None.

    Compared column by column over every order at once: a pass compares thousands of equal
    orders, which row by row cost seconds on 515 symbols."""
    shared = min(len(before), len(after))
    left, right = before.iloc[:shared], after.iloc[:shared]
    same = np.ones(shared, dtype=bool)
    for column in ("date", "symbol", "side"):
        same &= left[column].to_numpy() == right[column].to_numpy()
    a = left["quantity"].to_numpy(dtype=np.float64)
    b = right["quantity"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):  # inf − inf: equal infinities are caught by a == b
        # math.isclose(a, b, rel_tol=…) with abs_tol=0
        same &= (a == b) | (np.abs(a - b) <= _QUANTITY_RTOL * np.maximum(np.abs(a), np.abs(b)))
    differs = np.flatnonzero(~same)
    if differs.size:
        i = int(differs[0])
        first, second = before.iloc[i], after.iloc[i]
        return (
            f"order #{i}: {first['date']:%Y-%m-%d} {first['side']} {first['quantity']:.6g} "
            f"{first['symbol']} became {second['side']} {second['quantity']:.6g} "
            f"{second['symbol']}"
        )
    if len(before) != len(after):
        extra = after.iloc[shared] if shared < len(after) else before.iloc[shared]
        return f"order #{shared} ({extra['date']:%Y-%m-%d} {extra['symbol']}) only in one run"
    return None


def _probe_data(panel: Panel, cut: int, seed: int, decisions: int) -> dict[str, Any]:
    return {
        "cut_date": _day(panel, cut),
        "decisions_compared": decisions,
        "perturbed_rows": len(panel.dates) - cut - 1,
        "factor_range": [PERTURB_LOW, PERTURB_HIGH],
        "seed": seed,
    }


def _skipped(reason: str) -> BiasCheck:
    return BiasCheck("lookahead", CheckStatus.WARN, f"look-ahead probe not run: {reason}")


def _day(panel: Panel, row: int) -> str:
    return str(pd.Timestamp(panel.dates[row]).date())


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# -- survivorship and corporate actions --------------------------------------------------------
MIN_MEMBER_COVERAGE = 0.90


def member_coverage_by_year(
    dates: np.ndarray, members: np.ndarray, present: np.ndarray
) -> dict[int, tuple[int, int]]:
    """Per calendar year: ``(members with data, members)``.

    ``members`` is the dates × symbols membership mask over *every* symbol that was ever in
    the index (stored or not); ``present`` is True where the symbol has a price. A member counts
    as "with data" when it has a price on some day of the year on which it was a member.
    """
    years = pd.DatetimeIndex(np.asarray(dates)).year.to_numpy()
    out: dict[int, tuple[int, int]] = {}
    for year in np.unique(years).tolist():
        rows = years == year
        was_member = members[rows].any(axis=0)
        with_data = (members[rows] & present[rows]).any(axis=0)
        out[int(year)] = (int(with_data.sum()), int(was_member.sum()))
    return out


def survivorship_check(
    universe: str,
    point_in_time: bool,
    index: str | None = None,
    coverage: Mapping[int, tuple[int, int]] | None = None,
    threshold: float = MIN_MEMBER_COVERAGE,
) -> BiasCheck:
    """``pass`` when the universe came from index membership by date *and* at least
    ``threshold`` (a fraction) of each year's members have prices; else ``warn``.

    ``coverage``: per year ``(members with data, members)`` (see
    :func:`member_coverage_by_year`). Members without prices are names the backtest could not
    hold: usually the ones that later failed or were acquired, so a low coverage brings the
    survivorship bias back even with a point-in-time membership list.
    """
    if not point_in_time:
        return BiasCheck(
            "survivorship",
            CheckStatus.WARN,
            f"static universe ({universe}): survivorship bias possible — symbols that left the "
            "market before the data ends may be missing",
            {"universe": universe, "point_in_time": False},
        )
    data: dict[str, Any] = {
        "universe": universe,
        "point_in_time": True,
        "index": index,
        "threshold": threshold,
    }
    if coverage:
        shares = {year: (n / total if total else 1.0) for year, (n, total) in coverage.items()}
        data["coverage_by_year"] = {
            str(year): {"with_data": n, "members": total, "coverage": round(shares[year], 4)}
            for year, (n, total) in sorted(coverage.items())
        }
        low = sorted(year for year, share in shares.items() if share < threshold)
        if low:
            worst = min(low, key=lambda year: shares[year])
            n, total = coverage[worst]
            data["years_below_threshold"] = low
            return BiasCheck(
                "survivorship",
                CheckStatus.WARN,
                f"point-in-time universe ({index}), but only {n} of its {total} members in "
                f"{worst} ({shares[worst]:.0%}) have prices; {len(low)} year(s) are below "
                f"{threshold:.0%} ({low[0]}–{low[-1]}): the missing members are often the ones "
                "that later failed, so results may be biased upwards",
                data,
            )
    return BiasCheck(
        "survivorship",
        CheckStatus.PASS,
        f"point-in-time universe: members of {index} on each date"
        + (f", at least {threshold:.0%} of each year's members have prices" if coverage else ""),
        data,
    )


def corporate_actions_check(panel: Panel, price_field: str) -> BiasCheck:
    """Which price field valued the holdings, and which symbols lack adjusted prices."""
    close = panel.fields.get("close")
    adjusted = panel.fields.get("adj_close")
    with_adjusted = _has_values(adjusted, panel.symbols)
    priced = _has_values(close, panel.symbols) | with_adjusted
    lacking = sorted(s for s in panel.symbols if s in priced and s not in with_adjusted)
    data: dict[str, Any] = {
        "price_field": price_field,
        "symbols": len(priced),
        "symbols_without_adjusted": len(lacking),
        "examples": lacking[:10],
    }
    if price_field == "close":
        return BiasCheck(
            "corporate_actions",
            CheckStatus.WARN,
            "valued with the unadjusted close: splits and dividends are not reflected in returns",
            data,
        )
    if lacking:
        return BiasCheck(
            "corporate_actions",
            CheckStatus.WARN,
            f"valued with adj_close, but {len(lacking)} symbol(s) have no adjusted prices and "
            f"cannot be valued or traded (e.g. {', '.join(lacking[:5])})",
            data,
        )
    return BiasCheck(
        "corporate_actions",
        CheckStatus.PASS,
        "valued with the adjusted close (splits and dividends applied) for every symbol",
        data,
    )


def _has_values(values: np.ndarray | None, symbols: Sequence[str]) -> set[str]:
    if values is None:
        return set()
    present = np.zeros(values.shape[1], dtype=bool)
    if len(values):
        # a column with a value on the last row needs no scan (most columns)
        present = np.isfinite(values[-1])
        rest = np.flatnonzero(~present)
        if len(rest):
            present[rest] = np.isfinite(values[:, rest]).any(axis=0)
    return {s for s, ok in zip(symbols, present.tolist(), strict=True) if ok}


__all__ = [
    "BiasCheck",
    "BiasReport",
    "CheckStatus",
    "allocation_decisions",
    "corporate_actions_check",
    "default_cut",
    "member_coverage_by_year",
    "perturb_after",
    "perturb_data",
    "probe_allocation",
    "probe_signal",
    "survivorship_check",
]
