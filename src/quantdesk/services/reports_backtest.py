"""The report model of a stored backtest run over a period (see :mod:`services.reports`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from quantdesk.analytics.attribution import (
    TradeFlow,
    position_attribution,
    sector_attribution,
)
from quantdesk.analytics.tca import BASIS_POINTS, OrderPrices, TcaGrouping, analyse
from quantdesk.analytics.trades import TradeStatistics, trade_statistics
from quantdesk.reports.model import Column, Report, SubjectKind, Table
from quantdesk.reports.performance import performance
from quantdesk.reports.period import ReportPeriod
from quantdesk.reports.sections import (
    Holding,
    TradeLine,
    position_attribution_table,
    positions_table,
    sector_attribution_table,
    tca_table,
    trades_table,
)
from quantdesk.services import reports_inputs as inputs
from quantdesk.services.backtest_records import StoredRun
from quantdesk.services.data import DataService
from quantdesk.services.research import ResearchService


def backtest_report(
    run: StoredRun,
    period: ReportPeriod,
    data: DataService,
    research: ResearchService,
    generated_at: datetime,
) -> Report:
    """Everything a backtest report shows for ``run`` over ``period`` (clipped to the run)."""
    period = period.clipped(run.start, run.end)
    first, last = period.bounds
    series = run.series
    index = pd.DatetimeIndex(series.index)
    bench_prices = series["benchmark"].astype("float64")
    benchmark: pd.Series | None = bench_prices if bench_prices.notna().sum() > 2 else None
    fills = run.fills.copy()
    fills["date"] = pd.DatetimeIndex(fills["date"]).normalize()
    in_period = fills[
        (fills["date"] >= pd.Timestamp(first)) & (fills["date"] <= pd.Timestamp(last))
    ]
    start_day = _base_day(index, first)
    end_day = index[index <= pd.Timestamp(last)][-1].date()
    start_quantities = _quantities(fills, before=first)
    end_quantities = _quantities(fills, before=end_day + pd.Timedelta(days=1))
    symbols = set(start_quantities) | set(end_quantities) | set(in_period["symbol"])
    universe = (
        set(fills["symbol"]) | set(run.weights["symbol"])
        if len(run.weights)
        else set(fills["symbol"])
    )
    prices = inputs.price_frame(
        data, universe | symbols, run.price_field, inputs.lookback_start(first), end_day
    )
    sector_of = inputs.sectors(data, symbols)
    notes = [*run.warnings]

    trades = _round_trips(run, period)
    performance_part = performance(
        name=run.strategy,
        equity=series["equity"].astype("float64"),
        returns=series["returns"].astype("float64"),
        period=period,
        benchmark_prices=benchmark,
        benchmark_name=run.benchmark,
        trades=trades[0],
        inception_trades=trades[1],
    )
    start_equity = (
        float(series["equity"].loc[pd.Timestamp(start_day)]) if start_day else run.initial_cash
    )
    end_equity = float(series["equity"].loc[pd.Timestamp(end_day)])
    attribution = None
    tables: list[Table] = []
    rows = _fills(in_period)
    try:
        attribution = position_attribution(
            start_quantities,
            end_quantities,
            inputs.prices_at(prices, start_day) if start_day else {},
            inputs.prices_at(prices, end_day),
            [TradeFlow(f.symbol, inputs.signed(f.side, f.quantity), f.price) for f in rows],
            start_equity,
            end_equity,
            period_return=float(np.prod(1.0 + performance_part.period_returns.to_numpy())) - 1.0,
            costs=sum(f.commission for f in rows),
        )
    except ValueError as error:
        notes.append(f"attribution by position left out: {error}")
    end_prices = inputs.prices_at(prices, end_day)
    holdings = [
        Holding(
            s,
            q,
            end_prices.get(s, math.nan),
            q * end_prices.get(s, math.nan),
            q * end_prices.get(s, math.nan) / end_equity,
        )
        for s, q in end_quantities.items()
    ]
    tables.append(positions_table(holdings, attribution, sector_of, end_day))
    lines = _trade_lines(rows, prices)
    tables.append(trades_table(lines, f"the day's {run.price_field} (the engine's fill reference)"))
    if lines:
        tables.append(
            tca_table(
                analyse(
                    [
                        OrderPrices(
                            f"{t.symbol}-{n}",
                            t.symbol,
                            run.strategy,
                            t.side,
                            t.quantity,
                            datetime(t.day.year, t.day.month, t.day.day),
                            t.reference_price,
                            t.reference_price,
                            t.price,
                        )
                        for n, t in enumerate(lines)
                    ],
                    # by month over a year or less; by symbol over longer periods (fewer rows)
                    by=TcaGrouping.MONTH if (last - first).days <= 400 else TcaGrouping.SYMBOL,
                )
            )
        )
    if attribution is not None:
        tables.append(position_attribution_table(attribution))
        tables.append(sector_attribution_table(sector_attribution(attribution, sector_of)))
    factor_table = inputs.factor_table(
        performance_part.period_returns, prices, benchmark, research, end_day, notes
    )
    if factor_table is not None:
        tables.append(factor_table)
    tables.append(_bias_table(run))
    notes.append(
        "Metrics follow quantstats: daily simple returns, 252 trading days a year, sample "
        "standard deviation, no risk-free rate. Win rate and profit factor count days; the "
        "closed-trade win rate counts round trips that ended in the period."
    )
    return Report(
        title=f"Backtest report — {run.strategy}",
        subject_kind=SubjectKind.BACKTEST,
        subject=f"{run.strategy} (run {run.run_id[:12]}, {run.engine} engine, "
        f"universe {run.universe or 'n/a'}, benchmark {run.benchmark or 'none'})",
        period=period,
        generated_at=generated_at,
        data_as_of=run.end,
        currency="USD",
        metrics=performance_part.metrics,
        equity=performance_part.equity,
        drawdown=performance_part.drawdown,
        monthly_returns=performance_part.monthly,
        tables=tuple(tables),
        parameters=_parameters(run),
        notes=tuple(notes),
        extra={"run_id": run.run_id, "attribution": attribution},
    )


def _base_day(index: pd.DatetimeIndex, start: date) -> date | None:
    """The last session before the period: its close is the period's starting point
    (``None`` when the period starts with the run, from the initial cash)."""
    before = index[index < pd.Timestamp(start)]
    return before[-1].date() if len(before) else None


def _quantities(fills: pd.DataFrame, before: date | pd.Timestamp) -> dict[str, float]:
    done = fills[fills["date"] < pd.Timestamp(before)]
    if done.empty:
        return {}
    sign = np.where(done["side"].astype(str).str.lower() == "buy", 1.0, -1.0)
    totals = (
        pd.Series(sign * done["quantity"].to_numpy(dtype=np.float64))
        .groupby(done["symbol"].to_numpy())
        .sum()
    )
    return inputs.nonzero({str(s): float(q) for s, q in totals.items()})


@dataclass(frozen=True, slots=True)
class _Fill:
    day: date
    symbol: str
    side: str
    quantity: float
    price: float
    commission: float


def _fills(frame: pd.DataFrame) -> list[_Fill]:
    columns = zip(
        pd.DatetimeIndex(frame["date"]).date.tolist(),
        frame["symbol"].astype(str).tolist(),
        frame["side"].astype(str).str.lower().tolist(),
        frame["quantity"].to_numpy(dtype=np.float64).tolist(),
        frame["price"].to_numpy(dtype=np.float64).tolist(),
        frame["commission"].to_numpy(dtype=np.float64).tolist(),
        strict=True,
    )
    return [_Fill(*values) for values in columns]


def _trade_lines(fills: list[_Fill], prices: pd.DataFrame) -> list[TradeLine]:
    """Each fill with its reference price (the day's valuation price) and slippage in bp."""
    lines = []
    for fill in fills:
        reference = _price_on(prices, fill.symbol, fill.day)
        sign = 1.0 if fill.side == "buy" else -1.0
        slippage = (
            None
            if reference is None
            else sign * (fill.price - reference) / reference * BASIS_POINTS
        )
        lines.append(
            TradeLine(
                fill.day,
                fill.symbol,
                fill.side,
                fill.quantity,
                fill.price,
                reference,
                slippage,
                fill.commission,
            )
        )
    return lines


def _price_on(prices: pd.DataFrame, symbol: str, day: date) -> float | None:
    stamp = pd.Timestamp(day)
    if prices.empty or symbol not in prices.columns or stamp not in prices.index:
        return None
    value = float(prices[symbol].to_numpy(dtype=np.float64)[prices.index.get_loc(stamp)])
    return value if math.isfinite(value) and value > 0 else None


def _round_trips(run: StoredRun, period: ReportPeriod) -> tuple[TradeStatistics, TradeStatistics]:
    trades = run.trades
    if trades.empty or "exit_date" not in trades:
        empty = trade_statistics([])
        return empty, empty
    exits = pd.DatetimeIndex(trades["exit_date"])
    closed = trades[exits.notna()]
    exits = pd.DatetimeIndex(closed["exit_date"])
    first, last = period.bounds
    end = pd.Timestamp(last)
    in_period = closed[(exits >= pd.Timestamp(first)) & (exits <= end)]
    to_end = closed[exits <= end]
    return (
        trade_statistics(in_period["pnl"].to_numpy(dtype=np.float64)),
        trade_statistics(to_end["pnl"].to_numpy(dtype=np.float64)),
    )


def _bias_table(run: StoredRun) -> Table:
    checks = run.bias.to_dict().get("checks", {})
    rows = [
        (name, check.get("status", ""), check.get("detail", "")) for name, check in checks.items()
    ]
    columns = (Column("check", "Check"), Column("status", "Status"), Column("detail", "Detail"))
    status = run.bias.to_dict().get("status", "n/a")
    return Table.of("bias_checks", f"Bias checks (overall: {status})", columns, rows)


def _parameters(run: StoredRun) -> tuple[tuple[str, str], ...]:
    items: list[tuple[str, str]] = [
        ("run id", run.run_id),
        ("strategy", run.strategy),
        ("engine", run.engine),
        ("universe", str(run.universe)),
        ("benchmark", str(run.benchmark)),
        ("run dates", f"{run.start} to {run.end}"),
        ("price field", run.price_field),
        ("initial cash", f"{run.initial_cash:,.2f}"),
        ("created at", run.created_at.isoformat()),
    ]
    items.extend((f"param {k}", json.dumps(v, default=str)) for k, v in sorted(run.params.items()))
    items.extend((f"cost {k}", json.dumps(v, default=str)) for k, v in sorted(run.costs.items()))
    snapshot = run.config.get("data_snapshot")
    if snapshot:
        items.append(("data snapshot", str(snapshot)))
    return tuple(items)


__all__ = ["backtest_report"]
