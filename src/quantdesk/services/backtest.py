"""The backtest service: runs, stored results, comparison and optimisation (being written)."""

from __future__ import annotations

from quantdesk.core.clock import Clock
from quantdesk.db.database import Database
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService


class BacktestService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        data: DataService,
        reference: ReferenceDataService,
    ) -> None:
        self._db = database
        self._clock = clock
        self._data = data
        self._reference = reference
