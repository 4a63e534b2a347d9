"""Bodies of the alert and portfolio settings routes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.services.alerts import AlertView
from quantdesk.services.portfolio_settings import PortfolioSettingsView


class Alert(BaseModel):
    id: int
    portfolio: str | None
    kind: str
    severity: str
    message: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @classmethod
    def of(cls, view: AlertView) -> Alert:
        return cls(
            id=view.id,
            portfolio=view.portfolio,
            kind=view.kind,
            severity=view.severity,
            message=view.message,
            created_at=view.created_at,
            acknowledged_at=view.acknowledged_at,
            acknowledged_by=view.acknowledged_by,
        )


class PortfolioSettingsIn(BaseModel):
    """Every setting of a portfolio (``null`` restores the default)."""

    model_config = ConfigDict(extra="forbid")

    drift_threshold: Annotated[
        float | None,
        Field(
            gt=0,
            le=1,
            allow_inf_nan=False,
            description="Largest |current − target| weight (fraction of equity) a rebalance "
            "check tolerates before a drift alert; null: no drift alerts.",
        ),
    ] = None
    min_trade_value: Annotated[
        Decimal | None,
        Field(
            ge=0,
            max_digits=28,
            decimal_places=10,
            allow_inf_nan=False,
            description="Orders worth less (currency) are refused by the pre-trade check; "
            "null: no minimum.",
        ),
    ] = None
    decision_time: Annotated[
        str | None,
        Field(
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
            description="When 'trade run' decides on a session, HH:MM UTC; null: 21:00.",
        ),
    ] = None


class PortfolioSettings(BaseModel):
    portfolio: str
    drift_threshold: float | None
    min_trade_value: Decimal | None
    decision_time: str | None
    effective_decision_time: str

    @classmethod
    def of(cls, view: PortfolioSettingsView) -> PortfolioSettings:
        return cls(
            portfolio=view.portfolio,
            drift_threshold=view.drift_threshold,
            min_trade_value=view.min_trade_value,
            decision_time=None if view.decision_time is None else f"{view.decision_time:%H:%M}",
            effective_decision_time=f"{view.effective_decision_time:%H:%M}",
        )
