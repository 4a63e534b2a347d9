"""Errors of the research layer; messages name the input at fault."""

from __future__ import annotations

from quantdesk.core.errors import QuantdeskError


class ResearchInputError(QuantdeskError, ValueError):
    """A research request cannot be served as asked (bad date, score set, optimizer, …)."""
