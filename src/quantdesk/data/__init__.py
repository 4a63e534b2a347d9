"""Market data: sources, validation, quality, calendars and the in-memory panel.

``Panel`` loads on first use (PEP 562): importing a light module of this package (instruments,
calendar) does not import pandas with the panel (issue 11: ``data status`` needs neither).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.data.panel import Panel

__all__ = ["Panel"]


def __getattr__(name: str) -> Any:
    if name == "Panel":
        from quantdesk.data.panel import Panel

        return Panel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
