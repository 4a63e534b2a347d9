"""What the research service returns: stored score tables, the sector signal, recommendations.

Each result is a frozen dataclass with ``to_dict()`` giving JSON-ready values (dates as ISO
strings, money as strings, NaN as ``None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from quantdesk.portfolio import RebalancePlan, Trade

Day = date  # for fields declared after a field named ``date``


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts (dates → ISO, NaN/NA → None, numpy → Python)."""
    records: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        records.append({str(k): _plain(v) for k, v in row.items()})
    return records


def _plain(value: Any) -> Any:  # noqa: PLR0911 (one return per kind of value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class ScoreTable:
    """Scores computed and stored for one score set.

    ``benchmark`` says what relative strength was measured against (a symbol, or
    ``"equal-weight universe average"``; ``None`` for sets without a benchmark).
    ``symbols_per_component`` counts the symbols with at least one value of each component over
    the scored dates. ``frame`` holds the stored rows with components spread into columns.
    """

    score_set: str
    universe: str
    benchmark: str | None
    dates: tuple[date, ...]
    components: tuple[str, ...]
    symbols: int
    symbols_per_component: dict[str, int]
    rows_written: int
    frame: pd.DataFrame = field(repr=False)
    # scored dates on which no symbol could be scored: their stored rows were kept, not erased
    dates_without_scores: tuple[date, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "score_set": self.score_set,
            "universe": self.universe,
            "benchmark": self.benchmark,
            "dates": len(self.dates),
            "first_date": self.dates[0].isoformat() if self.dates else None,
            "last_date": self.dates[-1].isoformat() if self.dates else None,
            "components": list(self.components),
            "symbols": self.symbols,
            "symbols_per_component": dict(self.symbols_per_component),
            "rows_written": self.rows_written,
            "dates_without_scores": [d.isoformat() for d in self.dates_without_scores],
        }


@dataclass(frozen=True)
class ScoreSnapshot:
    """The scores a user asked for, after the staleness rule ran.

    ``date`` is the scored date shown (``None``: nothing stored); ``data_date`` the newest date
    the universe has bars for (on or before the requested date); ``computed`` what was computed
    and stored first, if anything; ``note`` says in words why ``date`` is not ``data_date``.
    """

    score_set: str
    universe: str | None
    date: date | None
    data_date: Day | None
    computed: ScoreTable | None
    note: str | None
    frame: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score_set": self.score_set,
            "universe": self.universe,
            "date": None if self.date is None else self.date.isoformat(),
            "data_date": None if self.data_date is None else self.data_date.isoformat(),
            "note": self.note,
            "computed": None if self.computed is None else self.computed.to_dict(),
            "rows": frame_records(self.frame),
        }


def _trade(trade: Trade) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "side": trade.side.value,
        "shares": str(trade.shares),
        "price": str(trade.price),
        "notional": str(trade.notional),
        "current_weight": trade.current_weight,
        "target_weight": trade.target_weight,
        "drift": trade.drift,
    }


@dataclass(frozen=True)
class SectorSignal:
    """The 12-1 sector-momentum signal on ``date`` with its trade list.

    ``ranking`` (see :func:`quantdesk.research.sector.sector_ranking`) has every symbol, best
    first; ``target_weights`` are fractions (1 / top_n for each selected symbol); ``plan`` is the
    whole-share trade list for ``cash`` plus ``positions`` at the latest closes; ``report`` is
    the human-readable text.
    """

    date: date
    top_n: int
    cash: Decimal
    positions: dict[str, Decimal]
    ranking: pd.DataFrame = field(repr=False)
    selected: tuple[str, ...]
    target_weights: dict[str, float]
    plan: RebalancePlan = field(repr=False)
    report: str = field(repr=False)
    # why nothing was ranked (e.g. no ETF has a year of history yet); None when ranked
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": "sector-rotation",
            "date": self.date.isoformat(),
            "top_n": self.top_n,
            "cash": str(self.cash),
            "positions": {s: str(q) for s, q in self.positions.items()},
            "ranking": frame_records(self.ranking),
            "selected": list(self.selected),
            "target_weights": dict(self.target_weights),
            "trades": [_trade(t) for t in self.plan.trades],
            "skipped": [_trade(t) for t in self.plan.skipped],
            "portfolio_value": str(self.plan.total_value),
            "cash_after": str(self.plan.cash_after),
            "reason": self.reason,
            "report": self.report,
        }


@dataclass(frozen=True)
class Recommendation:
    """Target weights for the top ``positions`` names by stored score on ``date``.

    ``weights`` holds one row per recommended symbol (``symbol``, ``sector``, ``score``,
    ``rank``, ``weight``; weights are fractions summing to at most 1); ``cash_weight`` is the
    rest. ``strategy`` is the name the signals are stored under.
    """

    date: date
    score_set: str
    universe: str | None
    optimizer: str
    positions: int
    lookback_days: int
    max_weight: float | None
    strategy: str
    weights: pd.DataFrame = field(repr=False)
    cash_weight: float
    data_date: Day | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "date": self.date.isoformat(),
            "data_date": None if self.data_date is None else self.data_date.isoformat(),
            "note": self.note,
            "score_set": self.score_set,
            "universe": self.universe,
            "optimizer": self.optimizer,
            "positions": self.positions,
            "lookback_days": self.lookback_days,
            "max_weight": self.max_weight,
            "weights": frame_records(self.weights),
            "cash_weight": self.cash_weight,
        }
