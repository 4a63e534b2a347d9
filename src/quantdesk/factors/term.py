"""A small fluent wrapper over :mod:`quantdesk.factors.terms`: ``Term(x).winsorize().zscore()``.

A :class:`Term` carries its values and the universe mask, so every step of a chain sees the same
point-in-time membership. Arithmetic combines terms (``0.4 * a + 0.6 * b``); NaN propagates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantdesk.factors import terms
from quantdesk.factors._arrays import BoolArray, FloatArray, as_mask, as_panel
from quantdesk.factors.errors import FactorInputError


@dataclass(frozen=True, eq=False)
class Term:
    """Dates × symbols values plus an optional boolean ``universe`` mask of the same shape."""

    values: FloatArray
    universe: BoolArray | None = None

    def __post_init__(self) -> None:
        values = as_panel(self.values, "values")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "universe", as_mask(self.universe, "universe", values.shape))

    def _new(self, values: FloatArray) -> Term:
        return Term(values, self.universe)

    def rank(self, ascending: bool = True, groups: npt.ArrayLike | None = None) -> Term:
        return self._new(terms.rank(self.values, ascending, universe=self.universe, groups=groups))

    def percentile(self, groups: npt.ArrayLike | None = None) -> Term:
        return self._new(terms.percentile(self.values, universe=self.universe, groups=groups))

    def zscore(self, groups: npt.ArrayLike | None = None) -> Term:
        return self._new(terms.zscore(self.values, universe=self.universe, groups=groups))

    def demean(self, groups: npt.ArrayLike | None = None) -> Term:
        return self._new(terms.demean(self.values, universe=self.universe, groups=groups))

    def winsorize(
        self, lower: float = 0.01, upper: float = 0.99, groups: npt.ArrayLike | None = None
    ) -> Term:
        return self._new(
            terms.winsorize(self.values, lower, upper, universe=self.universe, groups=groups)
        )

    def top(self, n: int, groups: npt.ArrayLike | None = None) -> BoolArray:
        return terms.top(self.values, n, universe=self.universe, groups=groups)

    def bottom(self, n: int, groups: npt.ArrayLike | None = None) -> BoolArray:
        return terms.bottom(self.values, n, universe=self.universe, groups=groups)

    def mask(self, keep: npt.ArrayLike) -> Term:
        """Narrow the universe to where ``keep`` (a filter such as ``min_price``) is True."""
        mask = as_mask(keep, "keep", self.values.shape)
        assert mask is not None
        universe = mask if self.universe is None else self.universe & mask
        return Term(self.values, universe)

    def _operand(self, other: Term | float) -> FloatArray | float:
        if isinstance(other, Term):
            if other.values.shape != self.values.shape:
                raise FactorInputError(
                    f"cannot combine terms of shapes {self.values.shape} and {other.values.shape}"
                )
            return other.values
        return float(other)

    def _combined_universe(self, other: Term | float) -> BoolArray | None:
        if not isinstance(other, Term) or other.universe is None:
            return self.universe
        return other.universe if self.universe is None else self.universe & other.universe

    def __add__(self, other: Term | float) -> Term:
        return Term(self.values + self._operand(other), self._combined_universe(other))

    __radd__ = __add__

    def __sub__(self, other: Term | float) -> Term:
        return Term(self.values - self._operand(other), self._combined_universe(other))

    def __mul__(self, other: Term | float) -> Term:
        return Term(self.values * self._operand(other), self._combined_universe(other))

    __rmul__ = __mul__

    def __neg__(self) -> Term:
        return Term(-self.values, self.universe)

    def masked(self) -> FloatArray:
        """The values with NaN outside the universe."""
        if self.universe is None:
            return self.values.copy()
        return np.where(self.universe, self.values, np.nan)
