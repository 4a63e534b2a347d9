"""Weighted composites of normalised factor panels, and the built-in composite momentum score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from quantdesk.data.panel import Panel
from quantdesk.factors import terms
from quantdesk.factors._arrays import FloatArray, Rows, as_mask, as_panel, as_rows, as_series
from quantdesk.factors.errors import FactorInputError
from quantdesk.factors.fundamentals import EarningsPanels, eps_momentum, pe_momentum
from quantdesk.factors.momentum import price_momentum, relative_strength, volume_momentum


class Normalisation(StrEnum):
    """How each component is put on a common scale before weighting."""

    ZSCORE = "zscore"
    PERCENTILE = "percentile"


class MissingPolicy(StrEnum):
    """What a composite does when a symbol lacks some (not all) of its components.

    ``RENORMALISE``: weight the available components, rescaled to sum to 1.
    ``EXCLUDE``: the symbol gets no score (NaN).
    """

    RENORMALISE = "renormalise"
    EXCLUDE = "exclude"


@dataclass(frozen=True)
class CompositeScore:
    """A composite ``score`` and the normalised ``components`` it was built from (same shape).

    ``coverage`` is, per cell, the share of the total positive weight whose component was
    available (a fraction: 1 = every component, 0.05 = one 5 % component only).
    """

    score: FloatArray
    components: Mapping[str, FloatArray]
    coverage: FloatArray


def _check_weights(weights: Mapping[str, float], names: set[str] | None = None) -> None:
    if not weights:
        raise FactorInputError("weights must name at least one component")
    for name, weight in weights.items():
        if not np.isfinite(weight) or weight < 0:
            raise FactorInputError(f"weight of {name!r} must be a finite number >= 0, got {weight}")
        if names is not None and name not in names:
            raise FactorInputError(f"unknown component {name!r}; expected one of {sorted(names)}")
    if sum(weights.values()) <= 0:
        raise FactorInputError("weights must not all be zero")


def composite_score(
    components: Mapping[str, npt.ArrayLike],
    weights: Mapping[str, float],
    *,
    normalise: Normalisation | str = Normalisation.ZSCORE,
    winsorize: tuple[float, float] | None = (0.01, 0.99),
    missing: MissingPolicy | str = MissingPolicy.RENORMALISE,
    universe: npt.ArrayLike | None = None,
    min_coverage: float = 0.0,
) -> CompositeScore:
    """Weighted sum of cross-sectionally normalised components, date by date.

    Each component with a positive weight is masked to ``universe``, winsorised at the
    ``winsorize`` quantiles (fractions; None to skip), then z-scored or turned into percentiles
    (0-1) per date. The score is ``sum(w_i * c_i) / sum(w_i)`` over the components available
    for the symbol (``missing='renormalise'``) or NaN unless all are (``'exclude'``). Weights need
    not sum to 1; they are used relative to each other. A symbol with no component is NaN, and
    so is one whose available components carry less than ``min_coverage`` (a fraction) of the
    total weight: a name scored on a 5 % component alone must not outrank fully scored names.
    """
    _check_weights(weights)
    _check_fraction(min_coverage, "min_coverage")
    absent = [name for name, w in weights.items() if w > 0 and name not in components]
    if absent:
        raise FactorInputError(f"weights name component(s) {absent} that were not supplied")
    how = Normalisation(normalise)
    policy = MissingPolicy(missing)
    active = [name for name, w in weights.items() if w > 0]
    arrays = {name: as_panel(components[name], name) for name in active}
    shape = arrays[active[0]].shape
    for name, array in arrays.items():
        if array.shape != shape:
            raise FactorInputError(f"component {name!r} has shape {array.shape}, expected {shape}")
    mask = as_mask(universe, "universe", shape)

    normalised: dict[str, FloatArray] = {}
    total = np.zeros(shape)
    weight_sum = np.zeros(shape)
    complete = np.ones(shape, dtype=bool)
    for name in active:
        values = arrays[name]
        if winsorize is not None:
            values = terms.winsorize(values, winsorize[0], winsorize[1], universe=mask)
        if how is Normalisation.ZSCORE:
            values = terms.zscore(values, universe=mask)
        else:
            values = terms.percentile(values, universe=mask)
        normalised[name] = values
        available = ~np.isnan(values)
        total += np.where(available, weights[name] * values, 0.0)
        weight_sum += np.where(available, weights[name], 0.0)
        complete &= available
    with np.errstate(invalid="ignore", divide="ignore"):
        score = total / weight_sum
    score[weight_sum == 0] = np.nan
    if policy is MissingPolicy.EXCLUDE:
        score[~complete] = np.nan
    coverage = weight_sum / sum(weights[name] for name in active)
    score[coverage < min_coverage - 1e-12] = np.nan
    return CompositeScore(score=score, components=MappingProxyType(normalised), coverage=coverage)


def _check_fraction(value: float, name: str) -> None:
    if not (np.isfinite(value) and 0.0 <= value <= 1.0):
        raise FactorInputError(f"{name} must be a fraction in [0, 1], got {value}")


MOMENTUM_COMPONENTS = (
    "relative_strength",
    "eps_momentum",
    "price_momentum",
    "pe_momentum",
    "volume_momentum",
)
DEFAULT_MOMENTUM_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "relative_strength": 0.40,
        "eps_momentum": 0.25,
        "price_momentum": 0.25,
        "pe_momentum": 0.05,
        "volume_momentum": 0.05,
    }
)


@dataclass(frozen=True)
class CompositeMomentumConfig:
    """Settings of the composite momentum score; lookbacks in trading days.

    ``weights`` must be non-negative, sum to 1 and name only :data:`MOMENTUM_COMPONENTS`.
    ``min_coverage``: a symbol is scored only when its available components carry at least
    this share of the configured weights (a fraction; components that could not be computed
    at all, e.g. EPS without earnings data, count as missing).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MOMENTUM_WEIGHTS)
    rs_lookback: int = 252
    rs_skip: int = 21
    price_horizons: tuple[int, ...] = (63, 126, 252)
    price_skip: int = 0
    volume_short: int = 20
    volume_long: int = 120
    eps_lookback: int = 252
    pe_lookback: int = 63
    normalise: Normalisation = Normalisation.ZSCORE
    winsorize: tuple[float, float] | None = (0.01, 0.99)
    missing: MissingPolicy = MissingPolicy.RENORMALISE
    min_coverage: float = 0.60

    def __post_init__(self) -> None:
        _check_weights(self.weights, set(MOMENTUM_COMPONENTS))
        _check_fraction(self.min_coverage, "min_coverage")
        if abs(sum(self.weights.values()) - 1.0) > 1e-9:
            raise FactorInputError(f"weights must sum to 1, got {sum(self.weights.values())}")
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "normalise", Normalisation(self.normalise))
        object.__setattr__(self, "missing", MissingPolicy(self.missing))


