"""The writers show the model's numbers: every summary figure is in the PDF text and in the
workbook, every chart is drawn, long tables split across pages, and pages render non-blank."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from quantdesk.reports import Report, ReportError, ReportFormat, parse_format, render
from quantdesk.reports.formatting import format_value

PDFTOPPM = shutil.which("pdftoppm")
LONG_LIST = 600  # positions in the synthetic report (tests/unit/reports/conftest.py)


def _pdf(report: Report, folder: Path) -> tuple[Path, list[str]]:
    path = render(report, ReportFormat.PDF, folder / "report.pdf")[0]
    reader = PdfReader(path)
    return path, [page.extract_text() for page in reader.pages]


@pytest.fixture(scope="module")
def pdf(report: Report, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The synthetic report's PDF, written once for the tests that read it."""
    return _pdf(report, tmp_path_factory.mktemp("pdf"))


def test_every_summary_figure_is_printed_in_the_pdf(
    report: Report, pdf: tuple[Path, list[str]]
) -> None:
    _, pages = pdf
    first = pages[0]
    assert "Synthetic report" in first
    assert "Data as of\n2023-12-29" in first
    lines = [line.strip() for line in first.splitlines()]
    for metric in report.metrics:
        # each cell is one text line: label, then the period's and the inception figure
        at = lines.index(metric.label)
        assert lines[at + 1] == format_value(metric.period, metric.format), metric.label
        assert lines[at + 2] == format_value(metric.inception, metric.format), metric.label
    labels = {m.key for m in report.metrics}
    assert {"total_return", "cagr", "sharpe_ratio", "max_drawdown", "alpha", "beta"} <= labels


def test_the_pdf_has_every_chart_and_splits_long_tables(pdf: tuple[Path, list[str]]) -> None:
    path, pages = pdf
    text = "\n".join(pages)
    # chart titles are real text: the charts are vector drawings, not images
    for title in ("Equity vs benchmark", "Drawdown", "Monthly returns (%)"):
        assert title in text
    assert not any(page.images for page in PdfReader(path).pages)
    # 600 positions: the table is cut at the PDF's limit, continues over pages with its header
    headed = [page for page in pages if "Symbol\nSector\n" in page]
    assert len(headed) >= 3
    assert f"of {LONG_LIST} rows" in text
    assert 4 <= len(pages) <= 15
    assert all(f"page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    # fonts embedded, non-ASCII commentary intact
    assert "Thèse : la dynamique reste forte" in text
    assert "€ hedged" in text


def test_the_pdf_embeds_its_fonts(pdf: tuple[Path, list[str]]) -> None:
    path, _ = pdf
    fonts = set()
    for page in PdfReader(path).pages:
        resources = page["/Resources"]
        for reference in resources.get("/Font", {}).values():
            font = reference.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
            fonts.add((str(font["/BaseFont"]), embedded))
    # every font the text uses is embedded DejaVu (reportlab only names Helvetica, unused),
    # but for the annotation's 日本: the standard CJK font the viewer supplies
    assert {name.split("+")[-1].lstrip("/") for name, _ in fonts} <= {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "Helvetica",
        "STSong-Light",
    }
    assert all(embedded for name, embedded in fonts if "DejaVu" in name)
    assert any(name.endswith("DejaVuSans") for name, _ in fonts)


@pytest.mark.skipif(
    PDFTOPPM is None and not os.environ.get("CI"),
    reason="pdftoppm (poppler-utils) is not installed; CI installs it",
)
def test_page_one_and_the_equity_page_render_non_blank(
    pdf: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, pages = pdf
    equity_page = next(n for n, page in enumerate(pages, start=1) if "Equity vs" in page)
    for number in sorted({1, equity_page}):
        stem = tmp_path / f"page{number}"
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "40",
                "-png",
                "-singlefile",
                "-f",
                str(number),
                "-l",
                str(number),
                str(path),
                str(stem),
            ],
            check=True,
        )
        image = Image.open(f"{stem}.png").convert("RGB")
        pixels = np.asarray(image).reshape(-1, 3)
        inked = float((pixels.min(axis=1) < 200).mean())
        assert inked > 0.03, f"page {number} is nearly blank ({inked:.1%} inked)"
        colours = len(np.unique(pixels, axis=0))
        assert colours > 20, f"page {number} has {colours} colours: no chart drawn"


