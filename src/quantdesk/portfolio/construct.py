"""Portfolio construction from one date's scores: select → weigh → constrain.

:func:`construct` runs the blocks of :mod:`.select`, :mod:`.weigh` and :mod:`.constraints` in
that order as set by a typed, frozen :class:`ConstructionConfig`. It sees only what it is given:
the caller passes scores and a returns window that end at the decision date.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quantdesk.portfolio.constraints import apply_caps, cash_buffer
from quantdesk.portfolio.errors import PortfolioInputError
from quantdesk.portfolio.select import top_fraction, top_n
from quantdesk.portfolio.weigh import (
    MeanVarianceObjective,
    equal_weight,
    hierarchical_risk_parity,
    inverse_volatility,
    mean_variance,
    rank_weight,
)


class SelectionMethod(StrEnum):
    """How names are picked from the scores."""

    TOP_N = "top-n"
    TOP_FRACTION = "top-fraction"


class WeightingMethod(StrEnum):
    """How the selected names are weighted; values match the CLI's ``--optimizer`` choices."""

    EQUAL = "equal"
    RANK = "rank"
    INVERSE_VOLATILITY = "inverse-vol"
    MEAN_VARIANCE = "mvo"
    HIERARCHICAL_RISK_PARITY = "hrp"


# Common spellings users type, mapped to the canonical value.
_ALIASES = {
    "equal-weight": "equal",
    "rank-based": "rank",
    "inverse-volatility": "inverse-vol",
    "mean-variance": "mvo",
    "hierarchical-risk-parity": "hrp",
}


def _did_you_mean(value: str, choices: list[str]) -> str:
    """`` did you mean 'x'?`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _parse_choice(value: object, kind: type[StrEnum], what: str) -> object:
    if not isinstance(value, str) or isinstance(value, kind):
        return value
    text = value.strip().lower().replace("_", "-").replace(" ", "-")
    normalised = _ALIASES.get(text, text)
    choices = [member.value for member in kind]
    if normalised in choices:
        return kind(normalised)
    raise ValueError(
        f"unknown {what} {value!r}{_did_you_mean(normalised, choices)} (choose from {choices})"
    )


class ConstructionConfig(BaseModel):
    """Settings of :func:`construct`. Weights and caps are fractions (0.1 = 10 %), not percent.

    ``positions`` is n for ``top-n``; ``fraction`` (with ``minimum_positions``) is used by
    ``top-fraction``. ``lookback_days`` is the number of most recent rows of the returns window
    used by the inverse-vol, mvo and hrp weightings. ``sector_caps`` maps sector → maximum total
    weight; sectors without an entry use ``default_sector_cap`` (``None``: uncapped).
    ``cash_buffer`` is the minimum fraction kept in cash.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    selection: SelectionMethod = SelectionMethod.TOP_N
    positions: int = Field(default=10, ge=0)
    fraction: float | None = Field(default=None, gt=0, le=1)
    minimum_positions: int = Field(default=1, ge=0)
    weighting: WeightingMethod = WeightingMethod.EQUAL
    mvo_objective: MeanVarianceObjective = MeanVarianceObjective.MAX_SHARPE
    # when max-Sharpe is undefined on a date (every selected name lost money over the window)
    # a backtest keeps going with this objective instead of stopping; None raises instead
    mvo_fallback: MeanVarianceObjective | None = MeanVarianceObjective.MIN_VARIANCE
    max_weight: float = Field(default=1.0, gt=0, le=1)
    sector_caps: dict[str, float] = Field(default_factory=dict)
    default_sector_cap: float | None = Field(default=None, ge=0, le=1)
    cash_buffer: float = Field(default=0.0, ge=0, lt=1)
    lookback_days: int = Field(default=126, ge=2)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = list(cls.model_fields)
            for key in data:
                if key not in known:
                    hint = _did_you_mean(str(key), known)
                    raise ValueError(f"unknown construction setting {key!r}{hint}")
        return data

    @field_validator("selection", mode="before")
    @classmethod
    def _parse_selection(cls, value: object) -> object:
        return _parse_choice(value, SelectionMethod, "selection method")

    @field_validator("weighting", mode="before")
    @classmethod
    def _parse_weighting(cls, value: object) -> object:
        return _parse_choice(value, WeightingMethod, "weighting method")

    @field_validator("mvo_objective", mode="before")
    @classmethod
    def _parse_objective(cls, value: object) -> object:
        return _parse_choice(value, MeanVarianceObjective, "mean-variance objective")

    @field_validator("sector_caps")
    @classmethod
    def _check_sector_caps(cls, caps: dict[str, float]) -> dict[str, float]:
        for sector, cap in caps.items():
            if not 0 <= cap <= 1:
                raise ValueError(f"sector cap for {sector!r} must be in [0, 1], got {cap}")
        return caps

    @model_validator(mode="after")
    def _check_selection_settings(self) -> ConstructionConfig:
        if self.selection is SelectionMethod.TOP_FRACTION and self.fraction is None:
            raise ValueError("selection 'top-fraction' needs 'fraction' (in (0, 1])")
        return self


def construct(
    scores: pd.Series,
    returns_window: pd.DataFrame | None,
    config: ConstructionConfig,
    sectors: pd.Series | Mapping[str, str] | None = None,
) -> pd.Series:
    """Target weights (fractions, ≥ 0, sum ≤ 1) indexed like ``scores``; the rest is cash.

    ``scores`` is one date's scores by symbol (higher is better, NaN = not eligible).
    ``returns_window`` is dates × symbols simple returns up to the decision date; only its last
    ``config.lookback_days`` rows are used, and it may be ``None`` for equal and rank weights.
    ``sectors`` maps symbol → sector and is needed when sector caps are set.
    """
    if config.selection is SelectionMethod.TOP_N:
        selected = top_n(scores, config.positions)
    else:
        assert config.fraction is not None  # guaranteed by the config validator
        selected = top_fraction(scores, config.fraction, config.minimum_positions)
    weights = _weigh(scores, selected, returns_window, config)
    has_sector_caps = bool(config.sector_caps) or config.default_sector_cap is not None
    capped = apply_caps(
        weights,
        max_weight=config.max_weight if config.max_weight < 1 else None,
        sectors=sectors if has_sector_caps else None,
        caps=config.sector_caps,
        default_cap=config.default_sector_cap,
    )
    return cash_buffer(capped, config.cash_buffer)


def _weigh(
    scores: pd.Series,
    selected: pd.Series,
    returns_window: pd.DataFrame | None,
    config: ConstructionConfig,
) -> pd.Series:
    method = config.weighting
    if method is WeightingMethod.EQUAL:
        return equal_weight(selected)
    if method is WeightingMethod.RANK:
        return rank_weight(scores, selected)
    if returns_window is None:
        raise PortfolioInputError(f"weighting {method.value!r} needs a returns window, got None")
    window = returns_window.iloc[-config.lookback_days :]
    if method is WeightingMethod.INVERSE_VOLATILITY:
        return inverse_volatility(window, selected)
    if method is WeightingMethod.MEAN_VARIANCE:
        return mean_variance(
            window,
            selected,
            objective=config.mvo_objective,
            max_weight=config.max_weight,
            undefined_fallback=config.mvo_fallback,
        )
    return hierarchical_risk_parity(window, selected, max_weight=config.max_weight)
