"""Builds the object graph: settings → database → services. Nothing here is global.

This is the one composition root. Each service is built (and its module imported) the first
time it is used, so a command pays only for the services it calls: ``quantdesk backtest`` does
not import the trading, reports and research services (their SQLAlchemy tables, pydantic
models and engines), ``data status`` not the backtest engines (issue 11).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from quantdesk.config import Settings
from quantdesk.core.clock import Clock, LiveClock

if TYPE_CHECKING:
    from quantdesk.db.database import Database
    from quantdesk.services.backtest import BacktestService
    from quantdesk.services.data import DataService
    from quantdesk.services.reference_data import ReferenceDataService
    from quantdesk.services.reports import ReportsService
    from quantdesk.services.research import ResearchService
    from quantdesk.services.trading import TradingService


class Services:
    """Every application service, wired to one database and one clock, each built on first use.

    The wiring is fixed here (one instance per service for the life of the container); only
    the moment of construction is deferred.
    """

    def __init__(self, settings: Settings, clock: Clock, database: Database | None = None) -> None:
        self._settings = settings
        self._clock = clock
        if database is not None:
            self.__dict__["database"] = database

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def clock(self) -> Clock:
        return self._clock

    @cached_property
    def database(self) -> Database:
        from quantdesk.db.database import Database

        return Database(self.settings.resolved_database_url)

    @cached_property
    def data(self) -> DataService:
        from quantdesk.data.panel_cache import PanelCache
        from quantdesk.services.data import DataService

        return DataService(
            self.database, self.clock, PanelCache(self.settings.cache_dir / "panels")
        )

    @cached_property
    def reference(self) -> ReferenceDataService:
        from quantdesk.services.reference_data import ReferenceDataService

        return ReferenceDataService(self.database, self.clock, self.settings, self.data)

    @cached_property
    def research(self) -> ResearchService:
        from quantdesk.services.research import ResearchService

        return ResearchService(self.database, self.clock, self.data, self.reference)

    @cached_property
    def backtest(self) -> BacktestService:
        from quantdesk.services.backtest import BacktestService

        return BacktestService(self.database, self.clock, self.data, self.reference)

    @cached_property
    def trading(self) -> TradingService:
        from quantdesk.services.trading import TradingService

        return TradingService(
            self.database,
            self.clock,
            self.data,
            research=self.research,
            reference=self.reference,
            backtest=self.backtest,
        )

    @cached_property
    def reports(self) -> ReportsService:
        from quantdesk.services.reports import ReportsService

        return ReportsService(
            self.database, self.clock, self.data, self.backtest, self.trading, self.research
        )

    def close(self) -> None:
        """Dispose of the database's connections (nothing to do when no service touched it)."""
        database = self.__dict__.get("database")
        if database is not None:
            database.dispose()


def build_services(
    settings: Settings | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
) -> Services:
    """Wire the services. The database schema is created or upgraded on first use."""
    settings = settings if settings is not None else Settings()
    clock = clock if clock is not None else LiveClock()
    return Services(settings, clock, database)
