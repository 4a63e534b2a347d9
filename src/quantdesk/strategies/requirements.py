"""What data a strategy reads, declared by the strategy instead of guessed by the service.

Every registered strategy answers :meth:`data_requirements(params)` with a frozen
:class:`DataRequirements`: the bar fields it reads, whether it needs a benchmark series (and
which symbol), earnings, sector labels or the point-in-time membership mask, and how many
sessions of history it looks back on before its first decision (its warm-up, a function of its
parameters). The backtest service and the trading runner load exactly that
(:mod:`quantdesk.services.strategy_data`), so a strategy that reads no volume gets no volume and
``--start`` can be the first decision date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from quantdesk.core.errors import ConfigurationError

PRICE = "price"
"""Pseudo field: the valuation price (adjusted close where the data has one, else close)."""

RUN_BENCHMARK = "(the run's)"

BAR_FIELDS = (PRICE, "open", "high", "low", "close", "adj_close", "volume")
"""Field names a strategy may declare; ``close``/``adj_close`` name the raw columns."""

# integer parameters whose name holds one of these words count rows of history a strategy
# reads (``lookback``, ``slow``, ``period``, ``price_horizons`` …); the fallback warm-up rule
# for strategies that do not declare their own
WINDOW_WORDS = ("lookback", "window", "period", "slow", "fast", "horizon", "span")


@dataclass(frozen=True)
class DataRequirements:
    """The inputs one strategy with given parameters reads.

    ``fields``: bar fields (see :data:`BAR_FIELDS`; :data:`PRICE` is the valuation price).
    ``benchmark``: a benchmark price series is passed as the ``benchmark=`` keyword;
    ``benchmark_symbol`` names it (None: the run's benchmark, e.g. ``--benchmark`` or SP500).
    ``earnings``, ``sectors``, ``membership``: passed as the ``earnings=``, ``sectors=`` and
    ``universe=`` keywords. ``warmup``: sessions (bar rows) of history read before the first
    decision; that many rows are loaded before the start.
    """

    fields: tuple[str, ...] = (PRICE,)
    benchmark: bool = False
    benchmark_symbol: str | None = None
    earnings: bool = False
    sectors: bool = False
    membership: bool = False
    warmup: int = 0
    # why the warm-up is what it is, e.g. "slow = 200"; shown by `quantdesk strategies show`
    warmup_rule: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        unknown = [f for f in self.fields if f not in BAR_FIELDS]
        if unknown:
            raise ConfigurationError(
                f"data requirements: unknown bar field(s) {', '.join(map(repr, unknown))} "
                f"(fields: {', '.join(BAR_FIELDS)})"
            )
        if self.warmup < 0:
            raise ConfigurationError(f"data requirements: warmup must be >= 0, got {self.warmup}")
        if self.benchmark_symbol is not None and not self.benchmark:
            # naming a symbol is asking for it
            object.__setattr__(self, "benchmark", True)
        # one spelling per field set: ordered as BAR_FIELDS, no repeats
        ordered = tuple(f for f in BAR_FIELDS if f in self.fields)
        object.__setattr__(self, "fields", ordered)

    @property
    def keywords(self) -> tuple[str, ...]:
        """The data keywords the strategy's constructor takes (``benchmark``, ``earnings``,
        ``sectors``, ``universe``)."""
        flags = (
            ("benchmark", self.benchmark),
            ("earnings", self.earnings),
            ("sectors", self.sectors),
            ("universe", self.membership),
        )
        return tuple(name for name, wanted in flags if wanted)

    def merged(self, other: DataRequirements) -> DataRequirements:
        """Everything either needs (fields united, flags or-ed, the longer warm-up)."""
        if (
            self.benchmark_symbol is not None
            and other.benchmark_symbol is not None
            and self.benchmark_symbol != other.benchmark_symbol
        ):
            raise ConfigurationError(
                f"data requirements: two benchmarks ({self.benchmark_symbol!r} and "
                f"{other.benchmark_symbol!r}); a strategy receives one"
            )
        warmup, rule = max((self.warmup, self.warmup_rule), (other.warmup, other.warmup_rule))
        return DataRequirements(
            fields=(*self.fields, *other.fields),
            benchmark=self.benchmark or other.benchmark,
            benchmark_symbol=self.benchmark_symbol or other.benchmark_symbol,
            earnings=self.earnings or other.earnings,
            sectors=self.sectors or other.sectors,
            membership=self.membership or other.membership,
            warmup=warmup,
            warmup_rule=rule,
        )

    def describe(self) -> str:
        """One line: ``"fields price, volume; benchmark (the run's); earnings; warm-up 252
        sessions (lookback = 252)"``."""
        parts = [f"fields {', '.join(self.fields)}"]
        if self.benchmark:
            parts.append(f"benchmark {self.benchmark_symbol or RUN_BENCHMARK}")
        for name, wanted in (
            ("earnings", self.earnings),
            ("sector labels", self.sectors),
            ("membership mask", self.membership),
        ):
            if wanted:
                parts.append(name)
        rule = f" ({self.warmup_rule})" if self.warmup_rule else ""
        parts.append(f"warm-up {self.warmup} sessions{rule}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "benchmark": self.benchmark,
            "benchmark_symbol": self.benchmark_symbol,
            "earnings": self.earnings,
            "sectors": self.sectors,
            "membership": self.membership,
            "warmup": self.warmup,
            "warmup_rule": self.warmup_rule,
        }


def longest_window(params: Iterable[tuple[str, Any]]) -> tuple[int, str]:
    """(rows, rule) of the longest integer window-like parameter (``lookback``, ``slow``,
    ``period``, tuples such as ``price_horizons`` …): the fallback warm-up."""
    rows, rule = 0, ""
    for name, value in params:
        if not any(word in name for word in WINDOW_WORDS):
            continue
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, int) and not isinstance(item, bool) and item > rows:
                rows, rule = item, f"{name} = {item}"
    return rows, rule


__all__ = ["BAR_FIELDS", "PRICE", "WINDOW_WORDS", "DataRequirements", "longest_window"]
