"""Order entry, batches and rebalancing for the trading service.

A batch is all or nothing: every order is validated (symbol, quantity, prices) and passes the
pre-trade hook against the account *as the batch leaves it* (sells first, then buys paying
commission and slippage) before the first one is sent. Then sells go first, and everything is
saved (see :class:`~quantdesk.services.trading_session.PortfolioSession.save`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from quantdesk.core.enums import Side
from quantdesk.core.errors import DataValidationError, Problem
from quantdesk.db.database import Database
from quantdesk.db.repositories import orders as orders_repo
from quantdesk.db.repositories import trading as trading_repo
from quantdesk.db.tables import MONEY_LIMIT
from quantdesk.execution import (
    BasicRiskChecks,
    CostModel,
    Fill,
    Order,
    OrderAccepted,
    OrderError,
    OrderFilled,
    OrderRequest,
    OrderSubmitted,
    OrderType,
    TimeInForce,
)
from quantdesk.execution.targets import PlannedTrade as RuleTrade
from quantdesk.execution.targets import plan_trades
from quantdesk.services.portfolio_settings import stored_settings
from quantdesk.services.trading_session import PortfolioSession, PriceBook, TcaPrices
from quantdesk.services.trading_types import (
    DriftRow,
    OrderSpec,
    OrderView,
    PlannedTrade,
    RebalanceResult,
    TradingError,
)

ZERO = Decimal(0)


def to_money(value: Decimal | float | int | str, what: str) -> Decimal:
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError, TypeError):
        raise TradingError(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise TradingError(f"{what} must be a finite number, got {value!r}")
    if abs(number) >= MONEY_LIMIT:  # the stored amounts' range (18 digits before the point)
        raise TradingError(f"{what} must be below 1e18 in size, got {value!r}")
    return number


# -- batches -----------------------------------------------------------------------------------
@dataclass
class _BatchView:
    """The risk view of the account after the batch's earlier orders (sells add cash)."""

    session: PortfolioSession
    costs: CostModel
    cash_delta: dict[str, Decimal] = field(default_factory=dict)
    sold: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    def price(self, symbol: str) -> Decimal | None:
        return self.session.prices(symbol)

    def available_cash(self, strategy: str) -> Decimal:
        base = self.session.manager.available_cash(strategy)
        return base + self.cash_delta.get(strategy, ZERO)

    def available_position(self, strategy: str, symbol: str) -> Decimal:
        held = self.session.manager.available_position(strategy, symbol)
        return held - self.sold.get((strategy, symbol), ZERO)

    def add(self, order: Order) -> None:
        price = order.limit_price or self.session.prices(order.symbol) or ZERO
        fill = Decimal(repr(self.costs.fill_price(order.side, float(price))))
        commission = Decimal(repr(self.costs.commission(float(order.quantity), float(fill))))
        change = -order.side.sign * order.quantity * fill - commission
        self.cash_delta[order.strategy] = self.cash_delta.get(order.strategy, ZERO) + change
        if order.side is Side.SELL:
            key = (order.strategy, order.symbol)
            self.sold[key] = self.sold.get(key, ZERO) + order.quantity


def submit_batch(
    session: PortfolioSession, specs: Sequence[OrderSpec], costs: CostModel, tag: str
) -> list[OrderView]:
    """Send ``specs`` as one batch (see module doc); returns the orders as saved."""
    if not specs:
        return []
    manager = session.manager
    prices = session.prices
    if isinstance(prices, PriceBook):
        prices.preload([s.symbol for s in specs])
    drafts: list[tuple[OrderSpec, OrderRequest, Order]] = []
    for number, spec in enumerate(specs, start=1):
        request = OrderRequest(
            symbol=spec.symbol,
            side=_side(spec.side, number),
            quantity=_number(spec.quantity, f"order {number} ({spec.symbol}): quantity"),
            limit_price=None
            if spec.limit_price is None
            else _number(spec.limit_price, f"order {number} ({spec.symbol}): limit_price"),
            strategy=spec.strategy,
            tag=spec.tag or tag,
            time_in_force=TimeInForce.DAY,
        )
        try:
            drafts.append((spec, request, manager.build(request)))
        except OrderError as error:
            raise TradingError(f"order {number}: {error}; nothing was sent") from None
    drafts.sort(key=lambda d: d[2].side is Side.BUY)  # sells first, stable otherwise
    view = _BatchView(session, costs)
    # apisvc: the portfolio's minimum trade value (Settings) is part of the pre-trade check
    minimum = stored_settings(session.db, session.portfolio.id, session.portfolio.name)
    check = BasicRiskChecks(costs=costs, min_trade_value=minimum.min_trade_value or Decimal(0))
    for _, _, draft in drafts:
        try:
            check.check(draft, view)
        except OrderError as error:
            # the draft has no id yet: name it by what it trades
            text = str(error).replace("order '' (", "order (")
            raise TradingError(f"{text}; nothing was sent") from None
        view.add(draft)
    now = session.clock.now()
    placed: list[Order] = []
    for spec, request, _ in drafts:
        arrival = prices(spec.symbol)
        order = manager.submit(request)
        session.tca[order.client_order_id] = TcaPrices(
            spec.decision_price if spec.decision_price is not None else arrival,
            spec.decided_at or now,
            arrival,
        )
        placed.append(order)
    session.save()
    return [_order_view(session, manager.orders[o.client_order_id]) for o in placed]


