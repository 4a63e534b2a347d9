"""Services of the API and web pages: archived portfolios, alerts, per-portfolio settings.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# exact decimals: NUMERIC on PostgreSQL, text on SQLite (see quantdesk.db.tables.Money)
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: a batch copy of ``portfolios`` would cascade-delete its children
    op.add_column("portfolios", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_alerts_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_portfolio_id"), "alerts", ["portfolio_id"])
    # one open alert per key, whichever process raises it (see quantdesk.db.tables.Alert)
    op.create_index(
        "uq_alerts_open_key",
        "alerts",
        ["key"],
        unique=True,
        sqlite_where=sa.text("acknowledged_at IS NULL"),
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.create_table(
        "portfolio_settings",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("drift_threshold", sa.Double(), nullable=True),
        sa.Column("min_trade_value", MONEY, nullable=True),
        sa.Column("decision_time", sa.String(length=5), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_portfolio_settings_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", name=op.f("pk_portfolio_settings")),
    )


def downgrade() -> None:
    op.drop_table("portfolio_settings")
    op.drop_index("uq_alerts_open_key", table_name="alerts")
    op.drop_index(op.f("ix_alerts_portfolio_id"), table_name="alerts")
    op.drop_table("alerts")
    with op.batch_alter_table("portfolios") as batch:
        batch.drop_column("archived_at")
