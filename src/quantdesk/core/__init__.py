"""Domain primitives shared by every layer: clocks, errors, enums. No I/O."""

from quantdesk.core.clock import Clock, LiveClock, SimulatedClock
from quantdesk.core.enums import AssetClass, Timeframe
from quantdesk.core.errors import (
    ConfigurationError,
    DataValidationError,
    NotFoundError,
    QuantdeskError,
    SourceError,
)

__all__ = [
    "AssetClass",
    "Clock",
    "ConfigurationError",
    "DataValidationError",
    "LiveClock",
    "NotFoundError",
    "QuantdeskError",
    "SimulatedClock",
    "SourceError",
    "Timeframe",
]
