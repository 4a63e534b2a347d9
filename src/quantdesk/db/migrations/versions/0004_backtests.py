"""Complete backtest configurations: a ``config`` JSON per run, universes never truncated.

Revision ID: 0004_backtests
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_backtests"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backtest_runs") as batch:
        batch.add_column(sa.Column("config", sa.JSON(), nullable=True))
        batch.alter_column("universe", existing_type=sa.String(length=64), type_=sa.Text())
    # scores carry the same universe label (one grammar), complete as well
    with op.batch_alter_table("factor_scores") as batch:
        batch.alter_column("universe", existing_type=sa.String(length=64), type_=sa.Text())


def downgrade() -> None:
    with op.batch_alter_table("factor_scores") as batch:
        batch.alter_column("universe", existing_type=sa.Text(), type_=sa.String(length=64))
    with op.batch_alter_table("backtest_runs") as batch:
        batch.alter_column("universe", existing_type=sa.Text(), type_=sa.String(length=64))
        batch.drop_column("config")
