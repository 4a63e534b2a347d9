"""Factor library: pure functions over dates × symbols float64 panels (NaN = missing).

Time-series factors (:mod:`.momentum`, :mod:`.technical`, :mod:`.fundamentals`) take ``at=`` row
indices to evaluate only on rebalance dates (:mod:`.schedule`); cross-sectional transforms
(:mod:`.terms`, :class:`Term`) work date by date inside an optional point-in-time universe mask;
:mod:`.composite` and :mod:`.etf` build the scores.

Names load on first use (PEP 562): a strategy that needs only the rebalance schedule does not
import TA-Lib (``technical``) or pandas-heavy modules (``terms``, ``fundamentals``) with it
(issue 11). No factor uses numba: window statistics are NumPy (:mod:`.windows`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.factors.composite import (
        DEFAULT_MOMENTUM_WEIGHTS,
        MOMENTUM_COMPONENTS,
        CompositeMomentumConfig,
        CompositeMomentumResult,
        CompositeScore,
        MissingPolicy,
        Normalisation,
        composite_momentum,
        composite_score,
    )
    from quantdesk.factors.errors import (
        FactorInputError,
    )
    from quantdesk.factors.etf import (
        DEFAULT_ETF_WEIGHTS,
        EtfFactorScores,
        SectorRotationSignal,
        etf_factor_scores,
        sector_rotation_signal,
    )
    from quantdesk.factors.fundamentals import (
        EarningsPanels,
        align_earnings,
        earnings_yield,
        eps_momentum,
        pe_momentum,
        pe_ratio,
    )
    from quantdesk.factors.momentum import (
        distance_from_high,
        momentum_12_1,
        price_momentum,
        relative_strength,
        rolling_mean,
        sharpe_like,
        volatility,
        volume_momentum,
        window_return,
    )
    from quantdesk.factors.schedule import (
        RebalanceFrequency,
        month_end_rows,
        period_end_rows,
        rows_for_dates,
    )
    from quantdesk.factors.technical import (
        BollingerBands,
        GapPolicy,
        Macd,
        SupportResistance,
        atr,
        bollinger,
        ema,
        macd,
        rsi,
        sma,
        support_resistance,
    )
    from quantdesk.factors.term import (
        Term,
    )
    from quantdesk.factors.terms import (
        bottom,
        demean,
        min_dollar_volume,
        min_history,
        min_price,
        percentile,
        rank,
        top,
        winsorize,
        zscore,
    )

_EXPORTS = {
    "BollingerBands": "quantdesk.factors.technical",
    "CompositeMomentumConfig": "quantdesk.factors.composite",
    "CompositeMomentumResult": "quantdesk.factors.composite",
    "CompositeScore": "quantdesk.factors.composite",
    "DEFAULT_ETF_WEIGHTS": "quantdesk.factors.etf",
    "DEFAULT_MOMENTUM_WEIGHTS": "quantdesk.factors.composite",
    "EarningsPanels": "quantdesk.factors.fundamentals",
    "EtfFactorScores": "quantdesk.factors.etf",
    "FactorInputError": "quantdesk.factors.errors",
    "GapPolicy": "quantdesk.factors.technical",
    "MOMENTUM_COMPONENTS": "quantdesk.factors.composite",
    "Macd": "quantdesk.factors.technical",
    "MissingPolicy": "quantdesk.factors.composite",
    "Normalisation": "quantdesk.factors.composite",
    "RebalanceFrequency": "quantdesk.factors.schedule",
    "SectorRotationSignal": "quantdesk.factors.etf",
    "SupportResistance": "quantdesk.factors.technical",
    "Term": "quantdesk.factors.term",
    "align_earnings": "quantdesk.factors.fundamentals",
    "atr": "quantdesk.factors.technical",
    "bollinger": "quantdesk.factors.technical",
    "bottom": "quantdesk.factors.terms",
    "composite_momentum": "quantdesk.factors.composite",
    "composite_score": "quantdesk.factors.composite",
    "demean": "quantdesk.factors.terms",
    "distance_from_high": "quantdesk.factors.momentum",
    "earnings_yield": "quantdesk.factors.fundamentals",
    "ema": "quantdesk.factors.technical",
    "eps_momentum": "quantdesk.factors.fundamentals",
    "etf_factor_scores": "quantdesk.factors.etf",
    "macd": "quantdesk.factors.technical",
    "min_dollar_volume": "quantdesk.factors.terms",
    "min_history": "quantdesk.factors.terms",
    "min_price": "quantdesk.factors.terms",
    "momentum_12_1": "quantdesk.factors.momentum",
    "month_end_rows": "quantdesk.factors.schedule",
    "pe_momentum": "quantdesk.factors.fundamentals",
    "pe_ratio": "quantdesk.factors.fundamentals",
    "percentile": "quantdesk.factors.terms",
    "period_end_rows": "quantdesk.factors.schedule",
    "price_momentum": "quantdesk.factors.momentum",
    "rank": "quantdesk.factors.terms",
    "relative_strength": "quantdesk.factors.momentum",
    "rolling_mean": "quantdesk.factors.momentum",
    "rows_for_dates": "quantdesk.factors.schedule",
    "rsi": "quantdesk.factors.technical",
    "sector_rotation_signal": "quantdesk.factors.etf",
    "sharpe_like": "quantdesk.factors.momentum",
    "sma": "quantdesk.factors.technical",
    "support_resistance": "quantdesk.factors.technical",
    "top": "quantdesk.factors.terms",
    "volatility": "quantdesk.factors.momentum",
    "volume_momentum": "quantdesk.factors.momentum",
    "window_return": "quantdesk.factors.momentum",
    "winsorize": "quantdesk.factors.terms",
    "zscore": "quantdesk.factors.terms",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quantdesk.factors' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DEFAULT_ETF_WEIGHTS",
    "DEFAULT_MOMENTUM_WEIGHTS",
    "MOMENTUM_COMPONENTS",
    "BollingerBands",
    "CompositeMomentumConfig",
    "CompositeMomentumResult",
    "CompositeScore",
    "EarningsPanels",
    "EtfFactorScores",
    "FactorInputError",
    "GapPolicy",
    "Macd",
    "MissingPolicy",
    "Normalisation",
    "RebalanceFrequency",
    "SectorRotationSignal",
    "SupportResistance",
    "Term",
    "align_earnings",
    "atr",
    "bollinger",
    "bottom",
    "composite_momentum",
    "composite_score",
    "demean",
    "distance_from_high",
    "earnings_yield",
    "ema",
    "eps_momentum",
    "etf_factor_scores",
    "macd",
    "min_dollar_volume",
    "min_history",
    "min_price",
    "momentum_12_1",
    "month_end_rows",
    "pe_momentum",
    "pe_ratio",
    "percentile",
    "period_end_rows",
    "price_momentum",
    "rank",
    "relative_strength",
    "rolling_mean",
    "rows_for_dates",
    "rsi",
    "sector_rotation_signal",
    "sharpe_like",
    "sma",
    "support_resistance",
    "top",
    "volatility",
    "volume_momentum",
    "window_return",
    "winsorize",
    "zscore",
]
