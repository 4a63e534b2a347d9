"""The paper venue's executions move out of its JSON state into an append-only table.

A long replay used to rewrite one growing JSON document (every execution) on each save; now the
document keeps cash, positions, working orders and sequences, and each execution is one row,
unique per account. Existing documents are split on the way up and joined on the way down.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")
_STATE = sa.table(
    "paper_broker_state",
    sa.column("account_id", sa.String()),
    sa.column("state", sa.JSON()),
)
_EXECUTIONS = sa.table(
    "paper_executions",
    sa.column("id", sa.Integer()),
    sa.column("account_id", sa.String()),
    sa.column("execution_id", sa.String()),
    sa.column("client_order_id", sa.String()),
    sa.column("strategy", sa.String()),
    sa.column("symbol", sa.String()),
    sa.column("side", sa.String()),
    sa.column("quantity", MONEY),
    sa.column("price", MONEY),
    sa.column("commission", MONEY),
    sa.column("filled_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "paper_executions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("execution_id", sa.String(length=96), nullable=False),
        sa.Column("client_order_id", sa.String(length=96), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("commission", MONEY, nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_paper_executions_account_id_trading_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_executions")),
        sa.UniqueConstraint(
            "account_id", "execution_id", name=op.f("uq_paper_executions_account_id")
        ),
    )
    connection = op.get_bind()
    # money is exact text on SQLite (see tables.Money), NUMERIC on PostgreSQL
    as_text = connection.dialect.name == "sqlite"
    for account, state in connection.execute(sa.select(_STATE.c.account_id, _STATE.c.state)):
        document = dict(state)
        executions = document.pop("executions", [])
        if executions:
            connection.execute(
                _EXECUTIONS.insert(), [_row(account, raw, as_text) for raw in executions]
            )
        connection.execute(
            _STATE.update().where(_STATE.c.account_id == account).values(state=document)
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_EXECUTIONS).order_by(_EXECUTIONS.c.id)).mappings()
    by_account: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_account.setdefault(row["account_id"], []).append(_raw(row))
    for account, state in connection.execute(sa.select(_STATE.c.account_id, _STATE.c.state)):
        document = {**dict(state), "executions": by_account.get(account, [])}
        connection.execute(
            _STATE.update().where(_STATE.c.account_id == account).values(state=document)
        )
    op.drop_table("paper_executions")


def _row(account: str, raw: dict[str, Any], as_text: bool) -> dict[str, Any]:
    from datetime import datetime
    from decimal import Decimal

    def money(text: str) -> Decimal | str:
        return str(Decimal(text)) if as_text else Decimal(text)

    return {
        "account_id": account,
        "execution_id": raw["fill_id"],
        "client_order_id": raw["client_order_id"],
        "strategy": raw.get("strategy", ""),
        "symbol": raw["symbol"],
        "side": raw["side"],
        "quantity": money(raw["quantity"]),
        "price": money(raw["price"]),
        "commission": money(raw["commission"]),
        "filled_at": datetime.fromisoformat(raw["filled_at"]),
    }


def _raw(row: Any) -> dict[str, Any]:
    return {
        "fill_id": row["execution_id"],
        "client_order_id": row["client_order_id"],
        "symbol": row["symbol"],
        "side": row["side"],
        "quantity": str(row["quantity"]),
        "price": str(row["price"]),
        "commission": str(row["commission"]),
        "filled_at": row["filled_at"].isoformat(),
        "account": row["account_id"],
        "strategy": row["strategy"],
    }
