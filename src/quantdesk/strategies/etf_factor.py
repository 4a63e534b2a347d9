"""``etf-factor``: the ETF factor composite, then an optimiser over the best-scored funds.

At each period end ``t`` (default: a month's last trading day; never the final date of the
data) the funds are scored with :func:`quantdesk.factors.etf_factor_scores` on the rebalance
rows only: momentum (12-1), quality (Sharpe-like stability over 252 days), value (distance
below the 252-day high) and low volatility (63 days), z-scored across the eligible funds of the
date and combined with equal weights by default (a fund missing some factors is scored on the
others, rescaled). The ``positions`` best are then weighted by ``optimizer`` through
:func:`quantdesk.portfolio.construct`: ``equal``, ``rank``, ``inverse-vol``, ``mvo`` or
``hrp``, the last three estimated on the ``lookback_days`` daily returns up to ``t``; every
weight is capped at ``max_weight`` (a fraction; what cannot be placed stays in cash).

Eligible at ``t``: funds with a price at ``t`` (and among ``symbols`` when given). Prices are
the panel's valuation field (adjusted close, i.e. total return, where present). A period end
with no scored fund decides nothing. An optimiser that cannot produce weights on a date
(e.g. max-Sharpe when no fund has a positive mean return) raises its error naming the date.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import ClassVar

import numpy as np
from pydantic import Field, field_validator

from quantdesk.data.panel import Panel
from quantdesk.factors import (
    DEFAULT_ETF_WEIGHTS,
    MissingPolicy,
    Normalisation,
    etf_factor_scores,
)
from quantdesk.factors.schedule import RebalanceFrequency, period_end_mask
from quantdesk.portfolio import ConstructionConfig, MeanVarianceObjective, WeightingMethod
from quantdesk.strategies.base import StrategyParams
from quantdesk.strategies.momentum_composite import parse_weighting, weights_at_rows
from quantdesk.strategies.requirements import PRICE, DataRequirements
from quantdesk.strategies.sector_rotation import symbol_columns
from quantdesk.strategies.universe import UniverseAware

# rows the longest factor reads (12-1 momentum, 252-day quality and distance below the high)
FACTOR_WINDOW = 252


class EtfFactorParams(StrategyParams):
    """Parameters of ``etf-factor``; ``lookback_days`` in trading days, weights as fractions.

    ``weights`` maps factor (``momentum``, ``quality``, ``value``, ``volatility``) to its
    relative weight (non-negative, not all zero; used relative to each other).
    """

    optimizer: WeightingMethod = WeightingMethod.EQUAL
    positions: int = Field(10, ge=1, description="funds held")
    lookback_days: int = Field(126, ge=2, description="returns rows for inverse-vol, mvo, hrp")
    max_weight: float = Field(1.0, gt=0, le=1, description="cap per fund, a fraction")
    mvo_objective: MeanVarianceObjective = MeanVarianceObjective.MAX_SHARPE
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_ETF_WEIGHTS))
    missing: MissingPolicy = MissingPolicy.RENORMALISE
    normalise: Normalisation = Normalisation.ZSCORE
    frequency: RebalanceFrequency = RebalanceFrequency.MONTHLY
    symbols: tuple[str, ...] | None = Field(None, min_length=1)

    @field_validator("optimizer", mode="before")
    @classmethod
    def _parse_optimizer(cls, value: object) -> object:
        return parse_weighting(value)

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        known = list(DEFAULT_ETF_WEIGHTS)
        for factor, weight in weights.items():
            if factor not in known:
                raise ValueError(f"unknown factor {factor!r} (factors: {', '.join(known)})")
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"weight of {factor!r} must be a finite number >= 0, got {weight}")
        if not sum(weights.values()) > 0:
            raise ValueError("at least one factor weight must be positive")
        return weights

    def construction_config(self) -> ConstructionConfig:
        """The portfolio-construction settings these parameters describe."""
        return ConstructionConfig(
            positions=self.positions,
            weighting=self.optimizer,
            mvo_objective=self.mvo_objective,
            max_weight=self.max_weight,
            lookback_days=self.lookback_days,
        )


class EtfFactor(UniverseAware):
    """ETF factor composite → top-N → optimiser, rebalanced at period ends."""

    name: ClassVar[str] = "etf-factor"
    Params: ClassVar[type[StrategyParams]] = EtfFactorParams
    default_universe: ClassVar[str] = "etf"  # rotates between ETFs, not single stocks
    requirements: ClassVar[DataRequirements] = DataRequirements(fields=(PRICE,), membership=True)
    params: EtfFactorParams

    @classmethod
    def data_requirements(cls, params: StrategyParams) -> DataRequirements:
        """Valuation prices and membership; warm-up: the 252-session momentum, quality and
        value windows, or ``lookback_days`` of returns when longer."""
        assert isinstance(params, EtfFactorParams)
        rows = max(FACTOR_WINDOW, params.lookback_days)
        rule = (
            f"lookback_days = {rows}"
            if rows > FACTOR_WINDOW
            else f"{FACTOR_WINDOW}-session factor windows"
        )
        return replace(cls.requirements, warmup=rows, warmup_rule=rule)

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        return period_end_mask(dates, self.params.frequency, include_final=False)

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        """Weights (fractions) on rebalance rows, NaN elsewhere; row t reads rows ≤ t only."""
        _, prices = panel.prices()
        rows = np.flatnonzero(rebalance_mask)
        if rows.size == 0:
            return np.full(panel.shape, np.nan)
        eligible = (prices > 0) & symbol_columns(panel, self.params.symbols) & self.members(panel)
        scores = etf_factor_scores(
            prices,
            {factor: w for factor, w in self.params.weights.items() if w > 0},
            normalise=self.params.normalise,
            missing=self.params.missing,
            universe=eligible,
            at=rows,
        )
        return weights_at_rows(
            panel,
            prices,
            rows,
            scores.score,
            self.params.construction_config(),
            None,
            strategy=self.name,
        )


__all__ = ["EtfFactor", "EtfFactorParams"]
