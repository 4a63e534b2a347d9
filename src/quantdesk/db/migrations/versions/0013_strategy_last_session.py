"""The session each strategy book was last stepped on by ``trade run`` (its own mark, so two
strategies of one portfolio, or a manual snapshot, no longer make a session look done).

Back-fill: before this migration a live step counted a session done when the portfolio had a
snapshot dated on it. Every existing book gets its portfolio's newest snapshot date as its mark,
so the first step after the upgrade does not trade a session the old rule had seen as done; a
book created after the migration starts without one (nothing done yet).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (no batch copy of the table needed for a nullable column)
    op.add_column("strategy_allocations", sa.Column("last_session", sa.Date(), nullable=True))
    op.execute(
        "UPDATE strategy_allocations SET last_session = ("
        "SELECT MAX(s.date) FROM portfolio_snapshots s "
        "WHERE s.portfolio_id = strategy_allocations.portfolio_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("strategy_allocations") as batch:
        batch.drop_column("last_session")
