"""The T×N price panel every research and backtest routine works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PANEL_FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


@dataclass(frozen=True)
class Panel:
    """Dates × symbols arrays of one or more bar fields.

    ``dates`` is a sorted ``datetime64[ns]`` array (UTC, naive in numpy; daily bars sit at
    midnight of the session date). ``fields`` maps a field name to a ``float64`` array of shape
    ``(len(dates), len(symbols))`` with ``NaN`` where a symbol has no bar on a date.
    """

    dates: np.ndarray
    symbols: tuple[str, ...]
    fields: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.symbols))
        for name, values in self.fields.items():
            if values.shape != shape:
                raise ValueError(f"panel field {name!r} has shape {values.shape}, expected {shape}")

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"panel has no field {name!r}; it has {sorted(self.fields)}") from None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.dates), len(self.symbols)

    def frame(self, name: str) -> pd.DataFrame:
        """One field as a DataFrame indexed by date with one column per symbol."""
        return pd.DataFrame(
            self[name], index=pd.DatetimeIndex(self.dates, name="date"), columns=list(self.symbols)
        )

    def prices(self) -> tuple[str, np.ndarray]:
        """The field to value holdings with: ``adj_close`` where present, else ``close``."""
        adj = self.fields.get("adj_close")
        # the last row settles it for almost every panel without scanning the whole array
        if adj is not None and (np.isfinite(adj[-1:]).any() or np.isfinite(adj).any()):
            return "adj_close", adj
        return "close", self["close"]

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame]) -> Panel:
        """Build from wide frames (index dates, columns symbols), aligned on their union."""
        if not frames:
            raise ValueError("no fields given")
        index = pd.DatetimeIndex([])
        columns: list[str] = []
        for f in frames.values():
            index = index.union(pd.DatetimeIndex(f.index))
            columns.extend(c for c in f.columns if c not in columns)
        columns = sorted(columns)
        arrays = {
            k: f.reindex(index=index, columns=columns).to_numpy(dtype=np.float64, copy=True)
            for k, f in frames.items()
        }
        dates = index.tz_localize(None) if index.tz is not None else index
        return cls(np.asarray(dates.values, dtype="datetime64[ns]"), tuple(columns), arrays)
