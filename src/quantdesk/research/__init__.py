"""Research helpers: universe specifications, score rows and the results the research service
returns. Pure: no database, no clock (the service in :mod:`quantdesk.services.research` wires
them to storage)."""

from quantdesk.research.errors import ResearchInputError
from quantdesk.research.results import Recommendation, ScoreTable, SectorSignal
from quantdesk.research.universe import (
    SPDR_SECTOR_ETFS,
    UniverseError,
    UniverseKind,
    UniverseSpec,
    parse_universe,
)

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
