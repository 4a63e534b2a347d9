"""Shapes shared by many resources: pages of a list, pagination parameters, metric maps."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_PAGE = 1000

Metrics = dict[str, float | None]
"""Named figures (fractions, ratios); ``null`` where a figure is undefined (NaN)."""


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(page_params)]


Item = TypeVar("Item", bound=BaseModel)


class Page(BaseModel, Generic[Item]):
    """One page of a list: ``total`` rows exist, ``items`` are rows ``offset`` … on."""

    items: list[Item]
    total: int
    limit: int
    offset: int


def paginate(rows: Sequence[Item], page: PageParams) -> Page[Item]:
    return Page[Item](
        items=list(rows[page.offset : page.offset + page.limit]),
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
    )


def finite(value: Any) -> float | None:
    """A JSON-safe float: NaN, infinities and non-numbers become ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def metrics(values: Mapping[str, Any]) -> Metrics:
    """The numeric entries of a metrics mapping, NaN as ``None`` (text entries are dropped)."""
    return {
        str(k): finite(v)
        for k, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
