"""Portfolio administration: archiving a portfolio and switching its strategy books on and off.

**Archiving** is how a portfolio is deleted. Its ledger (orders, fills, cash flows,
snapshots, journal) is kept for audit and tax records; the portfolio disappears from lists,
pages and trading, and its name stays taken. A portfolio with open orders is refused (cancel
them first): an order still working at the broker could fill into a book nobody watches.

**Disabling a strategy** on a portfolio switches its book off: the book keeps its positions
and cash, strategy-driven rebalances (``rebalance --strategy``, the books rebalance) skip it
and ``trade run`` sends no order for it until it is enabled again. Manual orders and cash
flows still work, so a person can wind the book down by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from quantdesk.core.clock import Clock
from quantdesk.core.errors import ConflictError, InvalidRequestError, NotFoundError
from quantdesk.db.database import Database
from quantdesk.db.repositories import portfolio_admin as admin_repo
from quantdesk.db.repositories import trading as trading_repo

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from quantdesk.services.trading import TradingService

__all__ = [
    "ArchivedPortfolio",
    "PortfolioAdminService",
    "StrategyBook",
    "StrategyDisabledError",
    "disabled_message",
    "disabled_strategies",
    "ensure_enabled",
]


class StrategyDisabledError(ConflictError):
    """A strategy-driven trade on a book that is switched off."""


@dataclass(frozen=True, slots=True)
class ArchivedPortfolio:
    name: str
    archived_at: datetime


@dataclass(frozen=True, slots=True)
class StrategyBook:
    """A strategy's book in a portfolio; ``enabled`` False: strategy-driven trading skips it."""

    portfolio: str
    strategy: str
    enabled: bool


class PortfolioAdminService:
    def __init__(self, database: Database, clock: Clock, trading: TradingService) -> None:
        self._db = database
        self._clock = clock
        self._trading = trading

    def archive(self, name: str) -> ArchivedPortfolio:
        """Archive portfolio ``name`` (see the module doc); refused while it has open orders."""
        now = self._clock.now()
        with self._db.transaction() as connection:
            record = _record(connection, name)
            working = admin_repo.open_order_ids(connection, record.id)
            if working:
                shown = ", ".join(working[:5]) + (" …" if len(working) > 5 else "")
                raise ConflictError(
                    f"portfolio {name!r} has {len(working)} open order(s) ({shown}): cancel "
                    "them before deleting it"
                )
            admin_repo.archive(connection, record.id, now)
        return ArchivedPortfolio(name, now)

    def books(self, name: str) -> list[StrategyBook]:
        """The portfolio's strategy books (not the manual ``""`` book), by name."""
        with self._db.read() as connection:
            record = _record(connection, name)
            stored = admin_repo.books(connection, record.id)
        return [StrategyBook(name, b.strategy, b.enabled) for b in stored if b.strategy]

    def set_enabled(self, name: str, strategy: str, enabled: bool) -> StrategyBook:
        """Switch ``strategy``'s book of portfolio ``name`` on or off (created if missing)."""
        strategy = strategy.strip()
        if not strategy:
            raise InvalidRequestError("name a strategy (the manual book cannot be switched off)")
        self._trading.check_runnable(strategy)  # an unknown strategy is refused, named
        with self._db.transaction() as connection:
            record = _record(connection, name)
            admin_repo.set_enabled(connection, record.id, strategy, enabled, self._clock.now())
        return StrategyBook(name, strategy, enabled)


def ensure_enabled(database: Database, portfolio_id: int, name: str, strategy: str) -> None:
    """Raise :class:`StrategyDisabledError` when ``strategy``'s book is switched off."""
    if strategy in disabled_strategies(database, portfolio_id):
        raise StrategyDisabledError(disabled_message(name, strategy))


def disabled_strategies(database: Database, portfolio_id: int) -> set[str]:
    """The portfolio's switched-off strategy books."""
    with database.read() as connection:
        return admin_repo.disabled(connection, portfolio_id)


def disabled_message(name: str, strategy: str) -> str:
    """Why a strategy-driven step sent nothing, and how to change it."""
    return (
        f"strategy {strategy!r} is disabled on portfolio {name!r}: no orders sent (enable it "
        f"with 'quantdesk strategies enable {strategy} --portfolio {name}')"
    )


def _record(connection: Connection, name: str) -> trading_repo.PortfolioRecord:
    record = trading_repo.get_portfolio(connection, name)
    if record is None:
        raise NotFoundError(f"unknown portfolio {name!r}")
    return record
