"""The app factory: one FastAPI app holding the services container built once at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from quantdesk import __version__
from quantdesk.api.context import WebServices, build_web_services
from quantdesk.api.hosts import HostCheck
from quantdesk.api.middleware import AuthMiddleware
from quantdesk.api.problems import install_problem_handlers
from quantdesk.services import Services
from quantdesk.services.auth import LOCAL

__all__ = ["LOCAL", "create_app"]


def create_app(
    services: Services,
    *,
    web: WebServices | None = None,
    secure_cookies: bool = False,
    read_cache: bool = True,
    host_check: HostCheck | None = None,
) -> FastAPI:
    """Build the app around an already-built services container (migrations are an explicit
    step before this, never something each worker does). ``secure_cookies``: the app is
    served over https (set behind a TLS-terminating proxy); ``read_cache``: the one-second GET
    cache (:mod:`quantdesk.api.cache`); ``host_check``: the Host headers answered with no user
    configured (:mod:`quantdesk.api.hosts`)."""
    if web is None:
        web = build_web_services(
            services, secure_cookies=secure_cookies, read_cache=read_cache, host_check=host_check
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        web.start()
        yield
        web.close()

    app = FastAPI(
        title="quantdesk",
        version=__version__,
        docs_url=None,  # served from installed assets by the API routes, never a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.web = web
    install_problem_handlers(app)
    app.add_middleware(AuthMiddleware)

    from quantdesk.api.routes import include_routes

    include_routes(app)

    from quantdesk.web import install

    install(app)
    return app
