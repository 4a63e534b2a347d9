"""Exceptions raised by portfolio construction, sizing and rebalancing.

Each also derives from ``ValueError`` where the caller passed something unusable, so code that
only knows the standard library can still catch it.
"""

from __future__ import annotations

from quantdesk.core.errors import QuantdeskError


class PortfolioInputError(QuantdeskError, ValueError):
    """An input to a portfolio function is invalid; the message names the symbol or field."""


class DegenerateInputError(PortfolioInputError):
    """The input is well formed but the chosen method cannot use it.

    Examples: a selected symbol whose returns have zero variance (constant prices), or a returns
    window with too few complete rows for a covariance estimate.
    """


class MissingPriceError(PortfolioInputError):
    """A symbol that is held or targeted has no usable price."""

    def __init__(self, symbol: str, detail: str = "has no price") -> None:
        self.symbol = symbol
        super().__init__(f"symbol {symbol!r} {detail}")


class OptimizationError(QuantdeskError):
    """An optimiser (skfolio) failed to produce weights for a well-formed input."""
