"""Static assets: our CSS/JS from this package, plotly.js from the installed ``plotly`` package."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")
PLOTLY_URL = "/static/vendor/plotly.min.js"


@cache
def plotly_js() -> Path:
    """The minified plotly.js shipped inside the ``plotly`` Python package."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise FileNotFoundError(f"plotly.js is missing from the installed plotly package: {path}")
    return path


def mount_assets(app: FastAPI) -> None:
    @app.get(PLOTLY_URL, include_in_schema=False)
    def plotly_script() -> FileResponse:
        # browsers may keep it for a day: it only changes when the plotly package is upgraded
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        # browsers ask for it on every page without a <link rel=icon>, the login page included
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
