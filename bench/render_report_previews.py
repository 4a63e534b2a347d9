"""Small PNG previews of a report for the README: page 1 of the PDF (pdftoppm) and the
workbook's Summary sheet drawn as a matplotlib table (no LibreOffice needed).

    .venv/bin/python bench/render_report_previews.py REPORT.pdf REPORT.xlsx docs/reports
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from matplotlib.figure import Figure
from openpyxl import load_workbook


def pdf_page_one(pdf: Path, out: Path) -> Path:
    stem = out / "report-page-1"
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-singlefile", "-f", "1", "-l", "1", str(pdf), str(stem)],
        check=True,
    )
    return stem.with_suffix(".png")


def excel_summary(xlsx: Path, out: Path) -> Path:
    """The Summary sheet's cells as shown by Excel's number formats (percent, thousands)."""
    sheet = load_workbook(xlsx)["Summary"]
    rows = []
    for row in sheet.iter_rows(min_row=1, max_row=sheet.max_row, max_col=3):
        cells = []
        for cell in row:
            value = cell.value
            if isinstance(value, float):
                if cell.number_format == "0.00%":
                    value = f"{100 * value:,.2f}%"
                elif cell.number_format in ("#,##0.00", "#,##0"):
                    value = f"{value:,.2f}"
                else:
                    value = f"{value:,.2f}"
            text = "" if value is None else str(value)
            # Excel lets long text run into the empty cells beside it; a table cell cannot
            cells.append(text if len(text) <= 34 else text[:33] + "…")
        rows.append(cells)
    figure = Figure(figsize=(7.5, 0.24 * len(rows) + 0.4))
    axes = figure.add_subplot()
    axes.axis("off")
    table = axes.table(cellText=rows, loc="upper left", cellLoc="left", colWidths=[0.45, 0.3, 0.3])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    header = next(i for i, r in enumerate(rows) if r[0] == "Metric")
    for (row, column), cell in table.get_celld().items():
        cell.set_edgecolor("#d0d4dc")
        if row == header:
            cell.set_facecolor("#1f3b73")
            cell.get_text().set_color("white")
            cell.get_text().set_weight("bold")
        elif row == 0:
            cell.get_text().set_weight("bold")
            cell.get_text().set_color("#1f3b73")
        if column > 0 and row > header:
            cell.get_text().set_horizontalalignment("right")
    figure.suptitle("Excel workbook — Summary sheet", x=0.02, ha="left", fontsize=9)
    path = out / "excel-summary.png"
    figure.savefig(path, dpi=80, bbox_inches="tight")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("xlsx", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(pdf_page_one(args.pdf, args.out))
    print(excel_summary(args.xlsx, args.out))


if __name__ == "__main__":
    main()
