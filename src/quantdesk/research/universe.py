"""Universe specifications: which symbols a score or signal covers, as a string a user types.

* ``all``: every equity instrument with bars (indexes, ETFs and other classes excluded);
* ``etf``: every ETF instrument with bars (the SPDR sector tickers when none is labelled ETF);
* ``index:<name>``: the members of an index on each date (point in time, e.g. ``index:sp500``);
* a comma list ``AAPL,MSFT``: exactly those symbols.

This is the one grammar of every command (scores, signals, backtests, optimisation). The
keywords ``all``, ``etf`` and ``index:`` are reserved and case-insensitive, so ``ALL`` means
every equity, never the ticker ALL (Allstate); a ticker that spells a keyword is written
``symbol:ALL`` (``symbol:`` may prefix any ticker of a list). The label is the canonical
spelling, complete (never truncated) and parsed back to the same spec.

Parsing is pure; resolving a spec against the stored instruments is the services' job.
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


_SYMBOL_PREFIX = "symbol:"
_INDEX_PREFIX = "index:"
_RESERVED = ("all", "etf")


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
            return f"{_INDEX_PREFIX}{self.index}"
        if self.kind is UniverseKind.LIST:
            return ",".join(_spelled(s) for s in self.symbols)
        return self.kind.value

    @property
    def point_in_time(self) -> bool:
        return self.kind is UniverseKind.INDEX


def _spelled(symbol: str) -> str:
    """A ticker as the grammar writes it: ``symbol:`` before one that spells a keyword."""
    reserved = symbol.lower() in _RESERVED or ":" in symbol
    return f"{_SYMBOL_PREFIX}{symbol}" if reserved else symbol


def parse_universe(spec: str) -> UniverseSpec:
    """Parse ``all``, ``etf``, ``index:<name>`` or ``SYM1,SYM2,…`` (keywords case-insensitive;
    ``symbol:ALL`` for a ticker that spells a keyword)."""
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
    if lowered.startswith(_INDEX_PREFIX):
        name = lowered.removeprefix(_INDEX_PREFIX).strip()
        if not name:
            raise UniverseError(f"universe {spec!r} names no index; e.g. 'index:sp500'")
        return UniverseSpec(UniverseKind.INDEX, index=name)
    symbols = tuple(dict.fromkeys(_symbol(part, spec) for part in text.split(",") if part.strip()))
    if not symbols:
        raise UniverseError(f"universe {spec!r} lists no symbol")
    return UniverseSpec(UniverseKind.LIST, symbols=symbols)


def _symbol(part: str, spec: str) -> str:
    """One ticker of a list; a bare keyword in a list is an error that says how to write it."""
    text = part.strip()
    if text.lower().startswith(_SYMBOL_PREFIX):
        symbol = text[len(_SYMBOL_PREFIX) :].strip().upper()
    else:
        symbol = text.upper()
        if text.lower() in _RESERVED or text.lower().startswith(_INDEX_PREFIX):
            raise UniverseError(
                f"universe {spec!r}: {text!r} is a keyword, not a ticker; use it alone, or "
                f"write the ticker as 'symbol:{symbol}'"
            )
    if not symbol or any(c.isspace() for c in symbol) or ":" in symbol:
        raise UniverseError(f"universe {spec!r}: {text!r} is not a symbol")
    return symbol
