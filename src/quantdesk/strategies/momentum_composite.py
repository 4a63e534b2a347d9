"""``momentum-composite``: the composite momentum score, then top-N portfolio construction.

At each period end ``t`` (default: a month's last trading day, ``quarterly`` like the
momentum-trading-system design; never the final date of the data) the strategy scores the
symbols with :func:`quantdesk.factors.composite_momentum` evaluated on the rebalance rows only:
relative strength vs the benchmark 40 %, EPS momentum 25 %, price momentum 25 %, P/E momentum
5 %, volume momentum 5 % by default, each component winsorised and z-scored across the symbols
of the date; a symbol missing some components is scored on the others with their weights
rescaled (``missing="exclude"`` drops it instead). It then builds the portfolio with
:func:`quantdesk.portfolio.construct`: by default the 10 best scores at equal weight, with an
optional per-name cap and sector caps. Weights are fractions of equity.

Eligible at ``t``: symbols with a price at ``t`` (they can trade at that close), in the
point-in-time universe at ``t`` when one is bound, and not the benchmark column. A period end
with no scored symbol decides nothing (the engines keep the holdings).

The benchmark series, earnings, sector labels and universe are *data*, not parameters: they are
bound to the strategy object (constructor keywords or :meth:`MomentumComposite.bind`) so the
``Params`` stay pure configuration that can be stored as JSON and swept by the optimiser.
Earnings given as a frame of reports are aligned to the panel's dates with the known-date rule
of :func:`quantdesk.factors.align_earnings`, so a report is only used once it was public.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from quantdesk.data.panel import Panel
from quantdesk.factors import (
    DEFAULT_MOMENTUM_WEIGHTS,
    CompositeMomentumConfig,
    EarningsPanels,
    FactorInputError,
    MissingPolicy,
    Normalisation,
    align_earnings,
    composite_momentum,
)
from quantdesk.factors.schedule import RebalanceFrequency, period_end_mask
from quantdesk.portfolio import (
    ConstructionConfig,
    DegenerateInputError,
    MeanVarianceObjective,
    OptimizationError,
    WeightingMethod,
    construct,
)
from quantdesk.strategies.base import AllocationStrategy, StrategyParameterError, StrategyParams
from quantdesk.strategies.requirements import PRICE, DataRequirements
from quantdesk.strategies.universe import (
    StrategyDataError,
    Universe,
    naive_index,
    universe_mask,
)

Benchmark = pd.Series | npt.NDArray[np.float64]
Earnings = pd.DataFrame | EarningsPanels
Sectors = pd.Series | Mapping[str, str]


def parse_weighting(value: object) -> object:
    """Accept the construction layer's spellings ("inverse-volatility", "mean_variance", …)."""
    if isinstance(value, str) and not isinstance(value, WeightingMethod):
        try:
            return ConstructionConfig(weighting=value).weighting
        except ValidationError as error:
            raise ValueError(_first_message(error, with_location=False)) from None
    return value


def _first_message(error: ValidationError, *, with_location: bool = True) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) if with_location else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


