"""The share of the composite's weight behind each stored score (weight coverage).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("factor_scores") as batch:
        batch.add_column(sa.Column("weight_coverage", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("factor_scores") as batch:
        batch.drop_column("weight_coverage")
