"""The HTML tear sheet: one self-contained file (plotly.js inlined from the installed
package, no CDN) with the summary, interactive equity, drawdown and monthly-return charts and
every table."""

from __future__ import annotations

from dataclasses import replace
from html import escape
from pathlib import Path

from quantdesk.reports.formatting import format_value
from quantdesk.reports.model import ColumnFormat, Report, Table

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;
color:#1d2433}h1{color:#1f3b73;margin-bottom:4px}h2{color:#1f3b73;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th{background:#1f3b73;color:#fff;
padding:4px 8px;text-align:left;position:sticky;top:0}td{padding:3px 8px;border-bottom:1px solid
#e3e6ee}td.n{text-align:right;font-variant-numeric:tabular-nums}.meta{color:#555}.note{color:#666;
font-size:12px}.scroll{max-height:480px;overflow:auto}
"""


def write_html(report: Report, path: Path) -> Path:
    """Write the tear sheet of ``report`` at ``path``; returns the path."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(report.title)}</title><style>{STYLE}</style>",
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>{escape(report.title)}</h1>",
        f"<p class='meta'>{escape(report.subject_kind.value)}: {escape(report.subject)} · "
        f"period {escape(report.period.label)} · generated "
        f"{escape(report.generated_at.strftime('%Y-%m-%d %H:%M'))} · data as of "
        f"{escape(report.data_as_of.isoformat())}</p>",
    ]
    if report.metrics:
        parts.append("<h2>Summary</h2>" + _table_html(_summary(report)))
    comparison = report.table("comparison")
    if comparison is not None:
        parts.append(f"<h2>{escape(comparison.title)}</h2>" + _table_html(comparison))
    figures = []
    if report.equity:
        figure = go.Figure(
            [
                go.Scatter(x=c.values.index, y=c.values.to_numpy(), name=c.name, mode="lines")
                for c in report.equity
            ]
        )
        figure.update_layout(title="Equity", height=420, margin={"t": 40})
        figures.append(figure)
    if report.drawdown:
        figure = go.Figure(
            [
                go.Scatter(
                    x=c.values.index,
                    y=100 * c.values.to_numpy(),
                    name=c.name,
                    mode="lines",
                    fill="tozeroy",
                )
                for c in report.drawdown
            ]
        )
        figure.update_layout(title="Drawdown (%)", height=300, margin={"t": 40})
        figures.append(figure)
    monthly = report.monthly_returns
    if monthly is not None and monthly.rows:
        z = [
            [None if v is None else round(100 * float(v), 2) for v in row[1:13]]
            for row in monthly.rows
        ]
        figure = go.Figure(
            go.Heatmap(
                z=z,
                x=[c.title for c in monthly.columns[1:13]],
                y=[str(r[0]) for r in monthly.rows],
                colorscale="RdYlGn",
                zmid=0,
                texttemplate="%{z}",
            )
        )
        figure.update_layout(
            title="Monthly returns (%)",
            height=max(300, 22 * len(z) + 120),
            yaxis={"autorange": "reversed", "type": "category"},
        )
        figures.append(figure)
    for figure in figures:
        parts.append(figure.to_html(full_html=False, include_plotlyjs=False))
    for table in report.tables:
        if table.name != "comparison":
            parts.append(f"<h2>{escape(table.title)}</h2>")
            parts.append(_table_html(table) if table.rows else "<p class='note'>none</p>")
            if table.note:
                parts.append(f"<p class='note'>{escape(table.note)}</p>")
    if report.annotations:
        parts.append("<h2>Commentary</h2><ul>")
        parts.extend(
            f"<li><b>{escape(a.at.strftime('%Y-%m-%d'))} · {escape(a.subject)}</b> — "
            f"{escape(a.text)}</li>"
            for a in report.annotations
        )
        parts.append("</ul>")
    for line in report.notes:
        parts.append(f"<p class='note'>{escape(line)}</p>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _summary(report: Report) -> Table:
    table = report.summary_table()
    rows = [
        (r[0], format_value(r[1], ColumnFormat(r[3])), format_value(r[2], ColumnFormat(r[3])))
        for r in table.rows
    ]
    # values arrive as text already; NUMBER columns only right-align them
    columns = [
        table.columns[0],
        *(replace(c, format=ColumnFormat.NUMBER) for c in table.columns[1:3]),
    ]
    return Table.of("summary", "Summary", columns, rows)


def _table_html(table: Table) -> str:
    numeric = {ColumnFormat.TEXT, ColumnFormat.DATE}
    head = "".join(f"<th>{escape(c.title)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f"<td class='{'' if c.format in numeric else 'n'}'>"
            f"{escape(format_value(v, c.format))}</td>"
            for v, c in zip(row, table.columns, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(body)}</table></div>"
