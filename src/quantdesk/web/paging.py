"""Server-side pagination of table rows: one page of rows and the links around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

Row = TypeVar("Row")

PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """Rows ``first``…``last`` (1-based, inclusive) of ``total``; ``number`` counts from 1."""

    rows: tuple[Row, ...]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(rows: Sequence[Row], number: int = 1, size: int = PAGE_SIZE) -> Page[Row]:
    """Page ``number`` of ``rows``; a number past the end shows the last page (never an error:
    rows may have gone since the link was drawn)."""
    size = max(1, size)
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(tuple(rows[start : start + size]), number, size, len(rows))


def page_link(query: dict[str, object], number: int, key: str = "page") -> str:
    """``?…&page=N`` keeping the other query parameters (filters, sort)."""
    kept = {k: v for k, v in query.items() if k != key and v not in (None, "")}
    kept[key] = number
    return "?" + urlencode(kept)
