"""Interactive API docs served entirely by ketaguard: no CDN, so they work in an offline clinic."""

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)

ASSETS_MOUNT = "/static/swagger"
swagger_assets = StaticFiles(packages=[("fastapi_swagger", "resources")])


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} API",
        swagger_js_url=f"{ASSETS_MOUNT}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_MOUNT}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_MOUNT}/favicon-32x32.png",
    )
