"""``/api/docs``: Swagger UI from the installed ``swagger-ui-bundle-v2`` package (Swagger UI 5,
which renders OpenAPI 3.1), served by this app: the docs work offline, with no CDN."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from quantdesk.api.deps import Viewer

ASSETS = "/api/docs/assets"
router = APIRouter(include_in_schema=False)


@router.get("/api/docs", response_class=HTMLResponse)
def swagger_ui(_: Viewer) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/openapi.json",
        title="quantdesk API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )


def install_docs(app: FastAPI) -> None:
    from swagger_ui_bundle import swagger_ui_path

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    app.include_router(router)
