"""The PDF writer (reportlab): header, summary table, vector charts, tables that split across
pages with their header repeated, commentary, and "page N of M" in every footer.

Text is set in DejaVu Sans from matplotlib's bundled fonts, embedded in the file, and CJK text
in the standard Adobe CJK fonts (:mod:`.fonts`); charts are matplotlib SVG turned into reportlab
drawings (vector).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from quantdesk.reports import charts
from quantdesk.reports.fonts import BOLD, CJK_NOTE, FONT, TextFonts, needs_cjk, register_fonts
from quantdesk.reports.formatting import format_value
from quantdesk.reports.model import ColumnFormat, Report, Table

MAX_PDF_ROWS = 200  # longer tables are cut here; the workbook and the CSV files hold every row
NAVY = colors.HexColor("#1f3b73")
STRIPE = colors.HexColor("#f2f4f8")
MARGIN = 16 * mm
NUMERIC = {
    ColumnFormat.PERCENT,
    ColumnFormat.NUMBER,
    ColumnFormat.RATIO,
    ColumnFormat.CURRENCY,
    ColumnFormat.INTEGER,
    ColumnFormat.BP,
}


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=11)
    return {
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=BOLD,
            fontSize=17,
            leading=21,
            textColor=NAVY,
            spaceAfter=4,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=BOLD,
            fontSize=11.5,
            leading=15,
            textColor=NAVY,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "body": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=7, leading=9, textColor=colors.HexColor("#555555")
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7, leading=8.5),
        "head": ParagraphStyle(
            "head", parent=base, fontName=BOLD, fontSize=7, leading=8.5, textColor=colors.white
        ),
        "head_right": ParagraphStyle(
            "head_right",
            parent=base,
            fontName=BOLD,
            fontSize=7,
            leading=8.5,
            textColor=colors.white,
            alignment=TA_RIGHT,
        ),
    }


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
    """Holds the pages back until the end so each footer can say "page N of M"."""

    footer_text = ""
    text_fonts = TextFonts()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initialFontName", FONT)  # else Helvetica is referenced, unembedded
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFillColor(colors.HexColor("#666666"))
            width = self._pagesize[0]
            self.text_fonts.draw(self, MARGIN, 9 * mm, self.footer_text, 7)
            self.setFont(FONT, 7)
            self.drawRightString(width - MARGIN, 9 * mm, f"page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def write_pdf(report: Report, path: Path) -> Path:
    """Write ``report`` as a PDF at ``path`` (A4 portrait); returns the path."""
    register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=report.title,
        author="quantdesk",
        subject=report.subject,
    )
    width = A4[0] - 2 * MARGIN
    fonts = TextFonts.of_texts(_texts(report))
    story = _story(report, styles, width, fonts)

    class Footer(_NumberedCanvas):
        footer_text = f"{report.title} · {report.period.label} · quantdesk"
        text_fonts = fonts

    document.build(story, canvasmaker=Footer)
    # written in one go: a failed build leaves no half-written file behind
    path.write_bytes(buffer.getvalue())
    return path


def _story(  # noqa: PLR0912 (one branch per optional section)
    report: Report, styles: dict[str, ParagraphStyle], width: float, fonts: TextFonts
) -> list[Flowable]:
    markup = fonts.markup
    story: list[Flowable] = [Paragraph(markup(report.title), styles["title"])]
    story.append(_info_table(report, styles, width, fonts))
    story.append(Spacer(1, 4 * mm))
    if report.metrics:
        story.append(Paragraph("Summary", styles["h2"]))
        story.append(_table(report.summary_table(), styles, width, fonts, summary=True))
    comparison = report.table("comparison")
    if comparison is not None:
        story.append(Paragraph(markup(comparison.title), styles["h2"]))
        story.append(_table(comparison, styles, width, fonts))
    if report.equity:
        ylabel = "growth of 100" if report.equity_is_rebased else f"equity ({report.currency})"
        title = "Equity" + (
            " vs benchmark" if len(report.equity) == 2 and not report.equity_is_rebased else ""
        )
        story.append(CondPageBreak(80 * mm))
        story.append(_chart(charts.line_chart(report.equity, title, ylabel, False), width))
    if report.drawdown:
        story.append(_chart(charts.line_chart(report.drawdown, "Drawdown", "%", True), width))
    if report.monthly_returns is not None and report.monthly_returns.rows:
        story.append(CondPageBreak(60 * mm))
        story.append(_chart(charts.monthly_heatmap(report.monthly_returns), width))
    for table in report.tables:
        if table.name == "comparison":
            continue
        story.extend(_section(table, styles, width, fonts))
        if table.name == "attribution_positions" and table.rows:
            story.append(_attribution_chart(table, width))
    if report.annotations:
        story.append(Paragraph("Commentary", styles["h2"]))
        for note in report.annotations:
            story.append(
                Paragraph(
                    f"<b>{escape(note.at.strftime('%Y-%m-%d'))} · {markup(note.subject)}</b> — "
                    f"{markup(note.text)}",
                    styles["body"],
                )
            )
            story.append(Spacer(1, 1.5 * mm))
    if report.parameters:
        story.append(Paragraph("Parameters", styles["h2"]))
        rows = [
            [Paragraph(markup(k), styles["cell"]), Paragraph(markup(v), styles["cell"])]
            for k, v in report.parameters
        ]
        story.append(_grid([["Parameter", "Value"], *rows], [0.3 * width, 0.7 * width], []))
    notes = [*report.notes, *([CJK_NOTE] if fonts.cjk else [])]
    if notes:
        story.append(Paragraph("Notes", styles["h2"]))
        for line in notes:
            story.append(Paragraph(markup(line), styles["small"]))
    return story


def _texts(report: Report) -> list[str]:
    """The texts the PDF prints (they tell whether it has CJK text, and in which language)."""
    texts = [report.title, report.subject, *report.notes]
    texts += [t for a in report.annotations for t in (a.subject, a.text)]
    texts += [t for pair in report.parameters for t in pair]
    for table in report.tables:
        texts += [table.title, table.note, *(c.title for c in table.columns)]
        texts += [v for row in table.rows[:MAX_PDF_ROWS] for v in row if isinstance(v, str)]
    return texts


def _info_table(
    report: Report, styles: dict[str, ParagraphStyle], width: float, fonts: TextFonts
) -> Flowable:
    cells = [
        ("Subject", f"{report.subject_kind.value}: {report.subject}"),
        ("Period", report.period.label),
        ("Generated at", report.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()),
        ("Data as of", report.data_as_of.isoformat()),
    ]
    rows = [
        [
            Paragraph(f"<b>{escape(k)}</b>", styles["body"]),
            Paragraph(fonts.markup(v), styles["body"]),
        ]
        for k, v in cells
    ]
    table = LongTable(rows, colWidths=[0.2 * width, 0.8 * width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _section(
    table: Table, styles: dict[str, ParagraphStyle], width: float, fonts: TextFonts
) -> list[Flowable]:
    heading = Paragraph(fonts.markup(table.title), styles["h2"])
    if not table.rows:
        return [KeepTogether([heading, Paragraph("none in this period", styles["small"])])]
    parts: list[Flowable] = [CondPageBreak(40 * mm), heading]
    parts.append(_table(table, styles, width, fonts))
    notes = [table.note] if table.note else []
    if len(table.rows) > MAX_PDF_ROWS:
        notes.append(
            f"First {MAX_PDF_ROWS} of {len(table.rows)} rows; the workbook and the "
            f"CSV file {table.name}.csv hold every row."
        )
    parts.extend(Paragraph(fonts.markup(n), styles["small"]) for n in notes)
    return parts


def _table(
    table: Table,
    styles: dict[str, ParagraphStyle],
    width: float,
    fonts: TextFonts,
    summary: bool = False,
) -> Flowable:
    if summary:
        header = ["Metric", table.columns[1].title, "Since inception"]
        formats = [ColumnFormat(row[3]) for row in table.rows]
        body = [
            [row[0], format_value(row[1], f), format_value(row[2], f)]
            for row, f in zip(table.rows, formats, strict=True)
        ]
        return _grid([header, *body], [0.5 * width, 0.25 * width, 0.25 * width], [1, 2])
    header = [c.title for c in table.columns]
    texts = [
        [
            format_value(value, column.format)
            for value, column in zip(row, table.columns, strict=True)
        ]
        for row in table.rows[:MAX_PDF_ROWS]
    ]
    numeric = [i for i, c in enumerate(table.columns) if c.format in NUMERIC]
    widths = _widths(header, texts, width, numeric, fonts)
    body = [
        [
            text if i in numeric else _cell(text, styles, widths[i], fonts)
            for i, text in enumerate(row)
        ]
        for row in texts
    ]
    heading = [
        Paragraph(fonts.markup(t), styles["head_right" if i in numeric else "head"])
        for i, t in enumerate(header)
    ]
    return _grid([heading, *body], widths, numeric)


def _cell(text: str, styles: dict[str, ParagraphStyle], width: float, fonts: TextFonts) -> Any:
    # text wider than its column wraps in a paragraph, as does CJK text (a plain string has
    # one font); the rest stay plain strings (faster)
    fits = fonts.width(text, 7) < width - 6 and not needs_cjk(text)
    return text if fits else Paragraph(fonts.markup(text), styles["cell"])


def _widths(
    header: list[str], texts: list[list[str]], width: float, numeric: list[int], fonts: TextFonts
) -> list[float]:
    """Every column gets at least its longest word (numbers: their longest value, so they
    never wrap); the room left goes to the columns whose full text is longer."""
    minimal, wanted = [], []
    for column, title in enumerate(header):
        sample = [row[column] for row in texts[:300]]
        values = [fonts.width(t, 7) for t in sample] or [0.0]
        words = [fonts.width(w, 7, BOLD) for w in title.split()] or [0.0]
        if column in numeric:
            least = max(*values, *words)
        else:
            cell_words = [fonts.width(w, 7) for t in sample for w in t.split()]
            least = max([*words, *cell_words, 0.0])
        full = max(*values, fonts.width(title, 7, BOLD))
        minimal.append(least + 13)  # + the cell padding (6 pt a side)
        wanted.append(max(full, least) + 13)
    floor = sum(minimal)
    if floor >= width:
        return [width * w / floor for w in minimal]
    extra = [w - m for w, m in zip(wanted, minimal, strict=True)]
    room = width - floor
    spread = sum(extra)
    if spread <= room:  # everything fits: give the slack out evenly
        return [w + (room - spread) / len(wanted) for w in wanted]
    return [m + room * e / spread for m, e in zip(minimal, extra, strict=True)]


def _grid(rows: Sequence[Sequence[Any]], widths: list[float], numeric: list[int]) -> LongTable:
    table = LongTable(rows, colWidths=widths, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 7),
        ("FONT", (0, 0), (-1, 0), BOLD, 7),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), NAVY),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, NAVY),
    ]
    for column in numeric:
        commands.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    table.setStyle(TableStyle(commands))
    return table


def _chart(figure: Any, width: float) -> Flowable:
    from svglib.svglib import svg2rlg

    drawing = svg2rlg(io.BytesIO(charts.to_svg(figure)))
    assert drawing is not None
    scale = width / drawing.width
    drawing.width, drawing.height = width, drawing.height * scale
    drawing.scale(scale, scale)
    return KeepTogether([Spacer(1, 2 * mm), _Drawing(drawing)])


class _Drawing(Flowable):  # type: ignore[misc]  # reportlab has no type hints
    """A reportlab drawing as a flowable (kept vector)."""

    def __init__(self, drawing: Drawing) -> None:
        super().__init__()
        self.drawing = drawing
        self.width, self.height = drawing.width, drawing.height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.drawing.drawOn(self.canv, 0, 0)


def _attribution_chart(table: Table, width: float) -> Flowable:
    symbols = table.column("symbol")
    values = table.column("contribution")
    pairs = sorted(zip(symbols, values, strict=True), key=lambda p: -abs(p[1] or 0.0))[:15]
    pairs.sort(key=lambda p: -(p[1] or 0.0))
    figure = charts.bar_chart(
        [str(s) for s, _ in pairs],
        [float(v or 0.0) for _, v in pairs],
        "Largest contributions by position",
    )
    return _chart(figure, width)


__all__ = ["write_pdf"]
