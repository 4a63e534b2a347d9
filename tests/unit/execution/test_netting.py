"""Per-strategy sub-ledgers netted into one broker order flow (acceptance 4 of issue 8)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.core.clock import SimulatedClock
from quantdesk.core.enums import Side
from quantdesk.execution import Ledger, OrderManager, OrderStatus, PreTradeRejected
from quantdesk.execution.brokers.paper import PAPER_COSTS, PaperBroker
from quantdesk.execution.netting import Intent, NettingDesk

NOW = datetime(2024, 1, 8, 17, 0, tzinfo=UTC)
STRATEGIES = ("alpha", "beta", "gamma")
SYMBOLS = ("AAA", "BBB")


class Account:
    """One paper account shared by three strategies with $30k each."""

    def __init__(self) -> None:
        self.clock = SimulatedClock(NOW)
        self.broker = PaperBroker("acct", self.clock, cash=Decimal(90_000))
        self.sent: list[tuple[str, Side, Decimal]] = []
        submit = self.broker.submit

        def spy(order):  # type: ignore[no-untyped-def]
            self.sent.append((order.symbol, order.side, order.quantity))
            submit(order)

        self.broker.submit = spy  # type: ignore[method-assign]
        self.ledger = Ledger()
        for strategy in STRATEGIES:
            self.ledger.deposit("acct", Decimal(30_000), strategy)
        manager = OrderManager(self.broker, self.ledger, self.clock, prices=self.broker.last_price)
        self.desk = NettingDesk(
            manager, self.clock, prices=self.broker.last_price, costs=PAPER_COSTS
        )
        for symbol in SYMBOLS:
            self.broker.on_price(symbol, Decimal(100))

    def books(self) -> tuple[object, ...]:
        return tuple(
            (s, self.ledger.cash("acct", s), self.ledger.positions("acct", s)) for s in STRATEGIES
        )


def test_opposite_intents_cross_internally_and_only_the_net_reaches_the_broker() -> None:
    account = Account()
    account.desk.submit([Intent("alpha", "AAA", Side.BUY, 10)])
    account.sent.clear()
    result = account.desk.submit(
        [
            Intent("beta", "AAA", Side.BUY, 30),
            Intent("gamma", "AAA", Side.BUY, 10),
            Intent("alpha", "AAA", Side.SELL, 10),
        ]
    )
    # 40 wanted, 10 offered: 10 cross at 100 without costs, 30 go to the broker
    assert account.sent == [("AAA", Side.BUY, Decimal(30))]
    assert sum(f.quantity for f in result.crosses if f.side is Side.BUY) == Decimal(10)
    assert result.orders[0].status is OrderStatus.FILLED
    # beta wanted 30 of 40 and gets 30 shares in all; gamma 10 of 40
    assert account.ledger.position("acct", "beta", "AAA").quantity == Decimal(30)
    assert account.ledger.position("acct", "gamma", "AAA").quantity == Decimal(10)
    assert account.ledger.position("acct", "alpha", "AAA").quantity == Decimal(0)
    # the broker's $1 commission is split 3:1 between beta and gamma (what each got from it)
    assert account.ledger.commissions("acct", "beta") == Decimal("0.75")
    assert account.ledger.commissions("acct", "gamma") == Decimal("0.25")


def test_a_bad_intent_refuses_the_whole_batch_and_nothing_is_booked_or_sent() -> None:
    account = Account()
    before = account.books()
    with pytest.raises(PreTradeRejected, match="strategy 'beta' sells 5 BBB but holds 0"):
        account.desk.submit(
            [Intent("alpha", "AAA", Side.BUY, 1), Intent("beta", "BBB", Side.SELL, 5)]
        )
    with pytest.raises(PreTradeRejected, match="strategy 'gamma' needs"):
        account.desk.submit([Intent("gamma", "AAA", Side.BUY, 1000)])
    assert account.books() == before
    assert account.sent == []


intents = st.lists(
    st.tuples(
        st.sampled_from(STRATEGIES),
        st.sampled_from(SYMBOLS),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal(120), places=3),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60)
@given(
    batches=st.lists(
        st.tuples(intents, st.decimals(min_value=Decimal(50), max_value=Decimal(150), places=2)),
        min_size=1,
        max_size=6,
    )
)
def test_sub_ledgers_always_sum_to_the_account_and_every_fill_is_attributed(
    batches: list[tuple[list[tuple[str, str, Side, Decimal]], Decimal]],
) -> None:
    account = Account()
    broker, ledger = account.broker, account.ledger
    for wanted, price in batches:
        broker.on_price("AAA", price)
        before, sent_before = account.books(), len(account.sent)
        try:
            account.desk.submit([Intent(*w) for w in wanted])
        except PreTradeRejected:
            assert account.books() == before  # nothing booked
            assert len(account.sent) == sent_before  # nothing sent
            continue
        # internal crosses never reach the broker: one order per symbol, for the net only
        sent = account.sent[sent_before:]
        for symbol in SYMBOLS:
            net = sum(q * s.sign for _, sym, s, q in wanted if sym == symbol)
            orders = [(side, q) for sym, side, q in sent if sym == symbol]
            assert orders == ([] if net == 0 else [(Side.BUY if net > 0 else Side.SELL, abs(net))])
        # sum of sub-ledgers = account
        assert ledger.positions("acct") == dict(broker.positions())
        assert ledger.cash("acct") == broker.account().cash
    # every broker fill attributed in full (shares and commission)
    assert account.desk.broker_fills == list(broker.executions_since())
    for fill in account.desk.broker_fills:
        parts = [a for a in account.desk.attributions if a.fill_id.startswith(f"{fill.fill_id}/")]
        assert sum(p.quantity for p in parts) == fill.quantity
        assert sum(p.commission for p in parts) == fill.commission