@dataclass(frozen=True)
class CompositeMomentumResult:
    """Scores on ``dates`` (the evaluated rows) × ``symbols``.

    ``rank`` is 1 for the best score of the date; ``sector_rank`` is 1 for the best in its
    sector (NaN without sector labels). ``raw`` holds the components in their own units,
    ``components`` the normalised ones; ``coverage`` the share of the configured weights each
    score was built from (a fraction; scores below ``min_coverage`` are NaN).
    """

    dates: npt.NDArray[np.datetime64]
    symbols: tuple[str, ...]
    score: FloatArray
    components: Mapping[str, FloatArray]
    raw: Mapping[str, FloatArray]
    rank: FloatArray
    sector_rank: FloatArray
    coverage: FloatArray


def composite_momentum(
    panel: Panel,
    benchmark: npt.ArrayLike,
    earnings: EarningsPanels | None = None,
    config: CompositeMomentumConfig | None = None,
    *,
    universe: npt.ArrayLike | None = None,
    sectors: npt.ArrayLike | None = None,
    at: Rows = None,
) -> CompositeMomentumResult:
    """The composite momentum score (default RS 40 %, EPS 25 %, price 25 %, P/E 5 %, volume 5 %).

    Prices are ``panel.prices()`` (adjusted close where present) for returns; P/E uses the
    ``close`` field, the price EPS is quoted against. ``benchmark`` is one price per panel date.
    ``universe`` is a dates × symbols boolean mask (point-in-time membership). Without
    ``earnings`` the EPS and P/E components are left out and the remaining weights rescaled to
    sum to 1. ``at`` restricts the evaluation to those rows (for example month ends).
    """
    config = config or CompositeMomentumConfig()
    _, prices = panel.prices()
    rows = as_rows(at, prices.shape[0])
    bench = as_series(benchmark, "benchmark", prices.shape[0])
    mask = as_mask(universe, "universe", prices.shape)

    raw: dict[str, FloatArray] = {
        "relative_strength": relative_strength(
            prices, bench, config.rs_lookback, config.rs_skip, at=rows
        ),
        "price_momentum": price_momentum(prices, config.price_horizons, config.price_skip, at=rows),
    }
    if "volume" in panel.fields:
        raw["volume_momentum"] = volume_momentum(
            panel["volume"], config.volume_short, config.volume_long, at=rows
        )
    if earnings is not None:
        raw["eps_momentum"] = eps_momentum(earnings.ttm_eps, config.eps_lookback, at=rows)
        raw["pe_momentum"] = pe_momentum(
            panel["close"], earnings.ttm_eps, config.pe_lookback, at=rows
        )
    weights = {name: w for name, w in config.weights.items() if name in raw and w > 0}
    if not weights:
        raise FactorInputError("no component with a positive weight could be computed")
    scale = sum(weights.values())
    weights = {name: w / scale for name, w in weights.items()}

    member = None if mask is None else mask[rows]
    result = composite_score(
        raw,
        weights,
        normalise=config.normalise,
        winsorize=config.winsorize,
        missing=config.missing,
        universe=member,
    )
    # coverage of the configured weights: components not computed at all count as missing
    coverage = result.coverage * scale / sum(config.weights.values())
    result.score[coverage < config.min_coverage - 1e-12] = np.nan
    rank = terms.rank(result.score, ascending=False)
    sector_rank = (
        np.full(rank.shape, np.nan)
        if sectors is None
        else terms.rank(result.score, ascending=False, groups=sectors)
    )
    return CompositeMomentumResult(
        dates=np.asarray(panel.dates)[rows],
        symbols=panel.symbols,
        score=result.score,
        components=result.components,
        raw=MappingProxyType(
            {
                name: raw[name] if member is None else np.where(member, raw[name], np.nan)
                for name in weights
            }
        ),
        rank=rank,
        sector_rank=sector_rank,
        coverage=np.where(np.isfinite(result.score), coverage, np.nan),
    )