def cancel(session: PortfolioSession, client_order_id: str) -> OrderView:
    try:
        session.manager.cancel(client_order_id)
    except OrderError as error:
        raise TradingError(str(error)) from None
    session.save()
    return _order_view(session, session.manager.orders[client_order_id])


def modify(
    session: PortfolioSession,
    client_order_id: str,
    quantity: Decimal | str | None,
    limit_price: Decimal | str | None,
) -> OrderView:
    if quantity is None and limit_price is None:
        raise TradingError("modify needs a new quantity or limit price")
    try:
        session.manager.modify(client_order_id, quantity=quantity, limit_price=limit_price)
    except OrderError as error:
        raise TradingError(str(error)) from None
    session.save()
    return _order_view(session, session.manager.orders[client_order_id])


def list_orders(
    database: Database, record: trading_repo.PortfolioRecord, open_only: bool
) -> list[OrderView]:
    with database.read() as connection:
        stored = orders_repo.load_orders(connection, record.account_id, record.id)
    return [_stored_view(record.name, s) for s in stored if not open_only or s.order.is_open]


# -- rebalancing -------------------------------------------------------------------------------
def rebalance(
    session: PortfolioSession,
    targets: Mapping[str, float],
    source: str,
    threshold: float,
    execute: bool,
    costs: CostModel,
    strategy: str = "",
) -> RebalanceResult:
    """Drift and the trade list to ``targets``; with ``execute`` the list goes as one batch.

    The trade list is :func:`quantdesk.execution.targets.plan_trades`, the rule the backtest
    engines use (whole shares, sells first, buys in ascending notional, the last buy trimmed to
    the cash); ``threshold`` is its minimum trade weight (a fraction of equity).
    """
    if not (math.isfinite(threshold) and 0 <= threshold < 1):
        raise TradingError(f"threshold must be a fraction in [0, 1), got {threshold}")
    account = session.account
    held = session.ledger.positions(account, strategy)
    prices = session.prices
    symbols = sorted(set(held) | {s for s, w in targets.items() if w > 0})
    if isinstance(prices, PriceBook):
        prices.preload(symbols)
    marks: dict[str, Decimal] = {}
    for symbol in symbols:
        price = prices(symbol)
        if price is None:
            raise TradingError(f"no price for {symbol!r} on {session.clock.now().date()}")
        marks[symbol] = price
    cash = session.ledger.cash(account, strategy)
    equity = cash + sum((q * marks[s] for s, q in held.items()), ZERO)
    weights = [float(targets.get(s, 0.0)) for s in symbols]
    positions = [float(held.get(s, ZERO)) for s in symbols]
    floats = [float(marks[s]) for s in symbols]
    # a cent per name kept back: the broker's fills are rounded to a tick, the plan is float
    budget = float(cash - Decimal("0.01") * len(symbols))
    rule = replace(costs, min_trade_weight=threshold)
    planned = plan_trades(weights, positions, floats, budget, rule, fractional=False)
    everything = plan_trades(
        weights, positions, floats, budget, replace(costs, min_trade_weight=0.0), fractional=False
    )
    current = {s: float(held.get(s, ZERO) * marks[s] / equity) if equity else 0.0 for s in symbols}
    drift = tuple(
        DriftRow(s, current[s], float(targets.get(s, 0.0)), current[s] - float(targets.get(s, 0.0)))
        for s in symbols
    )

    def view(trade: RuleTrade) -> PlannedTrade:
        symbol = symbols[trade.index]
        quantity = Decimal(repr(trade.quantity)).normalize()
        return PlannedTrade(
            symbol=symbol,
            side=trade.side,
            quantity=quantity,
            price=marks[symbol],
            notional=quantity * marks[symbol],
            current_weight=current[symbol],
            target_weight=float(targets.get(symbol, 0.0)),
        )

    trades = tuple(view(t) for t in planned)
    sent = {t.index for t in planned}
    skipped = tuple(view(t) for t in everything if t.index not in sent)
    result = RebalanceResult(
        portfolio=session.portfolio.name,
        source=source,
        as_of=session.clock.now().date(),
        threshold=threshold,
        drift=drift,
        trades=trades,
        skipped=skipped,
        executed=False,
        strategy=strategy,
    )
    if not execute or not trades:
        return result
    specs = [
        OrderSpec(
            t.symbol, t.side, t.quantity, strategy=strategy, tag="rebalance", decision_price=t.price
        )
        for t in trades
    ]
    orders = submit_batch(session, specs, costs, "rebalance")
    return replace(result, executed=True, orders=tuple(orders))


