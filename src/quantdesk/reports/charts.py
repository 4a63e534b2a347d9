"""Report charts drawn with matplotlib's object API (no pyplot: no global figure state) and
handed to the PDF writer as SVG, so they stay vector graphics in the document."""

from __future__ import annotations

import io
import itertools
import math
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from quantdesk.reports.model import Curve, Table

PALETTE = ("#1f3b73", "#c8102e", "#2a9d8f", "#e9a23b", "#6d597a", "#4d908e", "#8d99ae")
FONT_DIRECTORY = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
WIDTH_INCHES = 7.0


def _figure(height: float, left: float = 0.09) -> Figure:
    """A figure with fixed margins in inches (labels are short and known): a layout engine
    would cost a second drawing pass per chart."""
    figure = Figure(figsize=(WIDTH_INCHES, height))
    figure.subplots_adjust(left=left, right=0.985, bottom=0.42 / height, top=1.0 - 0.3 / height)
    return figure


def line_chart(curves: tuple[Curve, ...], title: str, ylabel: str, percent: bool) -> Figure:
    """Curves on one axis (the first one bold); ``percent`` shows fractions as percent."""
    figure = _figure(2.9)
    axes = figure.add_subplot()
    for position, curve in enumerate(curves):
        values = thinned(curve.values.dropna())
        scale = 100.0 if percent else 1.0
        axes.plot(
            values.index,
            values.to_numpy(dtype=np.float64) * scale,
            color=PALETTE[position % len(PALETTE)],
            linewidth=1.4 if position == 0 else 1.0,
            label=curve.name,
        )
        if percent and position == 0:
            axes.fill_between(
                values.index,
                values.to_numpy(dtype=np.float64) * scale,
                0.0,
                color=PALETTE[0],
                alpha=0.15,
                linewidth=0,
            )
    axes.set_title(title, fontsize=10, loc="left")
    axes.set_ylabel(ylabel, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.grid(True, linewidth=0.3, alpha=0.6)
    if not percent and _spans_decades(curves):
        axes.set_yscale("log")
    if not percent:
        axes.yaxis.set_major_formatter(FuncFormatter(_money))
    # grid lines mark the values; tick marks and a log axis's minor ticks would only add
    # shapes to convert (the equity chart had 200 of them)
    axes.minorticks_off()
    axes.tick_params(length=0)
    if len(curves) > 1:
        axes.legend(fontsize=7, frameon=False, loc="best")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure


MAX_POINTS = 1200  # per curve: ~170 per inch at the PDF's width, finer than print resolution


def thinned(values: pd.Series, limit: int = MAX_POINTS) -> pd.Series:
    """At most ``limit`` points of a long series, keeping each bucket's first, lowest, highest
    and last point, so peaks and troughs (drawdowns) look the same as with every point: the
    SVG → PDF conversion costs time per vertex."""
    if len(values) <= limit:
        return values
    buckets = max(1, limit // 4)
    edges = np.linspace(0, len(values), buckets + 1).astype(np.int64)
    data = values.to_numpy(dtype=np.float64)
    keep: set[int] = set()
    for start, stop in itertools.pairwise(edges):
        if stop > start:
            window = data[start:stop]
            keep.update(
                (
                    int(start),
                    int(start + np.argmin(window)),
                    int(start + np.argmax(window)),
                    int(stop - 1),
                )
            )
    return values.iloc[sorted(keep)]


def _money(value: float, _position: float) -> str:
    """Axis labels in thousands, millions or billions (no "1e9" offset text)."""
    for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.4g}{suffix}"
    return f"{value:,.4g}"


def _spans_decades(curves: tuple[Curve, ...]) -> bool:
    values = np.concatenate([c.values.dropna().to_numpy(dtype=np.float64) for c in curves])
    values = values[values > 0]
    return bool(len(values)) and float(values.max() / values.min()) > 20.0


def monthly_heatmap(table: Table) -> Figure:
    """Months × years of returns, red losses, green gains, values printed when they fit."""
    years = [str(row[0]) for row in table.rows]
    data = np.array(
        [[math.nan if v is None else 100.0 * float(v) for v in row[1:13]] for row in table.rows],
        dtype=np.float64,
    )
    height = min(8.5, 0.9 + 0.22 * len(years))
    figure = _figure(height, left=0.07)
    axes = figure.add_subplot()
    finite = data[np.isfinite(data)]
    span = float(np.abs(finite).max()) if finite.size else 1.0
    span = span or 1.0
    # pcolormesh, not imshow: imshow becomes a bitmap in SVG, cells stay vector here
    axes.pcolormesh(
        np.ma.masked_invalid(data),
        cmap=matplotlib.colormaps["RdYlGn"].with_extremes(bad="#f2f4f8"),
        norm=TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span),
        edgecolors="white",
        linewidth=0.5,
    )
    axes.invert_yaxis()
    axes.set_xticks(np.arange(12) + 0.5, [c.title for c in table.columns[1:13]], fontsize=7)
    axes.set_yticks(np.arange(len(years)) + 0.5, years, fontsize=6 if len(years) > 20 else 7)
    if len(years) <= 15:  # beyond that the figures are too small to read; colours tell
        for row, column in zip(*np.nonzero(np.isfinite(data)), strict=True):
            axes.text(
                column + 0.5,
                row + 0.5,
                f"{data[row, column]:.1f}",
                ha="center",
                va="center",
                fontsize=5.5 if len(years) > 20 else 6.5,
            )
    axes.set_title("Monthly returns (%)", fontsize=10, loc="left")
    axes.tick_params(length=0)
    return figure


def bar_chart(labels: list[str], values: list[float], title: str) -> Figure:
    """Horizontal bars of fractions shown in percent (attribution)."""
    figure = _figure(max(1.6, 0.7 + 0.2 * len(labels)), left=0.1)
    axes = figure.add_subplot()
    positions = np.arange(len(labels))
    colours = [PALETTE[2] if v >= 0 else PALETTE[1] for v in values]
    axes.barh(positions, [100.0 * v for v in values], color=colours)
    axes.set_yticks(positions, labels, fontsize=7)
    axes.invert_yaxis()
    axes.axvline(0.0, color="black", linewidth=0.5)
    axes.set_xlabel("contribution (% of start equity)", fontsize=7)
    axes.tick_params(labelsize=7)
    axes.set_title(title, fontsize=10, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure


def to_svg(figure: Figure) -> bytes:
    """The figure as SVG with text kept as text in DejaVu Sans (the PDF embeds that font, so
    labels stay selectable and converting is fast)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg")
    # matplotlib lists a dozen fallback families on every label; svglib resolves each name of
    # each list again (a third of the conversion time). The text is DejaVu Sans: say only that.
    return _FAMILIES.sub(b"font-family: 'DejaVu Sans'", buffer.getvalue())


_FAMILIES = re.compile(rb"font-family: '?DejaVu Sans'?(, [^;\"]+)+")
