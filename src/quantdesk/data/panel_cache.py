"""An on-disk cache of loaded panels, keyed by the database's data version.

Every import writes its ``fetch_log`` row in the same transaction as its bars, so the newest
fetch-log id names the state of the bars: a cached panel is reused only while no import has
happened since it was written. (Bars changed by hand-written SQL bypass this; clear the cache.)

With ``in_memory`` > 0 the newest panels are also kept in memory, so a long-running server
(``quantdesk serve``) answers a repeated backtest without reading the file again; callers share
those arrays and must not write into them (every panel consumer derives new arrays).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from quantdesk.data.npz_files import UNREADABLE, read_arrays, write_arrays
from quantdesk.data.panel import Panel

KEEP = 8  # panels kept on disk; older ones are removed when a new one is written
KEEP_IN_MEMORY = 4  # what a server keeps: a run reads two (its universe and its benchmark)


class PanelCache:
    def __init__(self, directory: Path, *, in_memory: int = 0) -> None:
        self.directory = directory
        self._in_memory = in_memory
        self._memory: OrderedDict[str, Panel] = OrderedDict()
        self._lock = threading.Lock()  # jobs and requests load panels from several threads

    def key(self, **parts: object) -> str:
        text = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def load(self, key: str) -> Panel | None:
        with self._lock:
            panel = self._memory.get(key)
            if panel is not None:
                self._memory.move_to_end(key)
                return panel
        stored = read_arrays(self.directory / f"{key}.npz")
        try:
            if stored is None:
                return None
            fields = {name[2:]: values for name, values in stored.items() if name.startswith("f_")}
            panel = Panel(stored["dates"], tuple(stored["symbols"].tolist()), fields)
        except UNREADABLE:
            # missing, cut short (a copied data folder) or not a panel: the caller reads the
            # database and stores the panel again under this key
            return None
        self._remember(key, panel)
        return panel

    def _remember(self, key: str, panel: Panel) -> None:
        if self._in_memory <= 0:
            return
        with self._lock:
            self._memory[key] = panel
            self._memory.move_to_end(key)
            while len(self._memory) > self._in_memory:
                self._memory.popitem(last=False)

    def store(self, key: str, panel: Panel) -> None:
        arrays: dict[str, Any] = {f"f_{name}": values for name, values in panel.fields.items()}
        arrays["dates"] = panel.dates
        arrays["symbols"] = np.array(panel.symbols, dtype=str)
        write_arrays(self.directory, f"{key}.npz", arrays, KEEP)
        self._remember(key, panel)
