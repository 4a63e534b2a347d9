"""The research service: factor scores, rankings, the sector-momentum signal and recommendations.

Prices come through :class:`DataService`, earnings and membership through
:class:`ReferenceDataService` and the membership repository; the maths is the pure factor and
portfolio layers; results are stored in ``factor_scores`` and ``signals``, each write one
transaction that replaces the slice it recomputes (so recomputing is idempotent).

This class is the facade; the work is in :mod:`~quantdesk.services.research_universe`
(universes and panels), :mod:`~quantdesk.services.research_scores` (score sets) and
:mod:`~quantdesk.services.research_signals` (sector signal, recommendations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.core.clock import Clock
from quantdesk.db.database import Database
from quantdesk.portfolio import WeightingMethod
from quantdesk.research.errors import ResearchInputError
from quantdesk.research.inputs import DateLike, ScoreSet, parse_score_set
from quantdesk.research.results import Recommendation, ScoreSnapshot, ScoreTable, SectorSignal
from quantdesk.research.universe import UniverseSpec
from quantdesk.services.data import DataService
from quantdesk.services.reference_data import ReferenceDataService
from quantdesk.services.research_scores import (
    BENCHMARK_CANDIDATES,
    EQUAL_WEIGHT_BENCHMARK,
    ScoreBook,
)
from quantdesk.services.research_signals import SECTOR_STRATEGY, SignalBook
from quantdesk.services.research_universe import UniverseLoader

if TYPE_CHECKING:
    # the factor modules load when scores are computed, not with the services
    from quantdesk.factors import CompositeMomentumConfig

__all__ = [
    "BENCHMARK_CANDIDATES",
    "EQUAL_WEIGHT_BENCHMARK",
    "SECTOR_STRATEGY",
    "DateLike",
    "ResearchService",
    "ScoreSet",
    "parse_score_set",
]


class ResearchService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        data: DataService,
        reference: ReferenceDataService,
    ) -> None:
        self._db = database
        self._clock = clock
        self._data = data
        self._reference = reference
        self._universes = UniverseLoader(database, data)
        self._scores = ScoreBook(database, data, reference, self._universes)
        self._signals = SignalBook(database, data, self._universes, self._scores)

    # -- universes -------------------------------------------------------------------------
    def resolve_universe(
        self, spec: str | UniverseSpec, dates: Sequence[date] | None = None
    ) -> tuple[list[str], np.ndarray | None]:
        """Symbols of a universe and, for index universes, the dates × symbols membership mask
        on ``dates`` (``None`` for the other kinds, whose membership does not change).

        Unknown symbols, unknown indexes and empty universes raise errors naming them.
        """
        return self._universes.resolve(spec, dates)

    # -- scores ----------------------------------------------------------------------------
    def compute_scores(
        self,
        score_set: str = ScoreSet.MOMENTUM_COMPOSITE,
        *,
        dates: Sequence[DateLike] | DateLike | None = None,
        universe: str | None = None,
        benchmark: str | None = None,
        config: CompositeMomentumConfig | None = None,
        use_earnings: bool = True,
    ) -> ScoreTable:
        """Compute a score set and store it, replacing the set's rows on those dates.

        ``dates``: default every month end of the price history (the last trading day of each
        month, the final partial month included); given dates are scored on the last trading
        day on or before each. ``universe``: a spec (see :mod:`quantdesk.research.universe`),
        default ``all`` for ``momentum-composite`` and ``etf`` for ``etf-factor``.
        ``benchmark`` (momentum only): a stored symbol; default ``SP500``, else ``^GSPC``, else
        the equal-weight average of the universe (the result says which). ``use_earnings``
        adds EPS and P/E momentum from stored earnings as known at each date.

        Stored per row: score, rank (1 = best of the date), sector rank and the components
        JSON ``{name: {"value": normalised, "raw": raw}}``. One transaction.
        """
        return self._scores.compute(
            score_set,
            dates=dates,
            universe=universe,
            benchmark=benchmark,
            config=config,
            use_earnings=use_earnings,
        )

    # -- score queries ---------------------------------------------------------------------
    def stored_dates(self, score_set: str = ScoreSet.MOMENTUM_COMPOSITE) -> list[date]:
        """Dates with stored rows of ``score_set``, ascending."""
        return self._scores.stored_dates(score_set)

    def latest_scores(
        self,
        score_set: str = ScoreSet.MOMENTUM_COMPOSITE,
        date: DateLike | None = None,
        universe: str | None = None,
        top: int | None = None,
    ) -> pd.DataFrame:
        """Stored scores on the latest scored date on or before ``date`` (default: the latest),
        best rank first; empty when none is stored.

        Columns: date, symbol, sector, universe, score, rank, sector_rank, then each component's
        normalised value (``<name>``) and raw value (``<name>_raw``). ``universe`` keeps only
        that universe's symbols (an index's members on the scored date); ranks stay those of
        the stored computation. ``top`` keeps the first ``top`` rows.
        """
        return self._scores.latest(score_set, date, universe, top)

    def current_scores(
        self,
        score_set: str = ScoreSet.MOMENTUM_COMPOSITE,
        *,
        date: DateLike | None = None,
        universe: str | None = None,
        top: int | None = None,
        compute: bool | None = None,
    ) -> ScoreSnapshot:
        """The latest scores, computed first when needed (what ``quantdesk scores`` shows).

        The staleness rule: the *data date* is the newest date the universe's own symbols have
        bars for, on or before ``date`` (an index or ETF with later bars does not count). With
        ``compute=None``, nothing stored → score the whole history; stored scores older than
        the data date → score the data date only. ``compute=True`` always computes,
        ``False`` never. A date on which no symbol can be scored never erases stored scores.
        The result names the scored date shown, the data date and, when they differ, why.
        """
        return self._scores.refresh(
            score_set, date=date, universe=universe, top=top, compute=compute
        )

    def score_history(
        self, symbol: str, score_set: str = ScoreSet.MOMENTUM_COMPOSITE
    ) -> pd.DataFrame:
        """Every stored score of ``symbol`` in ``score_set``, oldest first (columns as in
        :meth:`latest_scores`). An unknown symbol is an error; no stored rows gives an empty
        frame."""
        return self._scores.history(symbol, score_set)

    def top_n(
        self, date: DateLike | None, n: int, score_set: str = ScoreSet.MOMENTUM_COMPOSITE
    ) -> pd.DataFrame:
        """The ``n`` best stored scores on the latest scored date on or before ``date``."""
        if n < 1:
            raise ResearchInputError(f"n must be at least 1, got {n}")
        return self.latest_scores(score_set, date, top=n)

    # -- sector momentum -------------------------------------------------------------------
    def sector_momentum_signal(
        self,
        date: DateLike | None = None,
        cash: Decimal | float | int | str = 100_000,
        top_n: int = 3,
        symbols: Sequence[str] | None = None,
        positions: Mapping[str, Decimal | float | int] | None = None,
    ) -> SectorSignal:
        """The 12-1 sector-rotation signal on the last trading day on or before ``date``.

        Every ETF is ranked by its 12-1 return (adjusted close ``t-252 → t-21`` trading days;
        shown in percent); the ``top_n`` best get a target weight of ``1 / top_n`` (fraction).
        The trade list moves ``positions`` (symbol → shares) plus ``cash`` to those targets in
        whole shares at each symbol's latest close on or before the date. ``symbols`` defaults
        to the stored ETFs, else the SPDR sector ETFs present. Stored in ``signals`` as
        strategy ``sector-rotation`` (one transaction, replacing that date's rows).
        """
        return self._signals.sector_momentum(date, cash, top_n, symbols, positions)

    def signals(self, strategy: str, date: DateLike | None = None) -> pd.DataFrame:
        """Stored signals of ``strategy`` (on ``date``, or every date)."""
        return self._signals.stored(strategy, date)

    # -- recommendations -------------------------------------------------------------------
    def recommend(
        self,
        optimizer: str = WeightingMethod.EQUAL,
        positions: int = 10,
        *,
        date: DateLike | None = None,
        score_set: str = ScoreSet.MOMENTUM_COMPOSITE,
        universe: str | None = None,
        lookback_days: int = 252,
        max_weight: float | None = None,
    ) -> Recommendation:
        """Target weights for the ``positions`` best names by the latest stored score on or
        before ``date`` (computed for that date first when none is stored).

        ``optimizer``: equal, rank, inverse-vol, mvo (max Sharpe) or hrp; the last three use the
        trailing ``lookback_days`` daily returns ending on the score date. ``max_weight`` caps
        each name (a fraction; the excess stays in cash). Stored in ``signals`` as strategy
        ``recommend:<score set>:<optimizer>``.
        """
        return self._signals.recommend(
            optimizer,
            positions,
            date=date,
            score_set=score_set,
            universe=universe,
            lookback_days=lookback_days,
            max_weight=max_weight,
        )
