"""Strategies: the allocation and signal interfaces, the registry and the built-ins."""

from quantdesk.strategies.base import (
    AllocationStrategy,
    Signal,
    SignalAction,
    SignalStrategy,
    StrategyContext,
    StrategyParameterError,
    StrategyParams,
    UnknownStrategyError,
)
from quantdesk.strategies.registry import StrategyRegistry, create, default_registry

__all__ = [
    "AllocationStrategy",
    "Signal",
    "SignalAction",
    "SignalStrategy",
    "StrategyContext",
    "StrategyParameterError",
    "StrategyParams",
    "StrategyRegistry",
    "UnknownStrategyError",
    "create",
    "default_registry",
]
