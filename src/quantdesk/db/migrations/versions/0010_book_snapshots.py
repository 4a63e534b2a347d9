"""Per-book snapshots: the end-of-day value of each strategy book of a portfolio.

Back-fill: a portfolio that has only ever had one book (one strategy name, or none, across its
cash flows, orders, executions, crosses, positions and strategy allocations) gets that book's
history copied from its portfolio snapshots — the book *is* the portfolio. A portfolio with
several books starts its per-book history at this migration (its first snapshot after it):
rebuilding each book's past would need the ledger replayed against every day's marks, which
the stored snapshots do not hold per book.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# exact decimals: NUMERIC on PostgreSQL, text on SQLite (see quantdesk.db.tables.Money)
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SNAPSHOT_COLUMNS = (
    "date",
    "cash",
    "market_value",
    "equity",
    "net_flows",
    "realised_pnl",
    "unrealised_pnl",
    "positions",
)
# tables whose rows name a strategy book of a portfolio (``portfolio_id`` + ``strategy``)
BOOK_TABLES = (
    "strategy_allocations",
    "cash_flows",
    "trading_orders",
    "executions",
    "internal_crosses",
    "positions",
)


def upgrade() -> None:
    op.create_table(
        "book_snapshots",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
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
            name=op.f("fk_book_snapshots_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "strategy", "date", name=op.f("pk_book_snapshots")),
    )
    _back_fill_single_book_portfolios()


def _back_fill_single_book_portfolios() -> None:
    connection = op.get_bind()
    portfolios = [
        int(p) for p in connection.execute(sa.text("SELECT id FROM portfolios")).scalars()
    ]
    if not portfolios:
        return
    books: dict[int, set[str]] = {p: set() for p in portfolios}
    for table in BOOK_TABLES:
        rows = connection.execute(sa.text(f"SELECT DISTINCT portfolio_id, strategy FROM {table}"))
        for portfolio_id, strategy in rows:
            books.setdefault(int(portfolio_id), set()).add(str(strategy))
    allocations = connection.execute(
        sa.text(
            "SELECT DISTINCT o.portfolio_id, a.strategy FROM order_allocations a "
            "JOIN trading_orders o ON o.account_id = a.account_id "
            "AND o.client_order_id = a.client_order_id"
        )
    )
    for portfolio_id, strategy in allocations:
        books.setdefault(int(portfolio_id), set()).add(str(strategy))
    columns = ", ".join(SNAPSHOT_COLUMNS)
    for portfolio_id, names in books.items():
        if len(names) > 1:
            continue  # several books: their history starts at this migration (see module doc)
        (strategy,) = names or {""}
        connection.execute(
            sa.text(
                f"INSERT INTO book_snapshots (portfolio_id, strategy, {columns}) "
                f"SELECT portfolio_id, :strategy, {columns} FROM portfolio_snapshots "
                "WHERE portfolio_id = :portfolio_id"
            ),
            {"strategy": strategy, "portfolio_id": portfolio_id},
        )


def downgrade() -> None:
    op.drop_table("book_snapshots")
