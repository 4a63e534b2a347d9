"""Arrays kept in ``.npz`` files between processes (the panel and calendar caches): read back
whole or not at all, written atomically, and only the newest files of a folder kept."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

# what a missing, cut-short (a data folder copied half-way) or foreign file raises on reading
UNREADABLE = (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile)


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Every array of the file at ``path``, or None when it cannot be read."""
    try:
        # the file is opened here: np.load leaves a handle open when the zip is broken
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except UNREADABLE:
        return None


def write_arrays(directory: Path, filename: str, arrays: Mapping[str, Any], keep: int) -> None:
    """Write ``arrays`` as ``directory/filename`` (readers never see half a file), then remove
    all but the ``keep`` newest ``.npz`` files of ``directory``. Raises OSError when the folder
    cannot be written."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        np.savez(out, **arrays)
    os.replace(temporary, directory / filename)
    files = sorted(directory.glob("*.npz"), key=lambda p: p.stat().st_mtime)
    for old in files[:-keep]:
        old.unlink(missing_ok=True)
