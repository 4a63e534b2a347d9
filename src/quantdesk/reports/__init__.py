"""Reports: one model (:class:`Report`) rendered to PDF, Excel, CSV and an HTML tear sheet.

The reports service (:mod:`quantdesk.services.reports`) builds the model; the writers here only
format it. Nothing in this package reads the database.
"""

from quantdesk.reports.model import (
    Annotation,
    Column,
    ColumnFormat,
    Curve,
    Metric,
    Report,
    SubjectKind,
    Table,
)
from quantdesk.reports.period import PeriodKind, ReportError, ReportPeriod, parse_period
from quantdesk.reports.render import ReportFormat, parse_format, render

__all__ = [
    "Annotation",
    "Column",
    "ColumnFormat",
    "Curve",
    "Metric",
    "PeriodKind",
    "Report",
    "ReportError",
    "ReportFormat",
    "ReportPeriod",
    "SubjectKind",
    "Table",
    "parse_format",
    "parse_period",
    "render",
]
