"""Strategy registry and the parameter validation of the base classes."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from pydantic import Field

from quantdesk.data import Panel
from quantdesk.strategies import (
    AllocationStrategy,
    SignalStrategy,
    StrategyContext,
    StrategyParameterError,
    StrategyParams,
    StrategyRegistry,
    UnknownStrategyError,
    create,
    default_registry,
)
from quantdesk.strategies.momentum_12_1 import Momentum121


class HoldParams(StrategyParams):
    weight: float = Field(1.0, ge=0, le=1)


class HoldFirst(AllocationStrategy):
    name: ClassVar[str] = "hold-first"
    Params: ClassVar[type[StrategyParams]] = HoldParams

    def rebalance_mask(self, dates: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(dates), dtype=bool)
        mask[0] = True
        return mask

    def target_weights(self, panel: Panel, rebalance_mask: np.ndarray) -> np.ndarray:
        weights = np.full(panel.shape, np.nan)
        weights[rebalance_mask] = 0.0
        return weights


class BuyOnce(SignalStrategy):
    name: ClassVar[str] = "buy-once"

    def on_bar(self, context: StrategyContext) -> None:
        if context.index == 0:
            context.buy(context.symbols[0], 1.0)


def test_default_registry_creates_built_ins_with_params() -> None:
    strategy = create("momentum-12-1", lookback=126)
    assert isinstance(strategy, Momentum121)
    assert strategy.params.model_dump()["lookback"] == 126
    assert "momentum-12-1" in default_registry().names()


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownStrategyError, match="did you mean 'momentum-12-1'"):
        create("momentum-121")
    with pytest.raises(UnknownStrategyError) as caught:
        create("zzz")
    assert "did you mean" not in str(caught.value)


def test_unknown_parameter_suggests_the_closest_and_lists_them() -> None:
    with pytest.raises(StrategyParameterError, match=r"no parameter 'top_frac'.*'top_fraction'"):
        create("momentum-12-1", top_frac=0.2)


def test_invalid_values_name_the_field() -> None:
    registry = StrategyRegistry()
    registry.register(HoldFirst)
    with pytest.raises(StrategyParameterError, match="weight"):
        registry.create("hold-first", weight=2.0)
    assert registry.create("hold-first", weight=0.5).params == HoldParams(weight=0.5)


def test_params_are_frozen_and_reject_extras() -> None:
    params = HoldParams()
    with pytest.raises(ValueError, match="frozen"):
        params.weight = 0.3  # type: ignore[misc]
    with pytest.raises(StrategyParameterError, match="expects HoldParams"):
        HoldFirst(StrategyParams())


def test_register_signal_strategies_and_refuse_name_clashes() -> None:
    registry = StrategyRegistry()
    registry.register(BuyOnce)
    assert isinstance(registry.create("buy-once"), BuyOnce)

    class Impostor(BuyOnce):
        pass

    with pytest.raises(ValueError, match="already taken"):
        registry.register(Impostor)


def test_every_built_in_imports_under_its_own_name_with_default_params() -> None:
    registry = default_registry()
    for name in registry.names():
        strategy = registry.create(name)
        assert strategy.name == name
        assert isinstance(strategy, AllocationStrategy | SignalStrategy)
