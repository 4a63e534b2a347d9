"""Plotly figures as plain JSON-ready dicts (drawn by plotly.js in the page).

Non-finite numbers become ``None`` (JSON has no NaN; plotly.js leaves a gap). Dates are ISO
strings. Every function returns ``{"data": [...], "layout": {...}}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

Figure = dict[str, Any]

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#64748b")


def clean(values: Iterable[Any]) -> list[Any]:
    """JSON-safe values: floats that are not finite become ``None``; dates become ISO text."""
    out: list[Any] = []
    for value in values:
        if hasattr(value, "isoformat"):
            out.append(value.isoformat()[:10] if _is_midnight(value) else value.isoformat())
        elif isinstance(value, float | np.floating):
            out.append(float(value) if math.isfinite(value) else None)
        elif isinstance(value, np.integer):
            out.append(int(value))
        else:
            out.append(value)
    return out


def _is_midnight(value: Any) -> bool:
    return not hasattr(value, "hour") or (value.hour, value.minute, value.second) == (0, 0, 0)


def layout(title: str = "", y_title: str = "", percent: bool = False, **extra: Any) -> Figure:
    base: Figure = {
        "title": {"text": title, "font": {"size": 14}} if title else None,
        "margin": {"l": 55, "r": 15, "t": 35 if title else 10, "b": 40},
        "height": 320,
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.2},
        "yaxis": {"title": {"text": y_title}, "tickformat": ".1%" if percent else None},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    base.update(extra)
    return base


def lines(
    series: Sequence[tuple[str, pd.Series]],
    title: str = "",
    y_title: str = "",
    percent: bool = False,
    fill: bool = False,
) -> Figure:
    """One line per ``(name, series)``; the series index is the x axis."""
    data = []
    for number, (name, values) in enumerate(series):
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": clean(values.index),
            "y": clean(values.to_numpy(dtype="float64")),
            "line": {"color": PALETTE[number % len(PALETTE)], "width": 1.6},
        }
        if fill:
            trace["fill"] = "tozeroy"
        data.append(trace)
    return {"data": data, "layout": layout(title, y_title, percent)}


def bars(
    labels: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float]]],
    title: str = "",
    percent: bool = False,
) -> Figure:
    """Grouped bars: one trace per ``(name, values)`` over ``labels``."""
    data = [
        {
            "type": "bar",
            "name": name,
            "x": list(labels),
            "y": clean(values),
            "marker": {"color": PALETTE[number % len(PALETTE)]},
        }
        for number, (name, values) in enumerate(groups)
    ]
    return {"data": data, "layout": layout(title, percent=percent, barmode="group")}


def heatmap(
    frame: pd.DataFrame,
    title: str = "",
    percent: bool = False,
    symmetric: bool = True,
    height: int | None = None,
) -> Figure:
    """A rows × columns heatmap; ``symmetric`` centres the red–blue scale on zero."""
    values = frame.to_numpy(dtype="float64")
    finite = np.abs(values[np.isfinite(values)])
    bound = float(finite.max()) if finite.size else 1.0
    z = [clean(row) for row in values]
    text = [[_cell(v, percent) for v in row] for row in values]
    trace: dict[str, Any] = {
        "type": "heatmap",
        "x": [str(c) for c in frame.columns],
        "y": [str(i) for i in frame.index],
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>",
        "colorscale": "RdBu",
        "reversescale": True,  # blue above zero, red below
        "showscale": False,
    }
    if symmetric:
        trace.update(zmin=-bound, zmax=bound, zmid=0)
    rows = len(frame.index)
    figure_layout = layout(title, hovermode="closest")
    figure_layout["height"] = height or max(240, min(900, 60 + 24 * rows))
    figure_layout["yaxis"] = {"autorange": "reversed", "automargin": True}
    figure_layout["xaxis"] = {"side": "bottom", "automargin": True}
    return {"data": [trace], "layout": figure_layout}


def _cell(value: float, percent: bool) -> str:
    if not math.isfinite(value):
        return ""
    return f"{100 * value:.1f}%" if percent else f"{value:.2f}"


def with_bands(figure: Figure, bands: Sequence[tuple[float, float, str, str]]) -> Figure:
    """Shade horizontal bands ``(low, high, colour, label)`` behind a line chart (y units)."""
    shapes = [
        {
            "type": "rect",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": low,
            "y1": high,
            "fillcolor": colour,
            "opacity": 0.15,
            "line": {"width": 0},
            "layer": "below",
        }
        for low, high, colour, _ in bands
    ]
    annotations = [
        {
            "xref": "paper",
            "x": 0.005,
            "y": (low + high) / 2,
            "text": label,
            "showarrow": False,
            "xanchor": "left",
            "font": {"size": 10},
        }
        for low, high, _, label in bands
    ]
    figure["layout"]["shapes"] = shapes
    figure["layout"]["annotations"] = annotations
    return figure
