"""Builds the object graph: settings → database → services. Nothing here is global.

This is the one composition root. Each service is built (and its module imported) the first
time it is used, so a command pays only for the services it calls: ``quantdesk backtest`` does
not import the trading, reports and research services (their SQLAlchemy tables, pydantic
models and engines), ``data status`` not the backtest engines (issue 11).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from quantdesk.config import Settings
from quantdesk.core.clock import Clock, LiveClock

if TYPE_CHECKING:
    from quantdesk.db.database import Database
    from quantdesk.services.alerts import AlertService
    from quantdesk.services.backtest import BacktestService
    from quantdesk.services.data import DataService
    from quantdesk.services.data_status import DataStatusService
    from quantdesk.services.order_history import OrderHistoryService
    from quantdesk.services.portfolio_admin import PortfolioAdminService
    from quantdesk.services.portfolio_settings import PortfolioSettingsService
    from quantdesk.services.reference_data import ReferenceDataService
    from quantdesk.services.reports import ReportsService
    from quantdesk.services.research import ResearchService
    from quantdesk.services.risk import RiskService
    from quantdesk.services.trading import TradingService

T = TypeVar("T")


class Services:
    """Every application service, wired to one database and one clock, each built on first use.

    The wiring is fixed here (one instance per service for the life of the container); only
    the moment of construction is deferred.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        database: Database | None = None,
        *,
        panels_in_memory: int = 0,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._built: dict[str, object] = {}
        # the API's worker threads may ask for a service at once: each is built exactly once
        # (re-entrant: building trading builds research, reference and data first)
        self._lock = threading.RLock()
        self._panels_in_memory = panels_in_memory
        if database is not None:
            self._built["database"] = database

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return cast(T, self._built[name])

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def database(self) -> Database:
        def build() -> Database:
            from quantdesk.db.database import Database

            return Database(self.settings.resolved_database_url)

        return self._once("database", build)

    @property
    def data(self) -> DataService:
        def build() -> DataService:
            from quantdesk.data.panel_cache import PanelCache
            from quantdesk.services.data import DataService

            panels = PanelCache(
                self.settings.cache_dir / "panels", in_memory=self._panels_in_memory
            )
            return DataService(self.database, self.clock, panels)

        return self._once("data", build)

    @property
    def data_status(self) -> DataStatusService:
        """``data status`` alone: no pandas, panels or import code (see its module)."""

        def build() -> DataStatusService:
            from quantdesk.services.data_status import DataStatusService

            return DataStatusService(self.database, self.clock)

        return self._once("data_status", build)

    @property
    def reference(self) -> ReferenceDataService:
        def build() -> ReferenceDataService:
            from quantdesk.data.calendar_cache import ScheduleCache
            from quantdesk.services.reference_data import ReferenceDataService

            calendars = ScheduleCache(self.settings.cache_dir / "calendars")
            return ReferenceDataService(
                self.database, self.clock, self.settings, self.data, calendars=calendars
            )

        return self._once("reference", build)

    @property
    def research(self) -> ResearchService:
        def build() -> ResearchService:
            from quantdesk.services.research import ResearchService

            return ResearchService(self.database, self.clock, self.data, self.reference)

        return self._once("research", build)

    @property
    def backtest(self) -> BacktestService:
        def build() -> BacktestService:
            from quantdesk.services.backtest import BacktestService

            return BacktestService(self.database, self.clock, self.data, self.reference)

        return self._once("backtest", build)

    @property
    def trading(self) -> TradingService:
        def build() -> TradingService:
            from quantdesk.services.trading import TradingService

            return TradingService(
                self.database,
                self.clock,
                self.data,
                research=self.research,
                reference=self.reference,
                backtest=self.backtest,
                alerts=self.alerts,
            )

        return self._once("trading", build)

    @property
    def reports(self) -> ReportsService:
        def build() -> ReportsService:
            from quantdesk.services.reports import ReportsService

            return ReportsService(
                self.database, self.clock, self.data, self.backtest, self.trading, self.research
            )

        return self._once("reports", build)

    @property
    def alerts(self) -> AlertService:
        def build() -> AlertService:
            from quantdesk.services.alerts import AlertService

            return AlertService(self.database, self.clock)

        return self._once("alerts", build)

    @property
    def order_history(self) -> OrderHistoryService:
        def build() -> OrderHistoryService:
            from quantdesk.services.order_history import OrderHistoryService

            return OrderHistoryService(self.database)

        return self._once("order_history", build)

    @property
    def portfolio_admin(self) -> PortfolioAdminService:
        def build() -> PortfolioAdminService:
            from quantdesk.services.portfolio_admin import PortfolioAdminService

            return PortfolioAdminService(self.database, self.clock, self.trading)

        return self._once("portfolio_admin", build)

    @property
    def portfolio_settings(self) -> PortfolioSettingsService:
        def build() -> PortfolioSettingsService:
            from quantdesk.services.portfolio_settings import PortfolioSettingsService

            return PortfolioSettingsService(self.database, self.clock)

        return self._once("portfolio_settings", build)

    @property
    def risk(self) -> RiskService:
        def build() -> RiskService:
            from quantdesk.services.risk import RiskService

            return RiskService(self.data, self.trading, lambda: self.reports)

        return self._once("risk", build)

    def close(self) -> None:
        """Dispose of the database's connections (nothing to do when no service touched it)."""
        with self._lock:
            built = "database" in self._built
        if built:
            self.database.dispose()


def build_services(
    settings: Settings | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
    *,
    panels_in_memory: int = 0,
) -> Services:
    """Wire the services. The database schema is created or upgraded on first use.

    ``panels_in_memory``: loaded panels kept in memory besides the on-disk cache (a server's
    repeated runs then read no file; a one-shot command keeps none, so its memory is unchanged).
    """
    settings = settings if settings is not None else Settings()
    clock = clock if clock is not None else LiveClock()
    return Services(settings, clock, database, panels_in_memory=panels_in_memory)
