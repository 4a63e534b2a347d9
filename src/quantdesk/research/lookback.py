"""How much price history to load before the first date a computation needs.

Loading less than the full history is only a speed-up: the scores at a date are identical as
long as the window covers the longest lookback.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # only the factor package's config type is needed here
    from quantdesk.factors import CompositeMomentumConfig

# Trading rows → calendar days: 7/5 for weekends, 10 % for holidays, plus a month of slack.
_CALENDAR_PER_ROW = 7 / 5 * 1.1
_SLACK_DAYS = 30
ETF_FACTOR_ROWS = 253  # 252 daily returns for the quality component


def calendar_window(rows: int) -> timedelta:
    """Calendar days that hold at least ``rows`` trading rows."""
    return timedelta(days=int(rows * _CALENDAR_PER_ROW) + _SLACK_DAYS)


def momentum_rows(config: CompositeMomentumConfig) -> int:
    """Trading rows the longest lookback of the composite momentum score reaches back."""
    horizons = [h + config.price_skip for h in config.price_horizons]
    return max(
        config.rs_lookback,
        *horizons,
        config.volume_long,
        config.eps_lookback,
        config.pe_lookback,
    )
