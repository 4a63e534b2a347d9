"""Manual trades, time-weighted history, journal, TCA on a replayed portfolio, --slippage-from."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from quantdesk.analytics.tca import TcaGrouping
from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.core.errors import DataValidationError, NotFoundError
from quantdesk.execution import CostModel
from quantdesk.services import Services
from quantdesk.services.trading_types import OrderSpec, TradingError


def _at(clock: SimulatedClock, day: str) -> None:
    clock.advance_to(datetime.fromisoformat(day).replace(hour=21, tzinfo=UTC))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2024-01-15,AAA,buy,1,100", "2024-01-15 is not a trading day"),  # MLK day
        ("2024-01-13,AAA,buy,1,100", "not a trading day"),  # a Saturday
        ("2024-01-16,ZZZ,buy,1,100", "unknown symbol 'ZZZ'"),
        ("2024-01-16,AAA,buy,0,100", "quantity must be a number > 0"),
        ("2024-01-16,AAA,buy,NaN,100", "quantity must be a number > 0"),
        ("2024-01-16,AAA,buy,1,-3", "price must be a number > 0"),
        ("2024-01-16,AAA,sell,1,100", "sells 1 shares but 0 are held"),
        ("2024-01-16,AAA,buy,1000,100", "only 9900 cash is available"),
        ("16/01/2024,AAA,buy,1,100", "not a date"),
        ("2024-01-16,AAA,hold,1,100", "side must be buy or sell"),
    ],
)
def test_a_bad_manual_trade_file_writes_nothing(
    trading_services: Services, tmp_path: Path, rows: str, message: str
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    path = tmp_path / "trades.csv"
    path.write_text(f"date,symbol,side,quantity,price\n2024-01-16,BBB,buy,2,50\n{rows}\n")
    with pytest.raises(DataValidationError, match=message) as caught:
        trading.import_trades("core", path)
    assert caught.value.problems[0].row == 3  # the header is line 1
    assert trading.list_orders("core") == []
    assert trading.positions("core") == []


def test_a_trade_file_without_its_columns_is_refused(
    trading_services: Services, tmp_path: Path
) -> None:
    trading_services.trading.create_portfolio("core", Decimal(10_000))
    path = tmp_path / "trades.csv"
    path.write_text("when,ticker\n2024-01-16,AAA\n")
    with pytest.raises(DataValidationError, match="missing column"):
        trading_services.trading.import_trades("core", path)


def test_manual_trades_are_recorded_with_cost_and_pnl(
    trading_services: Services, tmp_path: Path
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    path = tmp_path / "trades.csv"
    path.write_text(
        "date,symbol,side,quantity,price\n2024-01-02,AAA,buy,10,100\n2024-01-02,AAA,sell,4,110\n"
    )
    orders = trading.import_trades("core", path)
    assert [o.status for o in orders] == ["filled", "filled"]
    (position,) = trading.positions("core")
    assert (position.quantity, position.average_cost, position.realised_pnl) == (
        Decimal(6),
        Decimal(100),
        Decimal(40),
    )
    assert trading.value("core").cash == Decimal(10_000) - Decimal(1000) + Decimal(440)
    assert trading.reconcile("core").clean


def test_history_is_time_weighted_so_deposits_are_not_returns(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    trading.snapshot("core")  # 2 Jan: 10,000 in cash
    _at(clock, "2024-01-03")
    trading.deposit("core", Decimal(5_000))
    trading.snapshot("core")  # 15,000, of which 5,000 deposited today: a 0 % day
    _at(clock, "2024-01-04")
    trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 10)])
    trading.snapshot("core")
    history = trading.history("core")
    assert [s.net_flows for s in history.snapshots] == [Decimal(10_000), Decimal(5_000), Decimal(0)]
    value = trading.value("core")
    # day 1 (inception): 10,000 / 10,000 deposited − 1 = 0; day 2: (15,000 − 5,000) / 10,000 − 1
    # = 0; day 3: equity / 15,000 − 1
    assert history.return_dates == (date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4))
    assert history.returns[:2] == (0.0, 0.0)
    assert history.returns[2] == pytest.approx(float(value.equity / Decimal(15_000) - 1))
    assert history.time_weighted_return == pytest.approx(
        math.prod(1 + r for r in history.returns) - 1
    )
    assert "sharpe_ratio" in history.metrics


def test_the_first_days_costs_count_against_the_money_deposited(
    trading_services: Services, clock: SimulatedClock
) -> None:
    """Regression: returns started at the first snapshot's close, so a trade's cost on the
    first day counted nowhere (a new portfolio showed 0 % after paying commission)."""
    trading = trading_services.trading
    trading.create_portfolio("fresh", Decimal(10_000))
    trading.submit_orders("fresh", [OrderSpec("AAA", Side.BUY, 10)])
    trading.snapshot("fresh")  # the first snapshot, after the day's trade
    _at(clock, "2024-01-03")
    trading.snapshot("fresh")
    history = trading.history("fresh")
    first = history.snapshots[0]
    assert history.return_dates[0] == first.date
    assert history.returns[0] == pytest.approx(float(first.equity / Decimal(10_000) - 1))
    assert history.returns[0] != 0.0  # the fill's cost and mark are in the first day
    # a window starting on the second day takes its first return from the day before it
    window = trading.history("fresh", start=history.snapshots[1].date)
    assert window.returns == history.returns[1:]


def test_journal_entries_link_to_orders_and_are_editable(trading_services: Services) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(10_000))
    (order,) = trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 1)])
    entry = trading.journal_add(
        "core",
        {"thesis": "leader", "exit_plan": "below the 200-day"},
        order.client_order_id,
    )
    edited = trading.journal_edit(entry.id, {"outcome": "+4 %", "lesson": "patience"})
    assert (edited.thesis, edited.outcome, edited.lesson) == ("leader", "+4 %", "patience")
    assert [e.id for e in trading.journal_list("core", order.client_order_id)] == [entry.id]
    with pytest.raises(NotFoundError, match="no order 'paper-core-99'"):
        trading.journal_add("core", {"thesis": "x"}, "paper-core-99")
    with pytest.raises(TradingError, match="unknown journal field"):
        trading.journal_edit(entry.id, {"mood": "good"})


def test_tca_of_a_replayed_portfolio_matches_the_hand_computed_slippage(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("core", Decimal(100_000))
    # a replay day by day on the simulated clock: orders at each day's close
    fills = []
    for day, spec in (
        ("2024-01-02", OrderSpec("AAA", Side.BUY, 10)),
        ("2024-01-03", OrderSpec("BBB", Side.BUY, 20)),
        ("2024-02-01", OrderSpec("AAA", Side.SELL, 4)),
    ):
        _at(clock, day)
        (order,) = trading.submit_orders("core", [spec])
        fills.append(order)
    report = trading.tca("core", TcaGrouping.MONTH)
    # by hand: each fill is its arrival close ± 5 bp (rounded to a millionth), so each cost is
    # (fill − arrival) / arrival × 10,000 against the side
    expected = [
        float((o.average_fill_price - o.arrival_price) / o.arrival_price)
        * 10_000
        * (1 if o.side == "buy" else -1)
        for o in fills
    ]
    assert all(abs(e - 5.0) < 1e-3 for e in expected)
    assert [o.slippage_bp for o in report.orders] == pytest.approx(expected)
    assert report.overall.mean_bp == pytest.approx(sum(expected) / 3)
    assert [(g.group, g.orders) for g in report.groups] == [("2024-01", 2), ("2024-02", 1)]
    base = CostModel(commission_per_order=1.0, slippage_bps=0.0)
    measured = trading.measured_costs("core", base)
    assert measured.slippage_bps == pytest.approx(report.overall.mean_bp)
    assert measured.commission_per_order == 1.0
    assert not math.isnan(report.overall.std_bp)


def test_a_snapshot_is_dated_by_the_session_of_its_prices_never_the_clocks_later_day(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    _at(clock, "2024-01-05")  # a Friday
    trading.create_portfolio("core", Decimal(10_000))
    trading.submit_orders("core", [OrderSpec("AAA", Side.BUY, 10)])
    friday = trading.snapshot("core")
    assert friday.date == date(2024, 1, 5)
    # Sunday, valued at Friday's closes: Friday's snapshot again (replaced), with the weekend's
    # deposit as a flow of it, not a return
    clock.advance_to(datetime(2024, 1, 7, 15, 0, tzinfo=UTC))
    trading.deposit("core", Decimal(1_000))
    sunday = trading.snapshot("core")
    assert (sunday.date, sunday.net_flows) == (date(2024, 1, 5), Decimal(11_000))
    assert [s.date for s in trading.history("core").snapshots] == [date(2024, 1, 5)]
    _at(clock, "2024-01-08")
    monday = trading.snapshot("core")
    assert (monday.date, monday.net_flows) == (date(2024, 1, 8), Decimal(0))
    assert trading.history("core").returns[-1] == pytest.approx(
        float(monday.equity / sunday.equity - 1)
    )
    # the bars end on Friday 28 June: a snapshot in 2026 is dated then
    clock.advance_to(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    late = trading.snapshot("core")
    assert late.date == date(2024, 6, 28)
    assert late.equity == trading.value("core").equity


def test_a_cash_only_snapshot_is_dated_by_the_latest_session_with_bars(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    clock.advance_to(datetime(2024, 1, 7, 15, 0, tzinfo=UTC))  # Sunday, bars until June
    trading.create_portfolio("cash", Decimal(10_000))
    assert trading.snapshot("cash").date == date(2024, 1, 5)
    clock.advance_to(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    assert trading.snapshot("cash").date == date(2024, 6, 28)
