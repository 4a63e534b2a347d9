"""Typed identifiers shared by every layer.

They are ``NewType`` strings: free at run time (a backtest creates millions of them) while mypy
keeps an instrument from being passed where an account is expected. Client order ids are
deterministic: derived from the account and a sequence number the caller persists, so a restarted
process that resumes from the stored sequence never reuses an id.
"""

from __future__ import annotations

from typing import NewType

from quantdesk.core.errors import QuantdeskError

InstrumentId = NewType("InstrumentId", str)
"""A tradable instrument, today its symbol (``"AAPL"``)."""

StrategyId = NewType("StrategyId", str)
"""A strategy instance trading inside an account (its registered name or a user label)."""

AccountId = NewType("AccountId", str)
"""A broker account (a paper portfolio or a live account)."""

ClientOrderId = NewType("ClientOrderId", str)
"""Our id for an order, unique per account (see :class:`ClientOrderIds`)."""

VenueOrderId = NewType("VenueOrderId", str)
"""The broker's id for an order, known once the broker accepted it."""

ExecutionId = NewType("ExecutionId", str)
"""The broker's id for one execution (fill); re-delivered executions are recognised by it."""


class InvalidIdError(QuantdeskError, ValueError):
    """An id is empty or contains characters ids may not hold."""


def _check(kind: str, value: str) -> str:
    if not value or not value.strip() or any(c.isspace() for c in value):
        raise InvalidIdError(f"{kind} id must be a non-empty string without spaces, got {value!r}")
    return value


def instrument_id(value: str) -> InstrumentId:
    return InstrumentId(_check("instrument", value))


def strategy_id(value: str) -> StrategyId:
    return StrategyId(_check("strategy", value))


def account_id(value: str) -> AccountId:
    return AccountId(_check("account", value))


def client_order_id(account: AccountId, sequence: int) -> ClientOrderId:
    """The client order id of order number ``sequence`` (≥ 1) in ``account``."""
    if sequence < 1:
        raise InvalidIdError(f"order sequence must be >= 1, got {sequence}")
    return ClientOrderId(f"{_check('account', account)}-{sequence}")


class ClientOrderIds:
    """Deterministic client order ids ``f"{prefix}-{seq}"`` (seq from ``last + 1``).

    ``prefix`` is the account (or, in a backtest, the strategy name, so two runs produce the same
    ids). ``last`` is the highest sequence already used — persisted by the caller — so ids stay
    unique across restarts. :attr:`last` is the value to store after issuing ids.
    """

    __slots__ = ("_seq", "prefix")

    def __init__(self, prefix: str, last: int = 0) -> None:
        if not prefix:
            raise InvalidIdError("client order id prefix must not be empty")
        if last < 0:
            raise InvalidIdError(f"last order sequence must be >= 0, got {last}")
        self.prefix = prefix
        self._seq = last

    @property
    def last(self) -> int:
        """The highest sequence issued so far (persist it to resume after a restart)."""
        return self._seq

    def next(self) -> ClientOrderId:
        self._seq += 1
        return ClientOrderId(f"{self.prefix}-{self._seq}")


__all__ = [
    "AccountId",
    "ClientOrderId",
    "ClientOrderIds",
    "ExecutionId",
    "InstrumentId",
    "InvalidIdError",
    "StrategyId",
    "VenueOrderId",
    "account_id",
    "client_order_id",
    "instrument_id",
    "strategy_id",
]
