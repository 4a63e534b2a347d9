"""The PDF's fonts: DejaVu Sans, embedded, for every character it has (Latin, Greek, Cyrillic,
…), and for the Chinese, Japanese and Korean characters it has no glyphs for, the standard Adobe
CJK fonts reportlab knows without a font file.

Those CJK fonts are not embedded: the PDF viewer supplies them (Acrobat and Preview have them;
poppler and pdf.js use a CJK font of the system), so a viewer with no CJK font still shows
boxes — a PDF with CJK text says so in its notes (:data:`CJK_NOTE`). A CJK character is set in
the font of its text's language — kana make it Japanese, hangul Korean, han alone the
document's language (:class:`TextFonts`), Chinese when nothing tells — if that font has it,
else in the first CJK font that does. Characters no font has (e.g. Thai, Devanagari, han beyond
U+FFFF) stay in DejaVu and print as boxes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

from quantdesk.reports import charts

FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
JAPANESE, KOREAN, CHINESE = "HeiseiKakuGo-W5", "HYGothic-Medium", "STSong-Light"
# each CJK font with a character set its Unicode CMap covers (checked against poppler-data's
# UniGB/UniJIS/UniKS-UCS2-H: all but 24 vertical and compatibility forms of GBK), in the order
# a character its language's font lacks tries them (GBK has the most han)
CJK_FONTS = {CHINESE: "gbk", JAPANESE: "shift_jis", KOREAN: "cp949"}
CJK_NOTE = (
    "Chinese, Japanese and Korean text is set in the standard Adobe CJK fonts, which the PDF "
    "viewer supplies (they are not embedded): a viewer without CJK fonts shows boxes instead."
)
_KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xFFA0, 0xFFDC))


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold, embedded) and the CJK fonts with reportlab,
    once per process."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    from svglib.fonts import register_font

    # svglib registers each font with reportlab under our name and maps the charts' SVG
    # family (matplotlib's default) to it: one parse of each TrueType file, not two
    for name, weight, file in (
        (FONT, "normal", "DejaVuSans.ttf"),
        (BOLD, "bold", "DejaVuSans-Bold.ttf"),
    ):
        registered, _ = register_font(
            "DejaVu Sans", str(charts.FONT_DIRECTORY / file), weight=weight, rlgFontName=name
        )
        if registered is None:
            raise RuntimeError(f"cannot load the report font {charts.FONT_DIRECTORY / file}")
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    for name in CJK_FONTS:
        pdfmetrics.registerFont(UnicodeCIDFont(name))
        # no bold face: <b> around CJK text keeps the regular one
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)


@dataclass(frozen=True, slots=True)
class TextFonts:
    """How one document sets its text (see the module docstring): ``han`` is the font of
    han-only text, from the document's language (:meth:`of_texts`); ``cjk``: the document has
    CJK text."""

    han: str = CHINESE
    cjk: bool = False

    @staticmethod
    def of_texts(texts: Iterable[object]) -> TextFonts:
        """The fonts of a document printing ``texts`` (the strings among them): han-only text
        (a name like 東京) is Japanese in a document with kana, Korean in one with hangul."""
        strings = [t for t in texts if isinstance(t, str) and needs_cjk(t)]
        return TextFonts(_language(strings, CHINESE), cjk=bool(strings))

    def runs(self, text: str, font: str = FONT) -> list[tuple[str, str]]:
        """``text`` cut into ``(font name, part)`` runs; the parts no CJK font takes in
        ``font`` (DejaVu, regular or bold)."""
        if text.isascii():
            return [(font, text)] if text else []
        preferred = _language([text], self.han)
        out: list[tuple[str, str]] = []
        for char in text:
            name = _cjk_font(char, preferred) or font
            if out and out[-1][0] == name:
                out[-1] = (name, out[-1][1] + char)
            else:
                out.append((name, char))
        return out

    def markup(self, text: str) -> str:
        """``text`` escaped for a reportlab paragraph, its CJK runs in their font."""
        if not needs_cjk(text):
            return escape(text)
        return "".join(
            f'<font face="{name}">{escape(part)}</font>' if name in CJK_FONTS else escape(part)
            for name, part in self.runs(text)
        )

    def width(self, text: str, size: float, font: str = FONT) -> float:
        """The width of ``text`` in points at ``size``, each run measured in its own font."""
        if text.isascii():
            return float(pdfmetrics.stringWidth(text, font, size))
        runs = self.runs(text, font)
        return float(sum(pdfmetrics.stringWidth(part, name, size) for name, part in runs))

    def draw(self, canvas: Any, x: float, y: float, text: str, size: float) -> None:
        """Draw ``text`` on a reportlab ``canvas`` at ``(x, y)``, run by run."""
        for name, part in self.runs(text):
            canvas.setFont(name, size)
            canvas.drawString(x, y, part)
            x += pdfmetrics.stringWidth(part, name, size)


def needs_cjk(text: str) -> bool:
    """Whether ``text`` has a character set in a CJK font."""
    return not text.isascii() and any(_cjk_font(c, CHINESE) for c in text)


def _language(texts: list[str], otherwise: str) -> str:
    """The CJK font of ``texts``: Japanese with kana, Korean with hangul, else ``otherwise``."""
    if any(_within(char, _KANA) for text in texts for char in text):
        return JAPANESE
    if any(_within(char, _HANGUL) for text in texts for char in text):
        return KOREAN
    return otherwise


@cache
def _cjk_font(char: str, preferred: str) -> str | None:
    """The CJK font ``char`` is set in (``preferred`` when it has it), ``None`` for DejaVu."""
    if char.isascii() or _in_dejavu(char):
        return None
    for name in (preferred, *CJK_FONTS):
        try:
            char.encode(CJK_FONTS[name])
        except UnicodeEncodeError:
            continue
        return name
    return None


def _within(char: str, blocks: tuple[tuple[int, int], ...]) -> bool:
    point = ord(char)
    return any(first <= point <= last for first, last in blocks)


def _in_dejavu(char: str) -> bool:
    register_fonts()
    return ord(char) in pdfmetrics.getFont(FONT).face.charToGlyph
