"""The alerts the trading service raises (see :mod:`quantdesk.services.alerts`): orders the
broker rejected, reconciliation differences, drift above the portfolio's threshold on a
rebalance check or after a ``trade run`` step. Each names the portfolio and what to look at;
the key makes it idempotent."""

from __future__ import annotations

from collections.abc import Iterable

from quantdesk.db.database import Database
from quantdesk.services.alerts import AlertKind, AlertService, NewAlert, Severity
from quantdesk.services.portfolio_settings import stored_settings
from quantdesk.services.trading_types import OrderView, RebalanceResult, ReconcileReport

__all__ = ["drift_checked", "orders_placed", "reconciled"]


def orders_placed(alerts: AlertService | None, portfolio: str, orders: Iterable[OrderView]) -> None:
    """One alert per order the broker rejected."""
    if alerts is None:
        return
    for order in orders:
        if order.status == "rejected":
            alerts.safely_raise(
                NewAlert(
                    AlertKind.ORDER_REJECTED,
                    Severity.WARNING,
                    f"{portfolio}: order {order.client_order_id} ({order.side} {order.quantity} "
                    f"{order.symbol}) was rejected by the broker",
                    key=f"order-rejected:{order.client_order_id}",
                    portfolio=portfolio,
                )
            )


def reconciled(alerts: AlertService | None, portfolio: str, report: ReconcileReport) -> None:
    """One alert per difference between our records and the broker's (open until seen)."""
    if alerts is None:
        return
    for difference in report.discrepancies:
        alerts.safely_raise(
            NewAlert(
                AlertKind.RECONCILE_DIFFERENCE,
                Severity.CRITICAL,
                f"{portfolio}: reconciliation found a {difference.kind} difference on "
                f"{difference.subject}: ours {difference.ours}, broker {difference.broker}",
                key=f"reconcile:{portfolio}:{difference.kind}:{difference.subject}:"
                f"{difference.ours}:{difference.broker}",
                portfolio=portfolio,
            )
        )


def drift_checked(
    alerts: AlertService | None,
    database: Database,
    portfolio_id: int,
    result: RebalanceResult,
) -> None:
    """A ``drift`` alert when the largest |current − target| weight of a rebalance check (or
    of a book after a ``trade run`` step: the same check, on the strategy's book against the
    strategy's targets) is above the portfolio's ``drift_threshold`` setting (no setting: no
    alert). One open alert per portfolio: raising it again while it is open adds nothing."""
    if alerts is None or not result.drift:
        return
    threshold = stored_settings(database, portfolio_id, result.portfolio).drift_threshold
    if threshold is None:
        return
    worst = max(result.drift, key=lambda row: abs(row.drift))
    if abs(worst.drift) <= threshold:
        return
    alerts.safely_raise(
        NewAlert(
            AlertKind.DRIFT,
            Severity.WARNING,
            f"{result.portfolio}: {worst.symbol} is {worst.current_weight:.1%} of equity against "
            f"a target of {worst.target_weight:.1%} ({result.source}); drift "
            f"{abs(worst.drift):.1%} is above the {threshold:.1%} threshold: rebalance",
            key=f"drift:{result.portfolio}",
            portfolio=result.portfolio,
        )
    )
