"""Market data: sources, validation, quality, calendars and the in-memory panel."""

from quantdesk.data.panel import Panel

__all__ = ["Panel"]
