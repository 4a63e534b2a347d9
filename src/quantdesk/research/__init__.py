"""Research helpers: universe specifications, score rows and the results the research service
returns. Pure: no database, no clock (the service in :mod:`quantdesk.services.research` wires
them to storage).

Names load on first use (PEP 562): the universe grammar does not import the result types
and the portfolio package with it (issue 11).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.research.errors import (
        ResearchInputError,
    )
    from quantdesk.research.results import (
        Recommendation,
        ScoreTable,
        SectorSignal,
    )
    from quantdesk.research.universe import (
        SPDR_SECTOR_ETFS,
        UniverseError,
        UniverseKind,
        UniverseSpec,
        parse_universe,
    )

_EXPORTS = {
    "Recommendation": "quantdesk.research.results",
    "ResearchInputError": "quantdesk.research.errors",
    "SPDR_SECTOR_ETFS": "quantdesk.research.universe",
    "ScoreTable": "quantdesk.research.results",
    "SectorSignal": "quantdesk.research.results",
    "UniverseError": "quantdesk.research.universe",
    "UniverseKind": "quantdesk.research.universe",
    "UniverseSpec": "quantdesk.research.universe",
    "parse_universe": "quantdesk.research.universe",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quantdesk.research' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "SPDR_SECTOR_ETFS",
    "Recommendation",
    "ResearchInputError",
    "ScoreTable",
    "SectorSignal",
    "UniverseError",
    "UniverseKind",
    "UniverseSpec",
    "parse_universe",
]
