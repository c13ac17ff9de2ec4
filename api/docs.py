"""The API's own documentation pages: Swagger UI at ``/docs`` and ReDoc at ``/redoc``.

Both load their JavaScript and CSS from this service, not from a CDN, so that they render where
the service runs without internet access (a government network often has none). The assets are
the ones the ``fastapi-offline`` package ships (Swagger UI 5 and ReDoc 2 bundles, kept current
by its maintainer); Swagger UI's online validator is turned off for the same reason.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import PUBLIC

__all__ = ["ASSETS", "DOCS_ASSETS", "PREFIX", "install_docs"]

#: The bundles the pages load, by the name they are served under.
DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
PREFIX = "/docs/assets"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


async def docs_asset(name: str) -> FileResponse:
    media = ASSETS.get(name)
    if media is None:
        raise HTTPException(404, "not found")
    return FileResponse(
        DOCS_ASSETS / name, media_type=media, headers={"Cache-Control": "public, max-age=86400"}
    )


def install_docs(app: FastAPI) -> None:
    """``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and their assets on ``app``, which must
    have been built with ``docs_url=None, redoc_url=None`` (FastAPI's own pages load from a
    CDN)."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(PUBLIC)])
    router.add_api_route(PREFIX + "/{name}", docs_asset, methods=["GET"])
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    parameters = {**(app.swagger_ui_parameters or {}), "validatorUrl": None}

    @router.get("/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} – Swagger UI",
            swagger_js_url=f"{root}{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{PREFIX}/favicon.png",
            oauth2_redirect_url=root + oauth2_redirect_url,
            swagger_ui_parameters=parameters,
        )

    @router.get(oauth2_redirect_url)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} – ReDoc",
            redoc_js_url=f"{root}{PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{PREFIX}/favicon.png",
            with_google_fonts=False,
        )

    app.include_router(router)
