"""numba's ``njit``, with numba's NumPy support loaded without SciPy.

On the first compile or cache load of a process numba imports its NumPy implementations
(``numba.np.arraymath``), which import ``scipy.linalg`` only to learn whether ``np.correlate`` and
``np.convolve`` may call BLAS: about 0.25 s and 25 MB per process (measured with
``bench/bench_process.py``), a tenth of a whole ``quantdesk backtest``. No quantdesk kernel uses
those two functions or any linear algebra, so every kernel module takes ``njit`` from here, and
this module imports numba's NumPy support once with SciPy's BLAS module hidden. numba then uses
its own loop for those two functions' inner product in this process; ``np.dot`` and
``np.linalg`` still import SciPy the moment a kernel compiles them, so nothing else changes.
"""

from __future__ import annotations

import sys

from numba import njit

__all__ = ["njit"]

_BLAS = "scipy.linalg.cython_blas"


def _load_numpy_support_without_scipy() -> None:
    if "numba.np.arraymath" in sys.modules or _BLAS in sys.modules:
        return  # already decided in this process (SciPy's BLAS loaded: numba may use it)
    # None in sys.modules makes ``import scipy.linalg.cython_blas`` fail at once, without
    # importing scipy or scipy.linalg
    sys.modules[_BLAS] = None  # type: ignore[assignment]
    try:
        import numba.np.arraymath  # noqa: F401  # registers numba's NumPy implementations
    finally:
        if sys.modules.get(_BLAS, ...) is None:
            del sys.modules[_BLAS]


_load_numpy_support_without_scipy()
