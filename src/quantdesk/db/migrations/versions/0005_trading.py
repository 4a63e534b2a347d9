"""Trading: accounts, portfolios, sub-ledgers, cash flows, orders and their event log,
executions, positions and lots, snapshots, journal, paper broker state.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# exact decimals: NUMERIC on PostgreSQL, text on SQLite (see quantdesk.db.tables.Money)
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trading_accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("broker", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("last_order_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trading_accounts")),
    )
    op.create_table(
        "paper_broker_state",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_paper_broker_state_account_id_trading_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_paper_broker_state")),
    )
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("benchmark", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_portfolios_account_id_trading_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolios")),
        sa.UniqueConstraint("name", name=op.f("uq_portfolios_name")),
    )
    with op.batch_alter_table("portfolios", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portfolios_account_id"), ["account_id"], unique=False)

    op.create_table(
        "cash_flows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_cash_flows_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_flows")),
    )
    with op.batch_alter_table("cash_flows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cash_flows_portfolio_id"), ["portfolio_id"], unique=False
        )

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=True),
        sa.Column("execution_id", sa.String(length=96), nullable=True),
        sa.Column("thesis", sa.Text(), nullable=True),
        sa.Column("intended_entry", sa.Text(), nullable=True),
        sa.Column("sizing_rationale", sa.Text(), nullable=True),
        sa.Column("exit_plan", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("lesson", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_journal_entries_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_entries_portfolio_id"), ["portfolio_id"], unique=False
        )

    op.create_table(
        "portfolio_snapshots",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("market_value", MONEY, nullable=False),
        sa.Column("equity", MONEY, nullable=False),
        sa.Column("net_flows", MONEY, nullable=False),
        sa.Column("realised_pnl", MONEY, nullable=False),
        sa.Column("unrealised_pnl", MONEY, nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_portfolio_snapshots_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "date", name=op.f("pk_portfolio_snapshots")),
    )
    op.create_table(
        "position_lots",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_position_lots_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "portfolio_id", "strategy", "symbol", "seq", name=op.f("pk_position_lots")
        ),
    )
    op.create_table(
        "positions",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("average_cost", MONEY, nullable=True),
        sa.Column("realised_pnl", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_positions_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "strategy", "symbol", name=op.f("pk_positions")),
    )
    op.create_table(
        "strategy_allocations",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_strategy_allocations_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "strategy", name=op.f("pk_strategy_allocations")),
    )
    op.create_table(
        "trading_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("order_type", sa.String(length=16), nullable=False),
        sa.Column("time_in_force", sa.String(length=8), nullable=False),
        sa.Column("limit_price", MONEY, nullable=True),
        sa.Column("stop_price", MONEY, nullable=True),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_price", MONEY, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrival_price", MONEY, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filled_quantity", MONEY, nullable=False),
        sa.Column("average_fill_price", MONEY, nullable=True),
        sa.Column("venue_order_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_trading_orders_account_id_trading_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_trading_orders_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trading_orders")),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name=op.f("uq_trading_orders_account_id")
        ),
    )
    with op.batch_alter_table("trading_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trading_orders_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_trading_orders_portfolio_id"), ["portfolio_id"], unique=False
        )

    op.create_table(
        "executions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("execution_id", sa.String(length=96), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
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
            name=op.f("fk_executions_account_id_trading_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["trading_orders.id"],
            name=op.f("fk_executions_order_id_trading_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_executions_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
        sa.UniqueConstraint("account_id", "execution_id", name=op.f("uq_executions_account_id")),
    )
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_executions_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_executions_portfolio_id"), ["portfolio_id"], unique=False
        )

    op.create_table(
        "order_events",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["trading_orders.id"],
            name=op.f("fk_order_events_order_id_trading_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "seq", name=op.f("pk_order_events")),
    )


def downgrade() -> None:
    op.drop_table("order_events")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_executions_portfolio_id"))
        batch_op.drop_index(batch_op.f("ix_executions_order_id"))

    op.drop_table("executions")
    with op.batch_alter_table("trading_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trading_orders_portfolio_id"))
        batch_op.drop_index(batch_op.f("ix_trading_orders_batch_id"))

    op.drop_table("trading_orders")
    op.drop_table("strategy_allocations")
    op.drop_table("positions")
    op.drop_table("position_lots")
    op.drop_table("portfolio_snapshots")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_portfolio_id"))

    op.drop_table("journal_entries")
    with op.batch_alter_table("cash_flows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_flows_portfolio_id"))

    op.drop_table("cash_flows")
    with op.batch_alter_table("portfolios", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portfolios_account_id"))

    op.drop_table("portfolios")
    op.drop_table("paper_broker_state")
    op.drop_table("trading_accounts")
