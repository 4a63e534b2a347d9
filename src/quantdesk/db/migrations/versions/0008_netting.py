"""Netting of strategy books: allocations of netted broker orders, internal crosses.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# exact decimals: NUMERIC on PostgreSQL, text on SQLite (see quantdesk.db.tables.Money)
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_allocations",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_order_allocations_account_id_trading_accounts"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "client_order_id", "seq", name=op.f("pk_order_allocations")
        ),
    )
    op.create_table(
        "internal_crosses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("execution_id", sa.String(length=160), nullable=False),
        sa.Column("cross_id", sa.String(length=80), nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_internal_crosses_account_id_trading_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_internal_crosses_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internal_crosses")),
        sa.UniqueConstraint(
            "account_id", "execution_id", name=op.f("uq_internal_crosses_account_id")
        ),
    )
    with op.batch_alter_table("internal_crosses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_internal_crosses_portfolio_id"), ["portfolio_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("internal_crosses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_internal_crosses_portfolio_id"))
    op.drop_table("internal_crosses")
    op.drop_table("order_allocations")
