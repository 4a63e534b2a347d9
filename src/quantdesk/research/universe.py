"""Universe specifications: which symbols a score or signal covers, as a string a user types.

* ``all``: every equity instrument with bars (indexes, ETFs and other classes excluded);
* ``etf``: every ETF instrument with bars (the SPDR sector tickers when none is labelled ETF);
* ``index:<name>``: the members of an index on each date (point in time, e.g. ``index:sp500``);
* a comma list ``AAPL,MSFT``: exactly those symbols.

Parsing is pure; resolving a spec against the stored instruments is the research service's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quantdesk.research.errors import ResearchInputError

# The 11 Select Sector SPDR ETFs (the live-track-record design's sector universe, US listing).
SPDR_SECTOR_ETFS = (
    "XLB",
    "XLC",
    "XLE",
    "XLF",
    "XLI",
    "XLK",
    "XLP",
    "XLRE",
    "XLU",
    "XLV",
    "XLY",
)


class UniverseError(ResearchInputError):
    """A universe specification is malformed or names something that is not stored."""


class UniverseKind(StrEnum):
    ALL = "all"
    ETF = "etf"
    INDEX = "index"
    LIST = "list"


@dataclass(frozen=True)
class UniverseSpec:
    """A parsed universe. ``label`` is the canonical spelling stored beside scores."""

    kind: UniverseKind
    index: str | None = None
    symbols: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.kind is UniverseKind.INDEX:
            return f"index:{self.index}"
        if self.kind is UniverseKind.LIST:
            return ",".join(self.symbols)[:64]
        return self.kind.value

    @property
    def point_in_time(self) -> bool:
        return self.kind is UniverseKind.INDEX


def parse_universe(spec: str) -> UniverseSpec:
    """Parse ``all``, ``etf``, ``index:<name>`` or ``SYM1,SYM2,…`` (case-insensitive)."""
    text = spec.strip()
    if not text:
        raise UniverseError(
            "universe is empty; use 'all', 'etf', 'index:<name>' or a list like 'AAPL,MSFT'"
        )
    lowered = text.lower()
    if lowered == UniverseKind.ALL.value:
        return UniverseSpec(UniverseKind.ALL)
    if lowered == UniverseKind.ETF.value:
        return UniverseSpec(UniverseKind.ETF)
    if lowered.startswith("index:"):
        name = lowered.removeprefix("index:").strip()
        if not name:
            raise UniverseError(f"universe {spec!r} names no index; e.g. 'index:sp500'")
        return UniverseSpec(UniverseKind.INDEX, index=name)
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in text.split(",") if s.strip()))
    if not symbols:
        raise UniverseError(f"universe {spec!r} lists no symbol")
    bad = [s for s in symbols if any(c.isspace() for c in s) or ":" in s]
    if bad:
        raise UniverseError(f"universe {spec!r}: {bad[0]!r} is not a symbol")
    return UniverseSpec(UniverseKind.LIST, symbols=symbols)