def test_the_workbook_holds_the_same_figures_with_real_formats(
    report: Report, tmp_path: Path
) -> None:
    path = render(report, ReportFormat.XLSX, tmp_path / "report.xlsx")[0]
    book = load_workbook(path)
    assert book.sheetnames[:10] == [
        "Summary",
        "Monthly returns",
        "Equity",
        "Drawdown",
        "Positions",
        "Trades",
        "TCA",
        "Attribution",
        "Attribution by sector",
        "Attribution by factor",
    ]
    assert "Parameters" in book.sheetnames
    summary = book["Summary"]
    header = next(r for r in range(1, 20) if summary.cell(r, 1).value == "Metric")
    assert summary.freeze_panes == f"A{header + 1}"
    figures = {
        summary.cell(r, 1).value: (summary.cell(r, 2), summary.cell(r, 3))
        for r in range(header + 1, header + 1 + len(report.metrics))
    }
    for metric in report.metrics:
        period_cell, inception_cell = figures[metric.label]
        for cell, value in ((period_cell, metric.period), (inception_cell, metric.inception)):
            if value is None or math.isnan(value):
                assert cell.value is None
            else:
                assert cell.value == pytest.approx(value, rel=1e-12, abs=1e-15)
        if metric.format.value == "percent":
            assert period_cell.number_format == "0.00%"
    positions = book["Positions"]
    assert positions.max_row == LONG_LIST + 1
    assert positions.freeze_panes == "A2"
    equity = book["Equity"]
    assert equity.cell(2, 1).number_format == "yyyy-mm-dd"
    with zipfile.ZipFile(path) as archive:  # openpyxl drops charts on reading: look inside
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())


def test_csv_has_every_table_as_raw_numbers(report: Report, tmp_path: Path) -> None:
    written = render(report, ReportFormat.CSV, tmp_path / "csv")
    names = {p.name for p in written}
    assert {
        "summary.csv",
        "monthly_returns.csv",
        "equity.csv",
        "positions.csv",
        "trades.csv",
        "annotations.csv",
        "parameters.csv",
    } <= names
    with (tmp_path / "csv" / "summary.csv").open(encoding="utf-8") as handle:
        rows = {row["metric"]: row for row in csv.DictReader(handle)}
    sharpe = report.metric("sharpe_ratio")
    assert float(rows["Sharpe ratio"]["period"]) == pytest.approx(sharpe.period)


def test_the_html_tear_sheet_is_self_contained(report: Report, tmp_path: Path) -> None:
    path = render(report, ReportFormat.HTML, tmp_path / "sheet.html")[0]
    page = path.read_text(encoding="utf-8")
    assert "<script src=" not in page  # plotly.js inlined, no CDN
    assert "Plotly.newPlot" in page
    assert format_value(report.metric("cagr").period, report.metric("cagr").format) in page


def test_no_benchmark_and_no_trades_still_make_a_document(
    tmp_path: Path, make_report: Callable[..., Report]
) -> None:
    bare = make_report(benchmark=False, trades=False)
    keys = {m.key for m in bare.metrics}
    assert not keys & {"alpha", "beta", "benchmark_return", "trade_win_rate"}
    _, pages = _pdf(bare, tmp_path)
    assert "Equity" in pages[0]
    assert "none in this period" in "\n".join(pages)
    render(bare, ReportFormat.XLSX, tmp_path / "bare.xlsx")


def test_an_unknown_format_or_a_folder_for_a_file_is_one_error(
    report: Report, tmp_path: Path
) -> None:
    with pytest.raises(ReportError, match="unknown report format 'docx'"):
        parse_format("docx")
    with pytest.raises(ReportError, match="is a directory"):
        render(report, ReportFormat.PDF, tmp_path)