# -- manual trades -----------------------------------------------------------------------------
TRADE_FILE_COLUMNS = ("date", "symbol", "side", "quantity", "price")


def import_trades(
    session: PortfolioSession, path: Path, is_session: Callable[[date], bool]
) -> list[OrderView]:
    """Record executed trades from ``path`` (see the service docstring); all rows or none."""
    rows = _read_trades(session, path, is_session)
    manager = session.manager
    placed = []
    for day, symbol, side, quantity, price, strategy in rows:
        at = datetime.combine(day, time(20, 0), tzinfo=UTC)
        cid = manager.ids.next()
        order = Order(
            client_order_id=cid,
            symbol=symbol,
            side=side,
            quantity=quantity,
            order_type=OrderType.MARKET,
            time_in_force=TimeInForce.DAY,
            strategy=strategy,
            tag="manual",
            created_at=at,
            account=session.account,
        )
        manager.restore([order])
        fill = Fill(
            f"{cid}-manual", cid, symbol, side, quantity, price, ZERO, at, session.account, strategy
        )
        for event in (
            OrderSubmitted(cid, at),
            OrderAccepted(cid, at, f"M{cid}"),
            OrderFilled(cid, at, fill),
        ):
            manager.on_event(event)
        session.broker.book_external(fill)
        session.tca[cid] = TcaPrices(None, at, None)
        placed.append(cid)
    session.save()
    return [_order_view(session, manager.orders[cid]) for cid in placed]


def _read_trades(
    session: PortfolioSession, path: Path, is_session: Callable[[date], bool]
) -> list[tuple[date, str, Side, Decimal, Decimal, str]]:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TradingError(f"{source}: cannot read the trade file ({error.strerror})") from None
    except UnicodeDecodeError:
        raise TradingError(f"{source}: not a UTF-8 text (CSV) trade file") from None
    if "\x00" in text:
        raise TradingError(f"{source}: not a text (CSV) trade file (it holds NUL bytes)")
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in TRADE_FILE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    source,
                    1,
                    None,
                    None,
                    f"missing column(s) {missing}; need {list(TRADE_FILE_COLUMNS)}",
                )
            ]
        )
    problems: list[Problem] = []
    rows = []
    held: dict[tuple[str, str], Decimal] = {}
    cash: dict[str, Decimal] = {}
    for line, raw in enumerate(reader, start=2):
        parsed = _parse_row(raw, session, is_session)
        if isinstance(parsed, Problem):
            problems.append(replace(parsed, source=source, row=line))
            continue
        day, symbol, side, quantity, price, strategy = parsed

        def bad(field: str, message: str) -> None:
            problems.append(Problem(source, line, symbol, field, message))  # noqa: B023

        key = (strategy, symbol)
        position = held.setdefault(
            key, session.ledger.position(session.account, strategy, symbol).quantity
        )
        book_cash = cash.setdefault(strategy, session.ledger.cash(session.account, strategy))
        if side is Side.SELL and quantity > position:
            bad("quantity", f"sells {quantity} shares but {position} are held")
            continue
        if side is Side.BUY and quantity * price > book_cash:
            bad("quantity", f"costs {quantity * price} but only {book_cash} cash is available")
            continue
        held[key] = position + side.sign * quantity
        cash[strategy] = book_cash - side.sign * quantity * price
        rows.append((day, symbol, side, quantity, price, strategy))
    if problems:
        raise DataValidationError(problems)
    if not rows:
        raise DataValidationError([Problem(source, None, None, None, "no trades in the file")])
    return rows


