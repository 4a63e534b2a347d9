"""Shared random panels for the factor tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

PriceMaker = Callable[[int, int], np.ndarray]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture
def make_prices(rng: np.random.Generator) -> PriceMaker:
    """Geometric random walks starting near 50, with ~1.5 % daily moves."""

    def make(days: int, symbols: int) -> np.ndarray:
        steps = rng.normal(0.0003, 0.015, size=(days, symbols))
        return 50.0 * np.exp(np.cumsum(steps, axis=0))

    return make


@pytest.fixture
def dates() -> pd.DatetimeIndex:
    return pd.bdate_range("2015-01-01", periods=400)
