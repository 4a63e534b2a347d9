"""Which incoming bars would change values already stored (pure: frames in, counts out).

An import never erases a stored value with a missing one, so only cells where both sides have a
value and they differ count as a change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import QuantdeskError

_RTOL = 1e-9


@dataclass(frozen=True)
class StoredValueChanges:
    """Rows of an import whose values differ from the stored ones, per symbol."""

    by_symbol: Mapping[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.by_symbol.values())

    def describe(self, limit: int = 8) -> str:
        """``"97,123 stored bars of 22 symbols (AAPL 8,001, …)"``."""
        ordered = sorted(self.by_symbol.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{s} {n:,}" for s, n in ordered[:limit])
        more = f", … {len(ordered) - limit} more" if len(ordered) > limit else ""
        return f"{self.rows:,} stored bars of {len(ordered)} symbol(s) ({shown}{more})"

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "by_symbol": dict(self.by_symbol)}


class WouldOverwriteError(QuantdeskError):
    """An import would change stored values and was not forced; nothing was written."""


def changed_rows(
    incoming: pd.DataFrame, stored: pd.DataFrame, columns: Sequence[str]
) -> StoredValueChanges:
    """Count, per symbol, the incoming rows (``symbol``, ``ts``, ``columns``) whose value in
    some column differs from the stored row at the same symbol and timestamp."""
    if incoming.empty or stored.empty:
        return StoredValueChanges()
    keys = ["symbol", "ts"]
    both = incoming[keys + [c for c in columns if c in incoming]].merge(
        stored[keys + [c for c in columns if c in stored]],
        on=keys,
        suffixes=("_new", "_old"),
    )
    changed = np.zeros(len(both), dtype=bool)
    for column in columns:
        new, old = f"{column}_new", f"{column}_old"
        if new not in both or old not in both:
            continue
        a = both[new].to_numpy(dtype=np.float64, na_value=np.nan)
        b = both[old].to_numpy(dtype=np.float64, na_value=np.nan)
        present = np.isfinite(a) & np.isfinite(b)
        changed |= present & ~np.isclose(a, b, rtol=_RTOL, atol=0.0)
    counts = both.loc[changed, "symbol"].astype(str).value_counts()
    return StoredValueChanges({str(s): int(n) for s, n in counts.sort_index().items()})