def _parse_row(  # noqa: PLR0911 - one early return per field, in the order of the file
    raw: dict[str, str], session: PortfolioSession, is_session: Callable[[date], bool]
) -> tuple[date, str, Side, Decimal, Decimal, str] | Problem:
    """One row's values, or the first problem found (source and row filled in by the caller)."""
    symbol = (raw.get("symbol") or "").strip().upper()

    def bad(field: str, message: str) -> Problem:
        return Problem("", None, symbol or None, field, message)

    try:
        day = date.fromisoformat((raw.get("date") or "").strip())
    except ValueError:
        return bad("date", f"not a date (YYYY-MM-DD): {raw.get('date')!r}")
    if not is_session(day):
        return bad("date", f"{day} is not a trading day (weekend or exchange holiday)")
    if not symbol or not session.prices_known(symbol):
        return bad("symbol", f"unknown symbol {symbol!r}")
    side_text = (raw.get("side") or "").strip().lower()
    if side_text not in ("buy", "sell"):
        return bad("side", f"side must be buy or sell, got {raw.get('side')!r}")
    quantity = _cell_number(raw.get("quantity"))
    if quantity is None or not quantity > 0:
        return bad("quantity", f"quantity must be a number > 0, got {raw.get('quantity')!r}")
    price = _cell_number(raw.get("price"))
    if price is None or not price > 0:
        return bad("price", f"price must be a number > 0, got {raw.get('price')!r}")
    strategy = (raw.get("strategy") or "").strip()
    return (day, symbol, Side(side_text), quantity, price, strategy)


def _cell_number(text: str | None) -> Decimal | None:
    try:
        number = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# -- views -------------------------------------------------------------------------------------
def order_views(session: PortfolioSession, orders: Sequence[Order]) -> list[OrderView]:
    """The orders as they stand now in the session's order manager."""
    return [_order_view(session, session.manager.orders[o.client_order_id]) for o in orders]


def _order_view(session: PortfolioSession, order: Order) -> OrderView:
    prices = session.tca.get(order.client_order_id)
    return OrderView(
        client_order_id=order.client_order_id,
        portfolio=session.portfolio.name,
        strategy=order.strategy,
        symbol=order.symbol,
        side=str(order.side),
        quantity=order.quantity,
        order_type=str(order.order_type),
        limit_price=order.limit_price,
        status=str(order.status),
        filled_quantity=order.filled_quantity,
        average_fill_price=order.average_fill_price,
        created_at=order.created_at,
        decision_price=None if prices is None else prices.decision_price,
        arrival_price=None if prices is None else prices.arrival_price,
    )


def _stored_view(portfolio: str, stored: orders_repo.StoredOrder) -> OrderView:
    order = stored.order
    return OrderView(
        client_order_id=order.client_order_id,
        portfolio=portfolio,
        strategy=order.strategy,
        symbol=order.symbol,
        side=str(order.side),
        quantity=order.quantity,
        order_type=str(order.order_type),
        limit_price=order.limit_price,
        status=str(order.status),
        filled_quantity=order.filled_quantity,
        average_fill_price=order.average_fill_price,
        created_at=order.created_at,
        decision_price=stored.decision_price,
        arrival_price=stored.arrival_price,
    )


def _side(value: object, number: int) -> Side:
    try:
        return Side(str(value).lower())
    except ValueError:
        raise TradingError(f"order {number}: side must be buy or sell, got {value!r}") from None


def _number(value: object, what: str) -> Decimal:
    if isinstance(value, float) and not math.isfinite(value):
        raise TradingError(f"{what} must be a finite number, got {value!r}")
    try:
        return to_money(value, what)  # type: ignore[arg-type]
    except TradingError:
        raise
