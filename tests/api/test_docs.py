"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) render without internet access: every script,
stylesheet, icon and the OpenAPI document they load comes from the service itself."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from settings import Settings

#: What each kind of asset must be served as.
KINDS = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "json"}


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app as ``create_app`` builds it; no lifespan (nothing here needs Temporal)."""
    app = create_app(Settings(database_url=f"sqlite:///{(tmp_path / 'db.sqlite3').as_posix()}"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def _loaded_urls(html: str) -> list[str]:
    """Every URL the page loads: src and href attributes, ReDoc's spec-url, Swagger UI's url."""
    attributes = re.findall(r"""\b(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", html)
    config = re.findall(r"""\burl\s*:\s*['"]([^'"]+)['"]""", html)
    return attributes + config


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            "/docs",
            {
                "/openapi.json",
                "/docs/assets/swagger-ui-bundle.js",
                "/docs/assets/swagger-ui.css",
                "/docs/assets/favicon.png",
            },
        ),
        (
            "/redoc",
            {"/openapi.json", "/docs/assets/redoc.standalone.js", "/docs/assets/favicon.png"},
        ),
    ],
)
async def test_the_docs_pages_load_only_from_the_service(
    http: httpx.AsyncClient, page: str, expected: set[str]
) -> None:
    """The page names no other host (no CDN, no web fonts, no online validator), and every URL
    it loads answers 200 from the service with the script, stylesheet, icon or document."""
    response = await http.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    html = response.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE), html
    urls = set(_loaded_urls(html))
    assert urls == expected, urls
    for url in sorted(urls):
        asset = await http.get(url)
        assert asset.status_code == 200, url
        kind = KINDS[Path(url).suffix]
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000, url
    if page == "/docs":
        assert "validatorUrl" in html and '"validatorUrl": null' in html


async def test_swagger_ui_bundle_is_the_real_thing(http: httpx.AsyncClient) -> None:
    """The served bundles are Swagger UI's and ReDoc's own (not an empty placeholder)."""
    swagger = (await http.get("/docs/assets/swagger-ui-bundle.js")).text
    redoc = (await http.get("/docs/assets/redoc.standalone.js")).text
    assert "SwaggerUIBundle" in swagger and len(swagger) > 500_000
    assert "Redoc" in redoc and len(redoc) > 500_000


async def test_only_the_bundled_assets_are_served(http: httpx.AsyncClient) -> None:
    """The asset route serves its four files and nothing else (no path through it)."""
    for name in ("core.py", "..%2F__init__.py", "%2E%2E/consts.py", "missing.js"):
        response = await http.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
    assert (await http.get("/docs/oauth2-redirect")).status_code == 200
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]
