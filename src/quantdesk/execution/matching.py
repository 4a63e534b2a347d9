"""Fill rules on one bar: pure functions used by the simulated (backtest) and paper brokers.

* market orders fill at the price the engine chooses (signal-bar close or next open);
* limit and stop orders are matched against a later bar's open/high/low: a buy limit fills at the
  limit when ``low <= limit``, a sell limit when ``high >= limit``; a buy stop triggers when
  ``high >= stop``, a sell stop when ``low <= stop``. When the bar *opens* beyond the level (a gap)
  the fill is at the open, which is the price actually available;
* a stop-limit triggers like a stop, then fills like a limit at the trigger price when that price
  respects the limit (else it rests as a limit order);
* attached exits of a position (stop-loss / take-profit): when one bar's range touches both levels
  we cannot know which came first, so we assume the **pessimistic** one, the stop-loss. A gap
  through either level fills at the open.

Prices are floats here (they come from float bar arrays); the caller converts to Decimal.
"""

from __future__ import annotations

from enum import StrEnum

from quantdesk.core.enums import Side
from quantdesk.execution.events import OrderError
from quantdesk.execution.orders import OrderType


def trigger_price(
    side: Side,
    order_type: OrderType,
    level: float,
    *,
    open_: float,
    high: float,
    low: float,
) -> float | None:
    """Fill price of a resting LIMIT or STOP order on one bar, or ``None`` if not reached.

    ``level`` is the limit or stop price. A bar opening beyond the level fills at the open.
    """
    buy = side is Side.BUY
    if order_type is OrderType.LIMIT:
        if buy:
            return open_ if open_ <= level else (level if low <= level else None)
        return open_ if open_ >= level else (level if high >= level else None)
    if order_type is OrderType.STOP:
        if buy:
            return open_ if open_ >= level else (level if high >= level else None)
        return open_ if open_ <= level else (level if low <= level else None)
    raise OrderError(f"trigger_price needs a LIMIT or STOP order, got {order_type}")


class ExitReason(StrEnum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


def attached_exit(
    long: bool,
    stop_loss: float | None,
    take_profit: float | None,
    *,
    open_: float,
    high: float,
    low: float,
) -> tuple[float, ExitReason] | None:
    """Exit price and reason for a position's stop-loss / take-profit on one bar, or ``None``.

    ``long`` is the position's direction. When the bar's range reaches both levels the
    stop-loss wins (pessimistic: the order of touches inside a bar is unknown).
    """
    # sign flips a short into the long case: adverse moves are then always "down"
    sign = 1.0 if long else -1.0
    o, adverse, favourable = (open_, low, high) if long else (open_, high, low)
    if stop_loss is not None and sign * o <= sign * stop_loss:
        return o, ExitReason.STOP_LOSS
    if take_profit is not None and sign * o >= sign * take_profit:
        return o, ExitReason.TAKE_PROFIT
    if stop_loss is not None and sign * adverse <= sign * stop_loss:
        return stop_loss, ExitReason.STOP_LOSS
    if take_profit is not None and sign * favourable >= sign * take_profit:
        return take_profit, ExitReason.TAKE_PROFIT
    return None


def participation_cap(remaining: float, bar_volume: float, participation: float | None) -> float:
    """Shares fillable on one bar: all of ``remaining`` unless a volume participation cap is set.

    ``participation`` is a fraction of the bar's volume (0.1 = 10 %); ``None`` disables partial
    fills, which is the default everywhere.
    """
    if participation is None:
        return remaining
    if not 0.0 < participation <= 1.0:
        raise OrderError(f"participation must be a fraction in (0, 1], got {participation}")
    return min(remaining, max(bar_volume, 0.0) * participation)


def stop_limit_price(
    side: Side, stop: float, limit: float, *, open_: float, high: float, low: float
) -> float | None:
    """Fill price of a STOP_LIMIT order on one bar, or ``None`` (not triggered or beyond limit)."""
    triggered = trigger_price(side, OrderType.STOP, stop, open_=open_, high=high, low=low)
    if triggered is None:
        return None
    if side is Side.BUY:
        return triggered if triggered <= limit else None
    return triggered if triggered >= limit else None


__all__ = [
    "ExitReason",
    "attached_exit",
    "participation_cap",
    "stop_limit_price",
    "trigger_price",
]
