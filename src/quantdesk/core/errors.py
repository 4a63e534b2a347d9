"""Exception types. Messages name the input at fault (file, row, symbol, field)."""

from __future__ import annotations

from dataclasses import dataclass


class QuantdeskError(Exception):
    """Base class of every error quantdesk raises on purpose."""


class ConfigurationError(QuantdeskError):
    """A setting is missing, unsafe or inconsistent."""


class NotFoundError(QuantdeskError):
    """A requested symbol, run or record does not exist."""


class InvalidRequestError(QuantdeskError, ValueError):
    """A parameter of a request is outside what it allows (a negative threshold, a grid too
    large to run). Also a ``ValueError`` so callers that checked for one keep working."""


class ConflictError(QuantdeskError):
    """The request is valid but the current state forbids it (a portfolio with open orders
    cannot be archived; a disabled strategy does not trade)."""


class SourceError(QuantdeskError):
    """A remote data source failed or answered something we cannot parse."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad input row: where it is and what is wrong with it.

    ``row`` is the 1-based line number in the file (header = line 1), or ``None`` for
    problems that concern the whole input (a missing column, an empty file).
    """

    source: str
    row: int | None
    symbol: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.symbol:
            where.append(f"symbol {self.symbol}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}"


class DataValidationError(QuantdeskError):
    """Input data failed validation; nothing was written.

    ``problems`` lists the bad rows found (at most a thousand are kept; ``total`` counts all of
    them); the message shows the first few.
    """

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        shown = "\n  ".join(str(p) for p in problems[:5])
        more = f"\n  ... and {self.total - 5} more" if self.total > 5 else ""
        super().__init__(f"{self.total} problem(s); nothing was written:\n  {shown}{more}")
