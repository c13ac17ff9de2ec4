"""What the API refuses before any route sees a request (docs/reliability.md, "Bad input").

* A body larger than ``max_request_bytes`` (default 1 MiB): **413**, whether the client declares
  its length or streams it; nothing is read past the limit.
* Text no store can keep: a NUL character (PostgreSQL refuses it in text columns, so an audit
  write retried forever and the decision hung: fuzzing finding) or a lone UTF-16 surrogate (a
  ``"\\ud800"`` JSON escape; it cannot be encoded as UTF-8) in a JSON body, the path or the query:
  **422**, naming where, in the shape of FastAPI's validation errors.

An upload of material (``POST …/declarations/{id}/materials``, also below ``/console``) is not
read here: it streams to its route, which reads it chunk by chunk and holds each file to its
kind's own limit (``api.uploads``). Only a declared length above ``max_upload_bytes`` is refused
here (413).

Everything else (any other valid Unicode, right-to-left text and its controls, emoji) passes to
the routes, whose models bound lengths and shapes. A pure ASGI middleware: the body is read
once, checked, and handed to the app unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "RequestLimits", "bad_text"]

DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
#: The largest upload of material (the catalogue allows a kind at most 200 MB) and its form.
MAX_UPLOAD_BYTES = 201 * 1024 * 1024
#: Where uploads of material are posted (docs/rules.md §19): streamed, never buffered here.
UPLOAD_PATH = re.compile(r"^(/console)?/declarations/[^/]+/materials/?$")


def _why(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (U+0000) / 含有空字符"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return (
            "contains a lone UTF-16 surrogate, not valid Unicode text / 含有无效的 Unicode 代理字符"
        )
    return None


def bad_text(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Where in a decoded JSON value a string (or an object key) cannot be stored, and why."""
    if isinstance(value, str):
        why = _why(value)
        if why:
            yield loc, why
    elif isinstance(value, dict):
        for key, item in value.items():
            why = _why(key)
            if why:
                yield (*loc, key.encode("utf-8", "backslashreplace").decode()), f"key {why}"
            yield from bad_text(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from bad_text(item, (*loc, index))


def _printable(loc: tuple[Any, ...]) -> list[Any]:
    return [p.encode("utf-8", "backslashreplace").decode() if isinstance(p, str) else p
            for p in loc]  # fmt: skip


class RequestLimits:
    def __init__(self, app: ASGIApp, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = self._target_errors(scope)
        if errors:
            await _json(send, 422, {"detail": errors})
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length", b"").strip()
        if scope.get("method") == "POST" and UPLOAD_PATH.match(scope.get("path", "")):
            if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
                await self._too_large(send, MAX_UPLOAD_BYTES)
                return
            await self.app(scope, receive, send)
            return
        if declared.isdigit() and int(declared) > self.max_request_bytes:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_request_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and b"json" in headers.get(b"content-type", b"").lower():
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None  # not JSON: the route answers as FastAPI does
            found = [
                {"type": "value_error", "loc": ["body", *_printable(loc)], "msg": why,
                 "input": None}
                for loc, why in bad_text(decoded)
            ]  # fmt: skip
            if found:
                await _json(send, 422, {"detail": found[:20]})
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _target_errors(scope: Scope) -> list[dict[str, Any]]:
        errors = []
        why = _why(scope.get("path", ""))
        if why:
            errors.append({"type": "value_error", "loc": ["path"], "msg": why, "input": None})
        query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
        if b"\x00" in query:
            errors.append({"type": "value_error", "loc": ["query"],
                           "msg": "contains a NUL character (U+0000) / 含有空字符",
                           "input": None})  # fmt: skip
        return errors

    async def _too_large(self, send: Send, limit: int | None = None) -> None:
        limit = limit or self.max_request_bytes
        await _json(
            send,
            413,
            {"detail": f"请求体过大，上限 {limit} 字节 / request body too large: at most {limit} "
                       "bytes"},
        )  # fmt: skip


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
