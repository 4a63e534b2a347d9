"""Server-rendered web pages (Jinja2 + Plotly), served by the API app."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the pages and their static assets on ``app``."""
