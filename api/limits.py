"""What the API refuses before any route sees a request (docs/reliability.md, "Bad input").

* A body larger than ``max_request_bytes`` (default 1 MiB): **413**, whether the client declares
  its length or streams it; nothing is read past the limit.
* Text no store can keep: a NUL character (PostgreSQL refuses it in text columns, so an audit
  write retried forever and the decision hung: fuzzing finding) or a lone UTF-16 surrogate (a
  ``"\\ud800"`` JSON escape; it cannot be encoded as UTF-8) in a JSON body, the path or the query:
  **422**, naming where, in the shape of FastAPI's validation errors.
* JSON no request needs and no model can hold: nested deeper than :data:`MAX_JSON_DEPTH` (32;
  the deepest body the API takes, a campaign, is 5 deep), ``NaN``, ``Infinity`` or a number too
  large to be finite (``1e999``), or an integer of more digits than Python parses: **422**. A
  2 KB body nested 1,000 deep used to end in a 500 with a traceback, unauthenticated, on every
  request; NaN reached the models and failed as a 500 when answered. The body is checked here,
  before it is parsed into any model, and without recursion.

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
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE, problem_body, summary

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "MAX_JSON_DEPTH",
    "RequestLimits",
    "bad_text",
    "json_problem",
]

DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
#: Deepest nesting of arrays and objects a JSON body may have.
MAX_JSON_DEPTH = 32


class _Unacceptable(ValueError):
    """A JSON value the API refuses although the text is valid JSON (NaN, Infinity, 1e999)."""


def _constant(name: str) -> float:
    raise _Unacceptable(f"{name} is not a number JSON allows / 不是有效的数值")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Unacceptable(f"{text[:40]} is too large a number / 数值过大")
    return value


def _too_deep(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_problem(body: bytes) -> tuple[Any, str | None]:
    """``(decoded, None)`` for acceptable JSON; ``(None, why)`` for JSON the API refuses (too
    deep, NaN/Infinity, an unparseable number); ``(None, None)`` for text that is not JSON at
    all, which the route's own parser answers as usual."""
    try:
        decoded = json.loads(body, parse_constant=_constant, parse_float=_finite)
    except _Unacceptable as err:
        return None, str(err)
    except RecursionError:
        return None, f"nested deeper than {MAX_JSON_DEPTH} levels / 嵌套层数超过 {MAX_JSON_DEPTH}"
    except (json.JSONDecodeError, UnicodeDecodeError):  # not JSON (or not text) at all
        return None, None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        return None, f"unreadable number: {str(err)[:80]} / 无法读取的数值"
    if _too_deep(decoded, MAX_JSON_DEPTH):
        return None, f"nested deeper than {MAX_JSON_DEPTH} levels / 嵌套层数超过 {MAX_JSON_DEPTH}"
    return decoded, None


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
    return [
        p.encode("utf-8", "backslashreplace").decode() if isinstance(p, str) else p for p in loc
    ]


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
            await _json(send, 422, problem_body(422, summary(errors), errors=errors))
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
        content_type = headers.get(b"content-type", b"").lower()
        # FastAPI parses a body as JSON when it says so, and also when it names no type at all.
        if body and (b"json" in content_type or not content_type.strip()):
            decoded, why = json_problem(body)
            if why is not None:
                error = {"type": "json_invalid", "loc": ["body"], "msg": why, "input": None}
                await _json(send, 422, problem_body(422, summary([error]), errors=[error]))
                return
            found = [
                {
                    "type": "value_error",
                    "loc": ["body", *_printable(loc)],
                    "msg": why,
                    "input": None,
                }
                for loc, why in bad_text(decoded)
            ]
            if found:
                await _json(send, 422, problem_body(422, summary(found), errors=found[:20]))
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
            errors.append(
                {
                    "type": "value_error",
                    "loc": ["query"],
                    "msg": "contains a NUL character (U+0000) / 含有空字符",
                    "input": None,
                }
            )
        return errors

    async def _too_large(self, send: Send, limit: int | None = None) -> None:
        limit = limit or self.max_request_bytes
        detail = f"请求体过大，上限 {limit} 字节 / request body too large: at most {limit} bytes"
        await _json(send, 413, problem_body(413, detail))


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
