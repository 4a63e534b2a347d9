"""Strategies by name, with validated parameters and "did you mean" hints.

A :class:`StrategyRegistry` is an ordinary object (no module-level state): services build one
with :func:`default_registry` and may register more classes on it (e.g. loaded from the
database).  Built-ins are listed as ``"module:Class"`` paths and imported on first use, so
listing names never imports the heavier strategy modules.
"""

from __future__ import annotations

import importlib
from typing import Any

from quantdesk.strategies.base import (
    AllocationStrategy,
    SignalStrategy,
    UnknownStrategyError,
    did_you_mean,
)

StrategyClass = type[AllocationStrategy] | type[SignalStrategy]

# name -> "module:Class"; other built-ins are added here as they land
BUILTIN_STRATEGIES: dict[str, str] = {
    "ensemble": "quantdesk.strategies.ensemble:Ensemble",
    "etf-factor": "quantdesk.strategies.etf_factor:EtfFactor",
    "ma-crossover": "quantdesk.strategies.ma_crossover:MovingAverageCrossover",
    "momentum-12-1": "quantdesk.strategies.momentum_12_1:Momentum121",
    "momentum-composite": "quantdesk.strategies.momentum_composite:MomentumComposite",
    "rsi": "quantdesk.strategies.rsi:RelativeStrengthIndex",
    "sector-rotation": "quantdesk.strategies.sector_rotation:SectorRotation",
    "support-resistance": "quantdesk.strategies.support_resistance:SupportResistance",
}


class StrategyRegistry:
    """Maps strategy names to classes; :meth:`create` validates parameters."""

    def __init__(self, lazy: dict[str, str] | None = None) -> None:
        self._classes: dict[str, StrategyClass] = {}
        self._lazy: dict[str, str] = dict(lazy or {})

    def register(self, strategy: StrategyClass) -> StrategyClass:
        """Add ``strategy`` under its ``name`` (usable as a class decorator)."""
        name = getattr(strategy, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"strategy class {strategy.__name__} has no 'name' class attribute")
        existing = self._classes.get(name)
        if existing is not None and existing is not strategy:
            raise ValueError(f"strategy name {name!r} is already taken by {existing.__name__}")
        self._classes[name] = strategy
        self._lazy.pop(name, None)
        return strategy

    def names(self) -> list[str]:
        return sorted({*self._classes, *self._lazy})

    def __contains__(self, name: object) -> bool:
        return name in self._classes or name in self._lazy

    def get(self, name: str) -> StrategyClass:
        """The class registered as ``name``; unknown names raise with the closest match."""
        if name in self._classes:
            return self._classes[name]
        if name in self._lazy:
            module_name, _, class_name = self._lazy[name].partition(":")
            strategy: StrategyClass = getattr(importlib.import_module(module_name), class_name)
            return self.register(strategy)
        raise UnknownStrategyError(
            f"unknown strategy {name!r}{did_you_mean(name, self.names())}"
            f" (known: {', '.join(self.names()) or 'none'})"
        )

    def create(self, name: str, **params: Any) -> AllocationStrategy | SignalStrategy:
        """Instantiate strategy ``name`` with ``params`` (unknown or invalid ones raise
        :class:`~quantdesk.strategies.base.StrategyParameterError`)."""
        return self.get(name)(**params)


def default_registry() -> StrategyRegistry:
    """A registry holding the built-in strategies."""
    return StrategyRegistry(BUILTIN_STRATEGIES)


def create(name: str, **params: Any) -> AllocationStrategy | SignalStrategy:
    """Shortcut: ``default_registry().create(name, **params)``."""
    return default_registry().create(name, **params)
