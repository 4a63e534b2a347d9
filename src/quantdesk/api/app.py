"""The app factory: one FastAPI app holding the services container built once at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from quantdesk import __version__
from quantdesk.api.deps import Principal, Role
from quantdesk.services import Services

LOCAL = Principal(name="local", role=Role.ADMIN, via="local")


def create_app(services: Services) -> FastAPI:
    """Build the app around an already-built services container (migrations are an explicit
    step before this, never something each worker does)."""
    app = FastAPI(
        title="quantdesk",
        version=__version__,
        docs_url=None,  # served from installed assets by the API routes, never a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.services = services

    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Placeholder until the auth service lands: the local operator, admin.
        request.state.principal = LOCAL
        return await call_next(request)

    from quantdesk.web import install

    install(app)
    return app
