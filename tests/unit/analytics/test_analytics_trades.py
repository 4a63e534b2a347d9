"""Trade-based statistics over round-trip P&L."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.analytics import trade_statistics


def test_trade_statistics_by_hand() -> None:
    stats = trade_statistics([100.0, -50.0, 0.0, 200.0, -25.0])
    assert (stats.trades, stats.winning_trades, stats.losing_trades) == (5, 2, 2)
    assert stats.breakeven_trades == 1
    assert stats.win_rate == pytest.approx(0.4)
    assert stats.gross_profit == pytest.approx(300.0)
    assert stats.gross_loss == pytest.approx(-75.0)
    assert stats.net_profit == pytest.approx(225.0)
    assert stats.profit_factor == pytest.approx(4.0)
    assert stats.average_win == pytest.approx(150.0)
    assert stats.average_loss == pytest.approx(-37.5)
    assert stats.payoff_ratio == pytest.approx(4.0)
    assert stats.expectancy == pytest.approx(45.0)
    # expectancy identity: win rate × average win + loss rate × average loss
    assert stats.expectancy == pytest.approx(0.4 * 150.0 + 0.4 * -37.5)


def test_only_winners_and_no_trades() -> None:
    winners = trade_statistics(np.array([1.0, 2.0]))
    assert winners.profit_factor == math.inf
    assert math.isnan(winners.average_loss)
    assert math.isnan(winners.payoff_ratio)
    empty = trade_statistics([])
    assert empty.trades == 0
    assert math.isnan(empty.win_rate)
    assert math.isnan(empty.expectancy)
    assert math.isnan(empty.profit_factor)


def test_missing_pnl_is_rejected_with_its_position() -> None:
    with pytest.raises(ValueError, match="position 1"):
        trade_statistics([1.0, math.nan])