class MomentumCompositeParams(StrategyParams):
    """Parameters of ``momentum-composite``; lookbacks in trading days (rows), weights fractions.

    ``weights`` are the component weights (names of
    :data:`quantdesk.factors.MOMENTUM_COMPONENTS`, non-negative, summing to 1).
    ``benchmark_symbol`` names a panel column to use as the benchmark when no series is bound.
    ``positions``, ``weighting``, ``max_weight``, ``sector_caps``, ``default_sector_cap`` and
    ``lookback_days`` are the :class:`~quantdesk.portfolio.ConstructionConfig` settings.
    """

    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MOMENTUM_WEIGHTS))
    missing: MissingPolicy = MissingPolicy.RENORMALISE
    normalise: Normalisation = Normalisation.ZSCORE
    rs_lookback: int = Field(252, ge=2)
    rs_skip: int = Field(21, ge=0)
    price_horizons: tuple[int, ...] = Field((63, 126, 252), min_length=1)
    eps_lookback: int = Field(252, ge=1)
    pe_lookback: int = Field(63, ge=1)
    earnings_max_age_days: int = Field(200, ge=1, description="calendar days a report stays used")
    benchmark_symbol: str | None = None
    frequency: RebalanceFrequency = RebalanceFrequency.MONTHLY
    positions: int = Field(10, ge=1, description="names held")
    weighting: WeightingMethod = WeightingMethod.EQUAL
    mvo_objective: MeanVarianceObjective = MeanVarianceObjective.MAX_SHARPE
    max_weight: float = Field(1.0, gt=0, le=1, description="cap per name, a fraction")
    sector_caps: dict[str, float] = Field(default_factory=dict)
    default_sector_cap: float | None = Field(None, ge=0, le=1)
    lookback_days: int = Field(126, ge=2, description="returns rows for inverse-vol, mvo, hrp")

    @field_validator("weighting", mode="before")
    @classmethod
    def _parse_weighting(cls, value: object) -> object:
        return parse_weighting(value)

    @model_validator(mode="after")
    def _consistent(self) -> MomentumCompositeParams:
        if self.rs_skip >= self.rs_lookback:
            raise ValueError(
                f"rs_skip ({self.rs_skip}) must be less than rs_lookback ({self.rs_lookback})"
            )
        if any(h < 1 for h in self.price_horizons):
            raise ValueError(f"price_horizons must be positive, got {self.price_horizons}")
        try:
            self.composite_config()
        except FactorInputError as error:
            raise ValueError(f"weights: {error}") from None
        try:
            self.construction_config()
        except ValidationError as error:
            raise ValueError(_first_message(error)) from None
        return self

    def composite_config(self) -> CompositeMomentumConfig:
        """The factor-layer settings these parameters describe."""
        return CompositeMomentumConfig(
            weights=self.weights,
            rs_lookback=self.rs_lookback,
            rs_skip=self.rs_skip,
            price_horizons=self.price_horizons,
            eps_lookback=self.eps_lookback,
            pe_lookback=self.pe_lookback,
            normalise=self.normalise,
            missing=self.missing,
        )

    def construction_config(self) -> ConstructionConfig:
        """The portfolio-construction settings these parameters describe."""
        return ConstructionConfig(
            positions=self.positions,
            weighting=self.weighting,
            mvo_objective=self.mvo_objective,
            max_weight=self.max_weight,
            sector_caps=self.sector_caps,
            default_sector_cap=self.default_sector_cap,
            lookback_days=self.lookback_days,
        )


class MomentumComposite(AllocationStrategy):
    """Composite momentum score → top-N construction, rebalanced at period ends.

    Data keywords (all optional except a benchmark, which may instead be the panel column
    named by ``benchmark_symbol``):

    * ``benchmark``: benchmark prices, a ``pd.Series`` indexed by date (aligned to the panel
      dates, carried forward over gaps) or an array with one price per panel date;
    * ``earnings``: a frame of earnings reports (``symbol``, ``report_date``, ``eps``, …) or
      pre-aligned :class:`~quantdesk.factors.EarningsPanels` of the panel's shape;
    * ``sectors``: symbol → sector, needed for sector caps;
    * ``universe``: point-in-time membership, a boolean dates × symbols ``pd.DataFrame``
      (missing cells are non-members) or a boolean array of the panel's shape.
    """

    name: ClassVar[str] = "momentum-composite"
    Params: ClassVar[type[StrategyParams]] = MomentumCompositeParams
    # volume for volume momentum, the benchmark for relative strength, earnings for EPS and
    # P/E momentum, sectors for sector caps; warm-up = the longest lookback or horizon
    requirements: ClassVar[DataRequirements] = DataRequirements(
        fields=(PRICE, "volume"), benchmark=True, earnings=True, sectors=True, membership=True
    )
    params: MomentumCompositeParams

    def __init__(
        self,
        params: StrategyParams | None = None,
        *,
        benchmark: Benchmark | None = None,
        earnings: Earnings | None = None,
        sectors: Sectors | None = None,
        universe: Universe | None = None,
        **values: Any,
    ) -> None:
        super().__init__(params, **values)
        self.benchmark = benchmark
        self.earnings = earnings
        self.sectors = sectors
        self.universe = universe

    def bind(
        self,
        *,
        benchmark: Benchmark | None = None,
        earnings: Earnings | None = None,
        sectors: Sectors | None = None,
        universe: Universe | None = None,
    ) -> MomentumComposite:
        """A copy with the same parameters and the given data (data not given is kept)."""
        return type(self)(
            self.params,
            benchmark=self.benchmark if benchmark is None else benchmark,
            earnings=self.earnings if earnings is None else earnings,
            sectors=self.sectors if sectors is None else sectors,
            universe=self.universe if universe is None else universe,
        )

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        return period_end_mask(dates, self.params.frequency, include_final=False)

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        """Weights (fractions) on rebalance rows, NaN elsewhere; row t reads rows ≤ t only."""
        _, prices = panel.prices()
        rows = np.flatnonzero(rebalance_mask)
        if rows.size == 0:
            return np.full(panel.shape, np.nan)
        sectors = self._sector_map()
        construction = self.params.construction_config()
        if (construction.sector_caps or construction.default_sector_cap is not None) and (
            sectors is None
        ):
            raise StrategyParameterError(
                f"strategy {self.name!r} has sector caps but no sector labels were bound "
                "(pass sectors=...)"
            )
        eligible = (prices > 0) & self._universe_mask(panel)
        benchmark_column = self._benchmark_column(panel)
        if benchmark_column is not None:
            eligible[:, benchmark_column] = False
        result = composite_momentum(
            panel,
            self._benchmark_prices(panel, prices, benchmark_column),
            self._earnings_panels(panel),
            self.params.composite_config(),
            universe=eligible,
            at=rows,
        )
        return weights_at_rows(
            panel, prices, rows, result.score, construction, sectors, strategy=self.name
        )

    def _benchmark_column(self, panel: Panel) -> int | None:
        symbol = self.params.benchmark_symbol
        if symbol is None:
            return None
        if symbol not in panel.symbols:
            raise StrategyDataError(
                f"benchmark_symbol {symbol!r} is not a column of the panel "
                f"({len(panel.symbols)} symbols)"
            )
        return panel.symbols.index(symbol)

    def _benchmark_prices(
        self, panel: Panel, prices: np.ndarray, column: int | None
    ) -> npt.NDArray[np.float64]:
        if self.benchmark is None:
            if column is None:
                raise StrategyParameterError(
                    f"strategy {self.name!r} needs a benchmark: bind a price series "
                    "(benchmark=...) or set the parameter benchmark_symbol to a panel column"
                )
            return np.asarray(prices[:, column], dtype=np.float64)
        if isinstance(self.benchmark, pd.Series):
            index = naive_index(self.benchmark.index, "benchmark")
            series = pd.Series(self.benchmark.to_numpy(dtype=np.float64), index=index)
            series = series[~series.index.duplicated(keep="last")].sort_index()
            # carry the last known level over dates the benchmark lacks (a causal fill)
            aligned = series.reindex(series.index.union(pd.DatetimeIndex(panel.dates))).ffill()
            return np.asarray(aligned.reindex(pd.DatetimeIndex(panel.dates)), dtype=np.float64)
        values = np.asarray(self.benchmark, dtype=np.float64)
        if values.shape != (len(panel.dates),):
            raise StrategyDataError(
                f"benchmark must have one price per panel date, shape ({len(panel.dates)},), "
                f"got {values.shape}"
            )
        return values

    def _earnings_panels(self, panel: Panel) -> EarningsPanels | None:
        if self.earnings is None:
            return None
        if isinstance(self.earnings, EarningsPanels):
            if self.earnings.ttm_eps.shape != panel.shape:
                raise StrategyDataError(
                    f"earnings panels have shape {self.earnings.ttm_eps.shape}, "
                    f"the panel is {panel.shape}"
                )
            return self.earnings
        return align_earnings(
            self.earnings, panel.dates, panel.symbols, self.params.earnings_max_age_days
        )

    def _sector_map(self) -> dict[str, str] | None:
        if self.sectors is None:
            return None
        return {str(symbol): str(sector) for symbol, sector in dict(self.sectors).items()}

    def _universe_mask(self, panel: Panel) -> npt.NDArray[np.bool_]:
        return universe_mask(self.universe, panel)


