"""Signals for the research service: the 12-1 sector-rotation signal with its trade list and
score-based recommendations, each stored in ``signals`` (one transaction replacing the
strategy's rows on the signal date)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from quantdesk.db.database import Database
from quantdesk.db.repositories import instruments as instrument_repo
from quantdesk.db.repositories import research as research_repo
from quantdesk.portfolio import (
    ConstructionConfig,
    RebalancePlan,
    TradeSide,
    WeightingMethod,
    construct,
    rebalance_trades,
)
from quantdesk.portfolio import top_n as select_top_n
from quantdesk.research.errors import ResearchInputError
from quantdesk.research.inputs import (
    DateLike,
    as_date,
    as_money,
    finite_or_none,
    parse_score_set,
)
from quantdesk.research.lookback import calendar_window
from quantdesk.research.results import Recommendation, SectorSignal
from quantdesk.research.scoring import day_index, last_valid, valuation_prices
from quantdesk.research.sector import no_signal_reason, sector_ranking, signal_report
from quantdesk.services.data import DataService
from quantdesk.services.research_scores import ScoreBook
from quantdesk.services.research_universe import UniverseLoader, etf_symbols

SECTOR_STRATEGY = "sector-rotation"


class SignalBook:
    """Computes and stores the sector-rotation signal and recommendations."""

    def __init__(
        self,
        database: Database,
        data: DataService,
        universes: UniverseLoader,
        scores: ScoreBook,
    ) -> None:
        self._db = database
        self._data = data
        self._universes = universes
        self._scores = scores

    # -- sector momentum -------------------------------------------------------------------
    def sector_momentum(
        self,
        date: DateLike | None,
        cash: Decimal | float | int | str,
        top_n: int,
        symbols: Sequence[str] | None,
        positions: Mapping[str, Decimal | float | int] | None,
    ) -> SectorSignal:
        """See :meth:`quantdesk.services.research.ResearchService.sector_momentum_signal`."""
        # the factor modules: loaded on the first signal, not with the services
        from quantdesk.factors import sector_rotation_signal

        as_of = None if date is None else as_date(date)
        held = {str(s).strip().upper(): q for s, q in (positions or {}).items()}
        universe = self._sector_universe(symbols)
        load = sorted(set(universe) | set(held))
        panel = self._universes.load_panel(
            load,
            ("close", "adj_close"),
            None,
            as_of,
            every_symbol=symbols is not None,
            what=", ".join(universe),
        )
        universe = [s for s in universe if s in panel.symbols]
        last = len(panel.dates) - 1
        signal_date = day_index(panel.dates)[last].date()
        columns = [panel.symbols.index(s) for s in universe]
        prices = valuation_prices(panel)[:, columns]
        signal = sector_rotation_signal(prices, top_n, at=[last])
        closes = last_valid(np.asarray(panel["close"], dtype=np.float64), last)
        marks = {
            symbol: Decimal(str(price))
            for symbol, price in zip(panel.symbols, closes.tolist(), strict=True)
            if np.isfinite(price)
        }
        weights = signal.target_weights[0]
        targets = pd.Series(weights, index=universe, dtype="float64")
        plan = rebalance_trades(held, as_money(cash, "cash"), marks, targets)
        names = {i.symbol: i.name for i in self._data.get_symbols()}
        ranking = sector_ranking(
            universe,
            signal.momentum[0],
            signal.rank[0],
            weights,
            closes[columns],
            names,
        )
        reason = (
            None
            if np.isfinite(signal.momentum[0]).any()
            else no_signal_reason(
                universe,
                prices[: last + 1],
                [d.date() for d in day_index(panel.dates)],
                signal_date,
            )
        )
        report = signal_report(ranking, plan, signal_date, top_n, reason)
        self._store_sector_signal(signal_date, ranking, plan, held, top_n)
        selected = tuple(str(s) for s in ranking.loc[ranking["selected"], "symbol"])
        return SectorSignal(
            date=signal_date,
            top_n=top_n,
            cash=plan.cash_before,
            positions={s: Decimal(str(q)) for s, q in held.items()},
            ranking=ranking,
            selected=selected,
            target_weights={
                s: float(w) for s, w in zip(universe, weights.tolist(), strict=True) if w > 0
            },
            plan=plan,
            report=report,
            reason=reason,
        )

    def _sector_universe(self, symbols: Sequence[str] | None) -> list[str]:
        if symbols is not None:
            wanted = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
            if not wanted:
                raise ResearchInputError("symbols is empty; pass None for the stored sector ETFs")
            return sorted(wanted)
        return etf_symbols(self._data.get_symbols())

    def _store_sector_signal(
        self,
        day: date,
        ranking: pd.DataFrame,
        plan: RebalancePlan,
        held: Mapping[str, Any],
        top_n: int,
    ) -> None:
        trades = {t.symbol: t for t in plan.trades}
        by_symbol = {str(r["symbol"]): r for r in ranking.to_dict("records")}
        symbols = sorted(set(by_symbol) | set(held))
        with self._db.transaction() as connection:
            ids = instrument_repo.instrument_ids(connection, symbols)
            rows = []
            for symbol in symbols:
                trade = trades.get(symbol)
                entry = by_symbol.get(symbol)
                momentum = None if entry is None else finite_or_none(entry["momentum_pct"])
                rank_ = None if entry is None else finite_or_none(entry["rank"])
                rows.append(
                    {
                        "instrument_id": ids[symbol],
                        "action": "hold" if trade is None else trade.side.value,
                        "target_weight": 0.0 if entry is None else float(entry["target_weight"]),
                        "confidence": None,
                        "details": {
                            "momentum_pct": momentum,
                            "rank": None if rank_ is None else int(rank_),
                            "top_n": top_n,
                            "shares": None if trade is None else str(trade.shares),
                            "price": None if trade is None else str(trade.price),
                        },
                    }
                )
            research_repo.replace_signals(connection, SECTOR_STRATEGY, day, rows)

    def stored(self, strategy: str, date: DateLike | None) -> pd.DataFrame:
        """Stored signals of ``strategy`` (on ``date``, or every date)."""
        day = None if date is None else as_date(date)
        with self._db.read() as connection:
            return research_repo.load_signals(connection, strategy, day)

    # -- recommendations -------------------------------------------------------------------
    def recommend(
        self,
        optimizer: str,
        positions: int,
        *,
        date: DateLike | None,
        score_set: str,
        universe: str | None,
        lookback_days: int,
        max_weight: float | None,
    ) -> Recommendation:
        """See :meth:`quantdesk.services.research.ResearchService.recommend`."""
        kind = parse_score_set(score_set)
        config = _construction_config(optimizer, positions, lookback_days, max_weight)
        if positions < 1:
            raise ResearchInputError(f"positions must be at least 1, got {positions}")
        snapshot = self._scores.refresh(
            kind.value, date=date, universe=universe, top=None, compute=None, whole_history=False
        )
        scores = snapshot.frame
        if scores.empty:
            raise ResearchInputError(f"no {kind.value} scores on or before {date or 'today'}")
        day = scores["date"].iloc[0]
        series = pd.Series(
            scores["score"].to_numpy(dtype=np.float64), index=scores["symbol"].astype(str)
        )
        chosen = select_top_n(series, positions)
        names = [str(s) for s in chosen[chosen].index]
        window = None
        if config.weighting not in (WeightingMethod.EQUAL, WeightingMethod.RANK):
            window = self._returns_window(names, day, lookback_days)
        weights = construct(series, window, config)
        table = _weights_table(scores, names, weights)
        strategy = f"recommend:{kind.value}:{config.weighting.value}"
        self._store_recommendation(strategy, day, table, config, kind.value)
        return Recommendation(
            date=day,
            score_set=kind.value,
            universe=universe,
            optimizer=config.weighting.value,
            positions=positions,
            lookback_days=lookback_days,
            max_weight=max_weight,
            strategy=strategy,
            weights=table,
            cash_weight=max(0.0, 1.0 - float(table["weight"].sum())),
            data_date=snapshot.data_date,
            note=snapshot.note,
        )

    def _returns_window(self, symbols: list[str], day: date, lookback_days: int) -> pd.DataFrame:
        start = day - calendar_window(lookback_days + 1)
        panel = self._data.load_panel(symbols, ("close", "adj_close"), start, day)
        prices = valuation_prices(panel)
        returns = np.full(prices.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            returns[1:] = prices[1:] / prices[:-1] - 1.0
        returns[~np.isfinite(returns)] = np.nan
        frame = pd.DataFrame(returns, index=day_index(panel.dates), columns=list(panel.symbols))
        return frame.iloc[1:]

    def _store_recommendation(
        self,
        strategy: str,
        day: date,
        table: pd.DataFrame,
        config: ConstructionConfig,
        score_set: str,
    ) -> None:
        with self._db.transaction() as connection:
            ids = instrument_repo.instrument_ids(connection, table["symbol"].tolist())
            rows = [
                {
                    "instrument_id": ids[str(r["symbol"])],
                    "action": TradeSide.BUY.value,
                    "target_weight": float(r["weight"]),
                    "confidence": None,
                    "details": {
                        "score_set": score_set,
                        "score": finite_or_none(r["score"]),
                        "rank": None if finite_or_none(r["rank"]) is None else int(r["rank"]),
                        "optimizer": config.weighting.value,
                        "positions": config.positions,
                        "lookback_days": config.lookback_days,
                        "max_weight": config.max_weight,
                    },
                }
                for r in table.to_dict("records")
                if r["weight"] > 0
            ]
            research_repo.replace_signals(connection, strategy, day, rows)


def _construction_config(
    optimizer: str, positions: int, lookback_days: int, max_weight: float | None
) -> ConstructionConfig:
    """The portfolio construction config, its validation errors named after our arguments."""
    try:
        return ConstructionConfig(
            positions=positions,
            weighting=optimizer,
            max_weight=1.0 if max_weight is None else max_weight,
            lookback_days=lookback_days,
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join("optimizer" if p == "weighting" else str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ResearchInputError(f"{where}: {message}" if where else message) from None


def _weights_table(scores: pd.DataFrame, names: list[str], weights: pd.Series) -> pd.DataFrame:
    """The selected names with their weights (an optimiser may give some a zero weight)."""
    table = scores.loc[scores["symbol"].isin(names), ["symbol", "sector", "score", "rank"]]
    table = table.assign(weight=[float(weights.get(s, 0.0)) for s in table["symbol"]])
    table = table.sort_values(["weight", "rank"], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True)
