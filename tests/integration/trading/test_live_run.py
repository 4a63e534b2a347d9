"""``trade run`` on the live clock: one decision per session at its decision time (21:00 UTC),
never twice, through the same runner as a replay. A simulated clock walks a few sessions of
the synthetic bars (AAA rises every day: a 2/5-bar crossover turns long on 8 January)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from quantdesk.core.clock import SimulatedClock
from quantdesk.services import Services
from quantdesk.services.trading_live import LiveStep
from quantdesk.services.trading_types import TradingError

PARAMS = {"fast": 2, "slow": 5}


def _at(clock: SimulatedClock, iso: str) -> None:
    clock.advance_to(datetime.fromisoformat(iso).replace(tzinfo=UTC))


def test_a_signal_strategy_acts_once_per_session_at_its_decision_time(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("live", Decimal(10_000), strategy="ma-crossover")

    def step() -> LiveStep:
        return trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")

    _at(clock, "2024-01-05T22:00")  # Friday after its decision time
    friday = step()
    assert (friday.session, friday.orders) == (date(2024, 1, 5), 0)  # slow SMA not ready
    assert friday.next_decision == datetime(2024, 1, 8, 21, 0, tzinfo=UTC)
    assert step().session is None  # acted on already: nothing twice

    _at(clock, "2024-01-08T15:00")  # Monday before its decision time: Friday is still latest
    assert step().session is None

    _at(clock, "2024-01-08T21:00")
    monday = step()
    assert (monday.session, monday.orders) == (date(2024, 1, 8), 1)
    (order,) = trading.list_orders("live")
    assert (order.symbol, order.side, order.status) == ("AAA", "buy", "filled")
    # all the cash at Monday's close + 5 bp, $1 commission: the buy trimmed to the cash
    close = Decimal("100.4")  # AAA's close on 8 January (fixture: 100 × e^(0.001 × 4))
    assert order.average_fill_price == close * Decimal("1.0005")
    value = trading.value("live")
    assert Decimal(0) <= value.cash < Decimal("0.00001")
    assert value.positions[0].quantity == order.filled_quantity
    assert monday.equity == value.equity

    _at(clock, "2024-01-09T23:00")
    tuesday = step()
    assert (tuesday.session, tuesday.orders) == (date(2024, 1, 9), 0)  # long already
    assert [s.date for s in trading.history("live").snapshots] == [
        date(2024, 1, 5),
        date(2024, 1, 8),
        date(2024, 1, 9),
    ]


def test_a_session_without_its_bar_yet_is_left_for_later(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("live", Decimal(10_000), strategy="ma-crossover")
    _at(clock, "2024-07-01T21:30")  # the bars end on 28 June
    result = trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")
    assert result.session is None
    assert "no bar for 2024-07-01 yet" in result.note
    assert result.next_decision == datetime(2024, 7, 1, 21, 0, tzinfo=UTC)  # retry it
    assert trading.history("live").snapshots == ()


def test_a_step_trades_the_strategys_book_not_the_unallocated_one(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("live", Decimal(50_000))  # the unallocated book
    trading.deposit("live", Decimal(10_000), "ma-crossover")
    _at(clock, "2024-01-05T22:00")
    trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")
    _at(clock, "2024-01-08T21:00")
    monday = trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")
    assert monday.orders == 1
    (order,) = trading.list_orders("live")
    assert (order.strategy, order.symbol, order.status) == ("ma-crossover", "AAA", "filled")
    # the book's 10,000 bought AAA at Monday's close + 5 bp, after the $1 commission
    assert order.filled_quantity * order.average_fill_price == pytest.approx(9_999, abs=0.01)
    books = {b.strategy: b for b in trading.value("live").books}
    assert (books[""].cash, books[""].positions) == (Decimal(50_000), 0)
    assert books["ma-crossover"].positions == 1
    assert Decimal(0) <= books["ma-crossover"].cash < Decimal("0.01")


def test_a_step_on_an_unfunded_book_is_refused_and_writes_nothing(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("live", Decimal(50_000))  # nothing in ma-crossover's book
    _at(clock, "2024-01-08T21:00")
    with pytest.raises(TradingError) as refused:
        trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")
    assert str(refused.value) == (
        "book ma-crossover of portfolio 'live' has no cash or positions to trade: fund it with "
        "'quantdesk portfolio deposit live AMOUNT --strategy ma-crossover'"
    )
    assert trading.list_orders("live") == []
    assert trading.history("live").snapshots == ()
    with pytest.raises(TradingError, match="book ma-crossover of portfolio 'live' has no cash"):
        trading.run_strategy("live", "ma-crossover", date(2024, 2, 1), date(2024, 2, 9), PARAMS)
    assert trading.list_orders("live") == []


def test_a_step_whose_book_drifts_past_the_threshold_raises_one_drift_alert(
    trading_services: Services, clock: SimulatedClock
) -> None:
    from quantdesk.data.calendar import TradingCalendar
    from quantdesk.services.portfolio_settings import SettingsUpdate

    trading, alerts = trading_services.trading, trading_services.alerts
    trading.create_portfolio("live", Decimal(0))
    trading.deposit("live", Decimal(100_000), "momentum-12-1")
    trading_services.portfolio_settings.put("live", SettingsUpdate(drift_threshold=0.002))
    # monthly: AAA and CCC half each on 29 February; CCC then outgrows AAA by 0.1 % a day
    params = {"lookback": 10, "skip": 2, "top_fraction": 0.67, "frequency": "monthly"}
    raised: dict[date, int] = {}
    for stamp in TradingCalendar("XNYS").sessions(date(2024, 2, 29), date(2024, 3, 27)):
        day = stamp.date()
        _at(clock, f"{day}T21:00")
        step = trading.strategy_step("live", "momentum-12-1", params, "AAA,BBB,CCC")
        assert step.session == day
        raised[day] = alerts.list().total
    assert raised[date(2024, 2, 29)] == 0  # on target after the rebalance
    assert raised[date(2024, 3, 13)] == 0  # drift still under 0.2 %
    assert raised[date(2024, 3, 14)] == 1  # drift past 0.2 %
    assert raised[date(2024, 3, 27)] == 1  # still open: not raised again
    (alert,) = alerts.list().items
    assert (alert.kind, alert.portfolio, alert.acknowledged_at) == ("drift", "live", None)
    assert alert.message.startswith("live: AAA is 49.8% of equity against a target of 50.0% ")
    assert "(strategy:momentum-12-1); drift 0.2% is above the 0.2% threshold" in alert.message


def test_a_step_after_midnight_utc_is_dated_by_its_session_and_not_taken_twice(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("live", Decimal(10_000), strategy="ma-crossover")
    _at(clock, "2024-01-09T01:30")  # Tuesday early: Monday's session is the latest decided
    late = trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")
    assert (late.session, late.orders) == (date(2024, 1, 8), 1)
    assert [s.date for s in trading.history("live").snapshots] == [date(2024, 1, 8)]
    again = trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")
    assert again.session is None  # Monday was acted on already
    assert len(trading.list_orders("live")) == 1
