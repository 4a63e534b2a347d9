"""The two shapes of strategy and the context a signal strategy trades through.

*Allocation* strategies decide target weights on rebalance dates for the whole history at
once (the vectorised engine runs them; the event engine can too).  *Signal* strategies react bar
by bar through a :class:`StrategyContext` (the event engine, paper and live trading provide it).
Neither shape holds a broker or reads the wall clock, so one object runs in backtest and live.
"""

from __future__ import annotations

import difflib
import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from quantdesk.core.errors import ConfigurationError, NotFoundError
from quantdesk.data.panel import Panel
from quantdesk.strategies.requirements import BAR_FIELDS, DataRequirements, longest_window


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: typed, frozen, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategyParameterError(ConfigurationError, ValueError):
    """Parameters given to a strategy are unknown or invalid (the message names them)."""


class UnknownStrategyError(NotFoundError, KeyError):
    """No strategy is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def did_you_mean(word: str, choices: list[str]) -> str:
    """A ``"; did you mean 'x'?"`` suffix naming the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def validate_params(
    strategy_name: str, model: type[StrategyParams], values: dict[str, Any]
) -> StrategyParams:
    """Build ``model`` from ``values`` or raise :class:`StrategyParameterError` with a hint."""
    known = list(model.model_fields)
    for key in values:
        if key not in known:
            raise StrategyParameterError(
                f"strategy {strategy_name!r} has no parameter {key!r}{did_you_mean(key, known)}"
                f" (parameters: {', '.join(known) or 'none'})"
            )
    try:
        return model(**values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise StrategyParameterError(
            f"invalid parameters for strategy {strategy_name!r}: {problems}"
        ) from error


class _ParametrisedStrategy:
    """Shared plumbing: a registered ``name``, a ``Params`` model and validated ``params``."""

    name: ClassVar[str]
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    # costs the strategy's own rules prescribe (a ``CostModel``); None = the engine default
    default_costs: ClassVar[Any] = None
    # the universe a run uses when none is given ("all", "etf", "index:NAME", or symbols)
    default_universe: ClassVar[str] = "all"
    # the data the strategy reads (fields, benchmark, earnings, …) with its warm-up left to
    # data_requirements; None: inferred (every field, the data keywords __init__ accepts)
    requirements: ClassVar[DataRequirements | None] = None

    def __init__(self, params: StrategyParams | None = None, **values: Any) -> None:
        if params is not None and values:
            raise StrategyParameterError(
                f"strategy {self.name!r}: give either a Params object or keyword values, not both"
            )
        if params is None:
            params = validate_params(self.name, self.Params, values)
        elif not isinstance(params, self.Params):
            raise StrategyParameterError(
                f"strategy {self.name!r} expects {self.Params.__name__}, "
                f"got {type(params).__name__}"
            )
        self.params = params

    @classmethod
    def create(cls, **values: Any) -> Self:
        """Construct from keyword parameter values (validated, with "did you mean" hints)."""
        return cls(**values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    @classmethod
    def data_requirements(cls, params: StrategyParams) -> DataRequirements:
        """The data this strategy reads with ``params`` (loaded by the service, nothing more).

        The default is the class's ``requirements`` with the warm-up of its longest window
        parameter (``lookback``, ``slow``, ``period`` …); a class without ``requirements``
        gets every bar field and the data keywords its constructor accepts. Strategies whose
        warm-up is not their longest window override this.
        """
        warmup, rule = longest_window(params)
        declared = cls.requirements
        if declared is None:
            accepted = inspect.signature(cls.__init__).parameters
            declared = DataRequirements(
                fields=BAR_FIELDS,
                benchmark="benchmark" in accepted,
                earnings="earnings" in accepted,
                sectors="sectors" in accepted,
                membership="universe" in accepted,
            )
        return replace(declared, warmup=warmup, warmup_rule=rule)

    @property
    def needs(self) -> DataRequirements:
        """:meth:`data_requirements` of this object's parameters."""
        return self.data_requirements(self.params)


class AllocationStrategy(_ParametrisedStrategy, ABC):
    """Target weights on rebalance dates, computed over the whole history at once.

    Weights are fractions of pre-trade equity (0.05 = 5 %).  Row ``t`` of the target array may
    use panel rows ``≤ t`` only (a look-ahead probe in the test suite checks this).
    """

    @abstractmethod
    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        """Bool array, one per date: True where the strategy decides new targets."""

    @abstractmethod
    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        """Float array ``(T, N)`` of target weights (fractions).

        Rows where ``rebalance_mask`` is False are all NaN.  In a rebalance row NaN means 0; a
        rebalance row that is entirely NaN means "no decision" and the engines keep the holdings.
        """


class SignalAction(StrEnum):
    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Signal:
    """One strategy's view on one symbol at one bar; ``confidence`` is a fraction in [0, 1]."""

    symbol: str
    action: SignalAction
    confidence: float = 1.0


class StrategyContext(Protocol):
    """What a signal strategy sees and can do on each bar (implemented by the engines).

    Quantities are shares (fractional allowed where the engine allows it); prices and cash are
    in currency; percentages are fractions of equity (0.1 = 10 %).  Order methods return the
    client order id.
    """

    @property
    def index(self) -> int:
        """Row of the current bar, counted from the first row of the panel given to
        :meth:`SignalStrategy.init` (on a live feed that panel is the warm-up, so the first live
        bar's index is its length)."""
        ...

    @property
    def time(self) -> datetime:
        """Timezone-aware time of the current bar (from the clock, never the wall clock)."""
        ...

    @property
    def symbols(self) -> tuple[str, ...]: ...

    @property
    def cash(self) -> float: ...

    @property
    def equity(self) -> float:
        """Cash plus positions marked at the current bar's prices."""
        ...

    def history(self, field: str = "close", bars: int | None = None) -> np.ndarray:
        """Rows ``≤`` the current bar of one panel field, shape ``(rows, N)``.

        With ``bars`` only the last ``bars`` rows.
        """
        ...

    def price(self, symbol: str) -> float:
        """Latest known price of ``symbol`` (the valuation field), NaN if it never traded."""
        ...

    def position(self, symbol: str) -> float:
        """Shares held (negative when short)."""
        ...

    def buy(
        self,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> str: ...

    def sell(
        self,
        symbol: str,
        quantity: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> str: ...

    def order_target_percent(self, symbol: str, target: float) -> str | None:
        """Order the shares that bring ``symbol`` to ``target`` (fraction) of equity."""
        ...

    def close_position(self, symbol: str) -> str | None: ...


class SignalStrategy(_ParametrisedStrategy, ABC):
    """Reacts bar by bar; indicators are precomputed causally in :meth:`init`."""

    def init(self, data: Panel) -> None:
        """Prepare on ``data``: the whole panel in a backtest, only the declared warm-up
        (:meth:`data_requirements`) on a live feed; anything precomputed for a row may use rows
        ≤ itself only. Bars after ``data`` must be decided from ``context.history()``."""

    @abstractmethod
    def on_bar(self, context: StrategyContext) -> None:
        """Decide at the current bar; trade through ``context``'s order methods."""


Strategy = AllocationStrategy | SignalStrategy