def weights_at_rows(
    panel: Panel,
    prices: np.ndarray,
    rows: npt.NDArray[np.intp],
    scores: np.ndarray,
    config: ConstructionConfig,
    sectors: Mapping[str, str] | None,
    *,
    strategy: str,
) -> np.ndarray:
    """Target weights ``(T, N)``: :func:`construct` on each of ``rows`` from its row of ``scores``.

    ``scores`` has one row per entry of ``rows`` (NaN = not eligible); a row without any score
    stays NaN (no decision). The returns window of row ``t`` is the simple returns of ``prices``
    over rows ``t − lookback_days … t``, so nothing after ``t`` is read.
    """
    symbols = list(panel.symbols)
    out = np.full(panel.shape, np.nan)
    needs_returns = config.weighting not in (WeightingMethod.EQUAL, WeightingMethod.RANK)
    for k, t in enumerate(rows):
        if not np.isfinite(scores[k]).any():
            continue
        window = None
        if needs_returns:
            block = prices[max(0, t - config.lookback_days) : t + 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                returns = block[1:] / block[:-1] - 1.0
            returns[~np.isfinite(returns)] = np.nan
            window = pd.DataFrame(returns, columns=symbols)
        try:
            weights = construct(pd.Series(scores[k], index=symbols), window, config, sectors)
        except (DegenerateInputError, OptimizationError) as error:
            date = pd.Timestamp(panel.dates[t]).date()
            raise type(error)(f"strategy {strategy!r} on {date}: {error}") from error
        out[t] = weights.reindex(symbols).to_numpy(dtype=np.float64)
    return out


__all__ = [
    "MomentumComposite",
    "MomentumCompositeParams",
    "StrategyDataError",
    "parse_weighting",
    "universe_mask",
    "weights_at_rows",
]
