"""Errors raised by the factor library."""

from __future__ import annotations

from quantdesk.core.errors import QuantdeskError


class FactorInputError(QuantdeskError, ValueError):
    """A factor got an input of the wrong shape, type or range; the message names the input."""
