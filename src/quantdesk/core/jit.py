"""numba's ``njit``, with numba's NumPy and CFFI support loaded without SciPy and CFFI.

On the first compile or cache load of a process numba imports its NumPy implementations
(``numba.np.arraymath``), which import ``scipy.linalg`` only to learn whether ``np.correlate``
and ``np.convolve`` may call BLAS (about 0.25 s and 14 MB per process, a tenth of a whole
``quantdesk backtest``), and its CFFI typing (``numba.core.typing.cffi_utils``), which imports
``cffi`` and ``pycparser`` (about 0.03 s) to recognise CFFI functions passed to a kernel. No
quantdesk kernel uses those functions, linear algebra or CFFI, so every kernel module takes
``njit`` from here, and this module imports those two numba modules once with SciPy's BLAS
module and ``cffi`` hidden. In this process numba then uses its own loop for the inner product
of ``np.correlate``/``np.convolve`` and does not accept CFFI functions as kernel arguments;
``np.dot`` and ``np.linalg`` still import SciPy the moment a kernel compiles them, and other
code imports SciPy and CFFI as usual.
"""

from __future__ import annotations

import importlib
import sys

from numba import njit

__all__ = ["njit"]

# numba module → the optional module it probes at import (and can do without)
_PROBES = {
    "numba.np.arraymath": "scipy.linalg.cython_blas",
    "numba.core.typing.cffi_utils": "cffi",
}


def _load_without(module: str, hidden: str) -> None:
    if module in sys.modules or hidden in sys.modules:
        return  # already decided in this process (the optional module is loaded: numba uses it)
    # None in sys.modules makes ``import hidden`` fail at once, without importing its parents
    sys.modules[hidden] = None  # type: ignore[assignment]
    try:
        importlib.import_module(module)
    finally:
        if sys.modules.get(hidden, ...) is None:
            del sys.modules[hidden]


for _module, _hidden in _PROBES.items():
    _load_without(_module, _hidden)
