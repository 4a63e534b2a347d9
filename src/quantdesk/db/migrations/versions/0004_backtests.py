"""Complete backtest configurations: a ``config`` JSON per run, universes never truncated;
on SQLite the per-run tables become WITHOUT ROWID (the primary key is the table: a run's rows
are stored once instead of twice).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


RUN_TABLES = ("backtest_series", "backtest_fills", "backtest_trades", "backtest_weights")


def _rowid(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in RUN_TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    _rowid(False)
    with op.batch_alter_table("backtest_runs") as batch:
        batch.add_column(sa.Column("config", sa.JSON(), nullable=True))
        batch.alter_column("universe", existing_type=sa.String(length=64), type_=sa.Text())
    # scores carry the same universe label (one grammar), complete as well
    with op.batch_alter_table("factor_scores") as batch:
        batch.alter_column("universe", existing_type=sa.String(length=64), type_=sa.Text())


def downgrade() -> None:
    _rowid(True)
    with op.batch_alter_table("factor_scores") as batch:
        batch.alter_column("universe", existing_type=sa.Text(), type_=sa.String(length=64))
    with op.batch_alter_table("backtest_runs") as batch:
        batch.alter_column("universe", existing_type=sa.Text(), type_=sa.String(length=64))
        batch.drop_column("config")
