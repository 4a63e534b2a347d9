"""Chinese, Japanese and Korean text in a PDF report prints as its characters: DejaVu Sans has no
CJK glyphs, so journal notes a portfolio manager in Tokyo, Shanghai or Seoul wrote used to print
as rows of empty boxes. CJK runs are now set in the standard Adobe CJK fonts (the viewer's)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from quantdesk.reports import (
    Annotation,
    Column,
    Report,
    ReportFormat,
    SubjectKind,
    Table,
    parse_period,
    render,
)
from quantdesk.reports.fonts import CJK_NOTE

CI = bool(os.environ.get("CI"))
# language (fontconfig's name) -> the PDF font, a note, another note of the same shape (the
# same number of characters between the same punctuation and spaces)
NOTES = {
    "ja": (
        "HeiseiKakuGo-W5",
        "日本語のメモ：利益確定、トヨタを半分売却。",
        "株式の売買表：損失回避、ソニーを少し購入。",
    ),
    "zh-cn": (
        "STSong-Light",
        "中文注释：减仓科技股，保留能源。",
        "风险提示：增持银行股，卖出地产。",
    ),
    "ko": ("HYGothic-Medium", "한국어 메모: 비중 축소", "위험도 관리: 현금 확대"),
}


def _report(notes: list[str], subject: str = "portfolio") -> Report:
    return Report(
        title="ポートフォリオ報告 東京",
        subject_kind=SubjectKind.PORTFOLIO,
        subject="東京",
        period=parse_period("2024-01").clipped(date(2024, 1, 2), date(2024, 1, 31)),
        generated_at=datetime(2024, 2, 1, 9, 0, tzinfo=UTC),
        data_as_of=date(2024, 1, 31),
        currency="JPY",
        metrics=(),
        equity=(),
        drawdown=(),
        monthly_returns=None,
        tables=(
            Table.of(
                "positions",
                "Positions",
                [Column("symbol", "Symbol"), Column("name", "Name")],
                [("7203", "トヨタ自動車"), ("600519", "贵州茅台")],
            ),
        ),
        annotations=tuple(
            Annotation(datetime(2024, 1, 10 + k, tzinfo=UTC), subject, text)
            for k, text in enumerate(notes)
        ),
    )


def _fonts_of_characters(path: Path) -> dict[str, set[str]]:
    """Which fonts each character of the PDF's text is drawn in."""
    seen: dict[str, set[str]] = {}

    def visit(text: str, _cm: object, _tm: object, font: object, _size: object) -> None:
        if font is None or not text.strip():
            return
        name = str(font["/BaseFont"]).lstrip("/").split("+")[-1]  # type: ignore[index]
        for char in text.strip():
            seen.setdefault(char, set()).add(name)

    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    return seen


@pytest.mark.parametrize("language", list(NOTES))
def test_cjk_notes_are_set_in_a_cjk_font_not_dejavu(language: str, tmp_path: Path) -> None:
    font, note, _ = NOTES[language]
    report = replace(_report([note]), title="Monthly report", subject="P", tables=())
    path = render(report, ReportFormat.PDF, tmp_path / "cjk.pdf")[0]
    fonts = _fonts_of_characters(path)
    for char in note:
        if not char.isascii():
            assert fonts[char] == {font}, (char, fonts.get(char))
    assert fonts["2"] <= {"DejaVuSans", "DejaVuSans-Bold"}  # dates stay DejaVu
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert " ".join(CJK_NOTE.split()) in " ".join(text.split())


def test_a_cjk_title_subject_and_table_cells_are_set_in_a_cjk_font(tmp_path: Path) -> None:
    path = render(_report([]), ReportFormat.PDF, tmp_path / "cjk.pdf")[0]
    fonts = _fonts_of_characters(path)
    # the title (also in the footer), the subject and table cells; han alone (東京) takes the
    # document's language (Japanese: it has kana), unless the Japanese font lacks it (贵)
    for char in "ポートフォリオ報告東京トヨタ自動車州茅台":
        assert fonts[char] == {"HeiseiKakuGo-W5"}, (char, fonts[char])
    assert fonts["贵"] == {"STSong-Light"}


def test_a_report_without_cjk_text_has_no_cjk_font_nor_note(tmp_path: Path) -> None:
    report = _report(["Thèse : la dynamique reste forte — € hedged, Привет"], subject="book")
    report = replace(report, title="Monthly report", subject="P", tables=())
    path = render(report, ReportFormat.PDF, tmp_path / "latin.pdf")[0]
    fonts = set().union(*_fonts_of_characters(path).values())
    assert fonts <= {"DejaVuSans", "DejaVuSans-Bold"}
    assert "CJK" not in "".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.skipif(
    shutil.which("pdftotext") is None and not CI,
    reason="pdftotext (poppler-utils) is not installed; CI installs it",
)
def test_the_pdf_text_layer_has_the_cjk_characters(tmp_path: Path) -> None:
    notes = [NOTES[lang][1] for lang in NOTES]
    path = render(_report(notes), ReportFormat.PDF, tmp_path / "cjk.pdf")[0]
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    )
    if "CMap" in done.stderr and not CI:
        pytest.skip(f"poppler cannot read CJK fonts without poppler-data: {done.stderr.strip()}")
    for text in notes:
        assert text in done.stdout
    assert "ポートフォリオ報告 東京" in done.stdout


def _has_font_for(language: str) -> bool:
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(
        ["fc-list", f":lang={language}", "family"], capture_output=True, text=True, check=False
    )
    return bool(listing.stdout.strip())


def _render_page(path: Path, stem: Path) -> np.ndarray:
    subprocess.run(
        ["pdftoppm", "-r", "100", "-gray", "-singlefile", "-f", "1", "-l", "1", str(path), stem],
        check=True,
        capture_output=True,
    )
    return np.asarray(Image.open(f"{stem}.pgm"), dtype=np.int16)


@pytest.mark.parametrize("language", list(NOTES))
def test_cjk_notes_render_as_their_glyphs_not_boxes(language: str, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None and not CI:
        pytest.skip("pdftoppm (poppler-utils) is not installed; CI installs it")
    if not _has_font_for(language) and not CI:
        pytest.skip(
            f"poppler has no font for lang={language} to show the PDF's CJK font with "
            "(fc-list finds none); CI installs fonts-wqy-zenhei"
        )
    _, first, second = NOTES[language]
    pages = []
    for k, text in enumerate((first, second)):
        # same length, all full-width: the two pages differ only in the note's glyphs
        path = render(_report([text]), ReportFormat.PDF, tmp_path / f"{k}.pdf")[0]
        pages.append(_render_page(path, tmp_path / f"page{k}"))
    inked = pages[0] < 160
    changed = np.abs(pages[0] - pages[1]) > 60
    # empty boxes are one glyph for every character: two different notes would render alike
    assert changed.sum() > 0.15 * inked[changed.any(axis=1)].sum(), "the notes print as boxes"
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.max() - rows.min() < 40, "only the note's line differs"
