"""Request logs and request metrics, as one pure ASGI middleware (streaming responses pass
through untouched).

Every request gets an id (the caller's ``X-Request-ID`` when it is a sane token, else a new
uuid4), echoed in the response. While the request runs, structlog's context carries
``request_id``, ``method``, ``path`` and, when the path names a declaration, ``declaration_id``
and ``workflow_id``; one ``http.request`` event with ``status`` and ``duration_ms`` closes it.
Metrics are labelled by the route template, never the raw path.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics
from gateway import workflow_id

__all__ = ["RequestObservation"]

log = structlog.get_logger("api")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_DECLARATION_PATH = re.compile(r"^/declarations/([^/]+)")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
    return str(uuid.uuid4())


class RequestObservation:
    def __init__(self, app: ASGIApp, metrics: Metrics, logger: Any = None) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logger if logger is not None else log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        path: str = scope.get("path", "")
        bound: dict[str, Any] = {
            "request_id": request_id,
            "method": scope.get("method", ""),
            "path": path,
        }
        match = _DECLARATION_PATH.match(path)
        if match:
            bound["declaration_id"] = match.group(1)
            bound["workflow_id"] = workflow_id(match.group(1))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        self.metrics.in_flight.inc()
        with structlog.contextvars.bound_contextvars(**bound):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self.metrics.in_flight.dec()
                seconds = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                self.metrics.observe(scope.get("method", ""), route, status, seconds)
                self.log.info(
                    "http.request",
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                )
