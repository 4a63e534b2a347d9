"""``quantdesk.core.jit`` starts numba without SciPy's linear algebra and CFFI, and numba still
compiles everything: linear algebra imports SciPy when a kernel needs it (issue 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
import numpy as np
from quantdesk.core.jit import njit
loaded = sorted(m for m in ("scipy.linalg", "cffi", "pycparser") if m in sys.modules)

@njit
def dot_and_correlate(a, b):
    return np.dot(a, b), np.correlate(a, b)[0]

dot, correlation = dot_and_correlate(np.arange(4.0), np.full(4, 0.5))
import scipy.linalg.cython_blas  # importable as usual afterwards
print(json.dumps({"loaded": loaded, "dot": dot, "correlation": correlation,
                  "after": "scipy.linalg" in sys.modules}))
"""


def test_numba_starts_without_scipy_linear_algebra_or_cffi_and_still_compiles_dot(
    tmp_path: Path,
) -> None:
    env_cache = {"NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env_cache},
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    assert result["dot"] == 3.0
    assert result["correlation"] == 3.0
    assert result["after"] is True
