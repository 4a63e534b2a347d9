"""Server-rendered web pages (Jinja2 + Plotly), served by the API app.

Every page calls services only (through :data:`~quantdesk.api.deps.ServicesDep`); charts are
Plotly figures drawn by plotly.js served from the installed ``plotly`` package (never a CDN);
a little progressive-enhancement JS (``static/app.js``) adds live updates over ``/api/events``
when the API serves it.
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Mount the pages and their static assets on ``app``."""
    from quantdesk.web.assets import mount_assets
    from quantdesk.web.pages import routers

    mount_assets(app)
    for router in routers():
        app.include_router(router)
