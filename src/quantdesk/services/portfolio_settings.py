"""Risk parameters and schedule of a portfolio, stored and typed; each one is read by the code
it names, so changing it changes what happens:

- ``drift_threshold`` (fraction of equity): a rebalance check (``drift``, a rebalance preview)
  whose largest |current − target| weight exceeds it raises a ``drift`` alert. ``None``: no
  drift alerts.
- ``min_trade_value`` (currency): the pre-trade check refuses orders worth less
  (:class:`quantdesk.execution.risk.BasicRiskChecks`). ``None``: no minimum.
- ``decision_time`` (UTC, ``HH:MM``): when ``trade run`` decides on a session
  (:mod:`quantdesk.services.trading_live`); ``None``: 21:00 UTC, after the New York close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection

from quantdesk.core.clock import Clock
from quantdesk.core.errors import InvalidRequestError, NotFoundError
from quantdesk.db.database import Database
from quantdesk.db.repositories import portfolio_settings as settings_repo
from quantdesk.db.repositories import trading as trading_repo

__all__ = [
    "DEFAULT_DECISION_TIME",
    "PortfolioSettingsService",
    "PortfolioSettingsView",
    "SettingsUpdate",
    "parse_decision_time",
    "stored_settings",
]

DEFAULT_DECISION_TIME = time(21, 0)
MAX_TRADE_VALUE = Decimal(10) ** 12  # a minimum above a trillion is a typo, not a policy


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    """New values of every setting (``None`` restores the default)."""

    drift_threshold: float | None = None
    min_trade_value: Decimal | None = None
    decision_time: time | None = None


@dataclass(frozen=True, slots=True)
class PortfolioSettingsView:
    portfolio: str
    drift_threshold: float | None
    min_trade_value: Decimal | None
    decision_time: time | None

    @property
    def effective_decision_time(self) -> time:
        return self.decision_time or DEFAULT_DECISION_TIME


class PortfolioSettingsService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def get(self, name: str) -> PortfolioSettingsView:
        with self._db.read() as connection:
            record = _record(connection, name)
            stored = settings_repo.get_settings(connection, record.id)
        return _view(name, stored)

    def put(self, name: str, update: SettingsUpdate) -> PortfolioSettingsView:
        """Replace the portfolio's settings; a bad value is refused naming its field."""
        _validate(update)
        stored = settings_repo.StoredSettings(
            drift_threshold=update.drift_threshold,
            min_trade_value=update.min_trade_value,
            decision_time=(
                None if update.decision_time is None else update.decision_time.strftime("%H:%M")
            ),
        )
        with self._db.transaction() as connection:
            record = _record(connection, name)
            settings_repo.put_settings(connection, record.id, stored, self._clock.now())
        return _view(name, stored)


def stored_settings(database: Database, portfolio_id: int, name: str) -> PortfolioSettingsView:
    """The settings of a portfolio the caller already resolved (the trading services)."""
    with database.read() as connection:
        return _view(name, settings_repo.get_settings(connection, portfolio_id))


def parse_decision_time(text: str) -> time:
    """``HH:MM`` (UTC) → a time; anything else is refused naming the field."""
    try:
        hours, minutes = text.strip().split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidRequestError(
            f"decision_time: {text!r} is not a time of day as HH:MM (UTC)"
        ) from None


def _validate(update: SettingsUpdate) -> None:
    threshold = update.drift_threshold
    if threshold is not None and not (math.isfinite(threshold) and 0 < threshold <= 1):
        raise InvalidRequestError(
            f"drift_threshold: {threshold} is not a fraction of equity in (0, 1]"
        )
    value = update.min_trade_value
    if value is not None:
        try:
            bad = not value.is_finite() or value < 0
        except InvalidOperation:
            bad = True
        if bad or value > MAX_TRADE_VALUE:
            raise InvalidRequestError(
                f"min_trade_value: {value} is not an amount from 0 to {MAX_TRADE_VALUE:,}"
            )
    moment = update.decision_time
    if moment is not None and (moment.tzinfo is not None or moment.second or moment.microsecond):
        raise InvalidRequestError(f"decision_time: {moment} must be HH:MM (UTC)")


def _view(name: str, stored: settings_repo.StoredSettings) -> PortfolioSettingsView:
    return PortfolioSettingsView(
        portfolio=name,
        drift_threshold=stored.drift_threshold,
        min_trade_value=stored.min_trade_value,
        decision_time=(
            None if stored.decision_time is None else parse_decision_time(stored.decision_time)
        ),
    )


def _record(connection: Connection, name: str) -> trading_repo.PortfolioRecord:
    record = trading_repo.get_portfolio(connection, name)
    if record is None:
        raise NotFoundError(f"unknown portfolio {name!r}")
    return record
