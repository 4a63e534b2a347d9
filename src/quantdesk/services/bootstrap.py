"""Builds the object graph: settings → database → services. Nothing here is global."""

from __future__ import annotations

from dataclasses import dataclass

from quantdesk.config import Settings
from quantdesk.core.clock import Clock, LiveClock
from quantdesk.data.panel_cache import PanelCache
from quantdesk.db.database import Database
from quantdesk.services.alerts import AlertService
from quantdesk.services.backtest import BacktestService
from quantdesk.services.data import DataService
from quantdesk.services.order_history import OrderHistoryService
from quantdesk.services.portfolio_admin import PortfolioAdminService
from quantdesk.services.portfolio_settings import PortfolioSettingsService
from quantdesk.services.reference_data import ReferenceDataService
from quantdesk.services.reports import ReportsService
from quantdesk.services.research import ResearchService
from quantdesk.services.trading import TradingService


@dataclass(frozen=True)
class Services:
    """Every application service, wired to one database and one clock."""

    settings: Settings
    clock: Clock
    database: Database
    data: DataService
    reference: ReferenceDataService
    research: ResearchService
    backtest: BacktestService
    trading: TradingService
    reports: ReportsService
    order_history: OrderHistoryService
    portfolio_admin: PortfolioAdminService
    alerts: AlertService
    portfolio_settings: PortfolioSettingsService

    def close(self) -> None:
        self.database.dispose()


def build_services(
    settings: Settings | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
) -> Services:
    """Wire the services. The database schema is created or upgraded on first use."""
    settings = settings if settings is not None else Settings()
    clock = clock if clock is not None else LiveClock()
    database = database if database is not None else Database(settings.resolved_database_url)
    data = DataService(database, clock, PanelCache(settings.cache_dir / "panels"))
    reference = ReferenceDataService(database, clock, settings, data)
    research = ResearchService(database, clock, data, reference)
    backtest = BacktestService(database, clock, data, reference)
    alerts = AlertService(database, clock)
    trading = TradingService(
        database,
        clock,
        data,
        research=research,
        reference=reference,
        backtest=backtest,
        alerts=alerts,
    )
    return Services(
        settings=settings,
        clock=clock,
        database=database,
        data=data,
        reference=reference,
        research=research,
        backtest=backtest,
        trading=trading,
        reports=ReportsService(database, clock, data, backtest, trading, research),
        order_history=OrderHistoryService(database),
        portfolio_admin=PortfolioAdminService(database, clock, trading),
        alerts=alerts,
        portfolio_settings=PortfolioSettingsService(database, clock),
    )
