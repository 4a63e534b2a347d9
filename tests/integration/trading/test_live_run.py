"""``trade run`` on the live clock: one decision per session at its decision time (21:00 UTC),
never twice, through the same runner as a replay. A simulated clock walks a few sessions of
the synthetic bars (AAA rises every day: a 2/5-bar crossover turns long on 8 January)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from quantdesk.core.clock import SimulatedClock
from quantdesk.services import Services
from quantdesk.services.trading_live import LiveStep

PARAMS = {"fast": 2, "slow": 5}


def _at(clock: SimulatedClock, iso: str) -> None:
    clock.advance_to(datetime.fromisoformat(iso).replace(tzinfo=UTC))


def test_a_signal_strategy_acts_once_per_session_at_its_decision_time(
    trading_services: Services, clock: SimulatedClock
) -> None:
    trading = trading_services.trading
    trading.create_portfolio("live", Decimal(10_000))

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
    trading.create_portfolio("live", Decimal(10_000))
    _at(clock, "2024-07-01T21:30")  # the bars end on 28 June
    result = trading.strategy_step("live", "ma-crossover", PARAMS, "AAA")
    assert result.session is None
    assert "no bar for 2024-07-01 yet" in result.note
    assert result.next_decision == datetime(2024, 7, 1, 21, 0, tzinfo=UTC)  # retry it
    assert trading.history("live").snapshots == ()
