"""REST resources, one module each; :func:`include_routes` mounts them all under ``/api``."""

from __future__ import annotations

from fastapi import FastAPI


def include_routes(app: FastAPI) -> None:
    from quantdesk.api.routes import docs, login, system

    app.include_router(login.router)
    docs.install_docs(app)
    app.include_router(system.router, prefix="/api")
