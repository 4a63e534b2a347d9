"""Factor library: pure functions over dates × symbols float64 panels (NaN = missing).

Time-series factors (:mod:`.momentum`, :mod:`.technical`, :mod:`.fundamentals`) take ``at=`` row
indices to evaluate only on rebalance dates (:mod:`.schedule`); cross-sectional transforms
(:mod:`.terms`, :class:`Term`) work date by date inside an optional point-in-time universe mask;
:mod:`.composite` and :mod:`.etf` build the scores.
"""

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
from quantdesk.factors.errors import FactorInputError
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
from quantdesk.factors.term import Term
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
