"""An on-disk cache of loaded panels, keyed by the database's data version.

Every import writes its ``fetch_log`` row in the same transaction as its bars, so the newest
fetch-log id names the state of the bars: a cached panel is reused only while no import has
happened since it was written. (Bars changed by hand-written SQL bypass this; clear the cache.)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from quantdesk.data.panel import Panel

KEEP = 8  # panels kept on disk; older ones are removed when a new one is written


class PanelCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def key(self, **parts: object) -> str:
        text = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def load(self, key: str) -> Panel | None:
        path = self.directory / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as stored:
                fields = {name[2:]: stored[name] for name in stored.files if name.startswith("f_")}
                return Panel(stored["dates"], tuple(stored["symbols"].tolist()), fields)
        except (OSError, KeyError, ValueError):
            return None  # missing or unreadable: the caller reads the database

    def store(self, key: str, panel: Panel) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {f"f_{name}": values for name, values in panel.fields.items()}
        arrays["dates"] = panel.dates
        arrays["symbols"] = np.array(panel.symbols, dtype=str)
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(temporary, self.directory / f"{key}.npz")  # atomic: readers never see half
        self._evict()

    def _evict(self) -> None:
        files = sorted(self.directory.glob("*.npz"), key=lambda p: p.stat().st_mtime)
        for stale in files[:-KEEP]:
            stale.unlink(missing_ok=True)
