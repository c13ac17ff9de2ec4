"""Which methods a path serves (RFC 9110 §10.2.1 ``Allow``): ``OPTIONS`` on any path the API
serves answers 204 with every method of that path, and a method the path does not serve answers
405 (a problem document) with the same ``Allow``.

The router alone names only the methods of the first route that matched the path
(``OPTIONS /declarations`` said ``Allow: POST`` although ``GET /declarations`` lists them), so
the answer is computed here against every route: a method is allowed where some route matches
the path with it in full.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.problems import problem_response

__all__ = ["CANDIDATES", "allowed_methods", "install_allow"]

#: The methods a route of this service may serve, in the order ``Allow`` names them.
CANDIDATES = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """Every method some route serves at ``scope``'s path (empty: no route has the path)."""
    found = []
    for method in CANDIDATES:
        probe = {
            "type": "http",
            "method": method,
            "path": scope.get("path", ""),
            "root_path": scope.get("root_path", ""),
            "headers": [],
            "query_string": b"",
        }
        if any(route.matches(probe)[0] == Match.FULL for route in app.router.routes):
            found.append(method)
    return found


def install_allow(app: FastAPI) -> None:
    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        methods = allowed_methods(app, dict(request.scope))
        if not methods:  # pragma: no cover - the router answers 405 only for a known path
            return problem_response(404, "not found")
        allow = ", ".join([*methods, "OPTIONS"])
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return problem_response(
            405,
            f"该地址不支持 {request.method} / {request.method} is not served here; "
            f"it serves {allow}",
            headers={"Allow": allow},
        )

    app.add_exception_handler(405, method_not_allowed)
