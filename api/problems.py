"""Errors as problem details (RFC 9457, docs/rules.md §16): every 4xx and 5xx answer is
``application/problem+json`` with a ``type`` (a stable URI per kind of problem), ``title``,
``status``, ``detail`` (the reviewer's message, Chinese and English) and, for a refused
decision, ``code``: the refusal's stable code (``<command>.<rule>``, e.g.
``decide.late_acceptance``), the same that the audit event records as its reason.

A 422 names each refused input in ``errors`` (where, why, and the error's ``type``). Most are
the bounds and shapes the OpenAPI document states; the others are rules no schema can state,
between fields (a campaign's windows in order) or against what the service holds (a registered
unit). Those carry a dotted rule code as their ``type`` (``campaign.windows``), and the problem
carries it as ``code`` too, so a client can tell "my request was malformed" from "this rule
refused it" (:class:`Unprocessable`).

``GET /problems/{kind}`` (``api.routes.health``) describes each kind, so a ``type`` is a link a
developer can follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.answers import JSONAnswer

__all__ = [
    "MEDIA_TYPE",
    "PROBLEM_KINDS",
    "Problem",
    "Unprocessable",
    "describe",
    "install_problem_handlers",
    "problem_body",
    "problem_response",
    "problem_type",
    "rule_error",
    "summary",
]

MEDIA_TYPE = "application/problem+json"

#: The kinds of problem by status, and what each means (``GET /problems/{kind}``).
PROBLEM_KINDS: dict[str, str] = {
    "bad-request": "The request could not be read (a broken form or body).",
    "unauthenticated": "No token, or a token that is not valid: sign in again.",
    "forbidden": "Your role or organisation may not do this (the attempt is audited).",
    "not-found": "Nothing with that id exists.",
    "method-not-allowed": "That method is not served here.",
    "conflict": "The request does not fit the current state (the attempt is audited).",
    "too-large": "The body is larger than the service accepts.",
    "unsupported-media-type": "The body's type is not one this endpoint reads.",
    "invalid-input": "A field is missing or malformed; ``errors`` says where and why.",
    "too-many-requests": "Too many requests: wait and try again.",
    "unavailable": "A service the request needs is briefly unavailable: try again.",
    "server-error": "The service failed; nothing was changed. It has been logged.",
}
_BY_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    429: "too-many-requests",
    503: "unavailable",
}


def problem_type(status: int, code: str | None = None) -> str:
    """The problem's ``type``: a refusal's own kind (``decide.late_acceptance`` →
    ``/problems/late-acceptance``), else the kind of its status."""
    if code:
        return f"/problems/{code.rpartition('.')[2].replace('_', '-')}"
    return f"/problems/{_BY_STATUS.get(status, 'server-error' if status >= 500 else 'conflict')}"


class Problem(HTTPException):
    """An HTTP error with its refusal code (a 403 or 409 about a decision)."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, detail, headers=headers)
        self.code = code
        self.extra = extra or {}


class Unprocessable(RequestValidationError):
    """A 422 for a rule no schema can state: every error carries ``code`` as its ``type``
    unless it names a rule of its own."""

    def __init__(self, code: str, errors: Sequence[dict[str, Any]]) -> None:
        assert "." in code, "a rule code is dotted: <subject>.<rule>"
        super().__init__([{"type": code, "input": None, **e} for e in errors])


def rule_error(code: str, loc: Sequence[str | int], msg: str) -> dict[str, Any]:
    """One error of an :class:`Unprocessable`: where (``("body", "unit_id")``) and why."""
    return {"type": code, "loc": tuple(loc), "msg": msg, "input": None}


def rule_code(errors: Sequence[dict[str, Any]]) -> str | None:
    """The problem's ``code``: the rule of its errors when every one names a rule (pydantic's
    own error types are never dotted)."""
    kinds = [str(e.get("type", "")) for e in errors]
    return kinds[0] if kinds and all("." in kind for kind in kinds) else None


def problem_body(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem document itself (also written by the request-limits middleware)."""
    body: dict[str, Any] = {
        "type": problem_type(status, code),
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra or {})
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(status, detail, code=code, errors=errors, extra=extra)
    return JSONAnswer(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _detail_text(detail: Any) -> str:
    return detail if isinstance(detail, str) else HTTPStatus(500).phrase


def summary(errors: Sequence[dict[str, Any]]) -> str:
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    more = f" (+{len(errors) - 1})" if len(errors) > 1 else ""
    return f"输入有误：{where or '请求'} {first.get('msg', '')}{more} / invalid input"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None)
    extra = getattr(exc, "extra", None)
    detail = exc.detail
    if isinstance(detail, dict):  # a route that answers with structured detail
        extra = {**detail, **(extra or {})}
        detail = str(extra.pop("detail", HTTPStatus(exc.status_code).phrase))
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(
        exc.status_code, _detail_text(detail), code=code, extra=extra, headers=headers
    )


#: What an ``errors`` item keeps: where and why; for a row of an organisation import
#: (``POST /organisations/import``), also the row's line in the file and the organisation's id.
ERROR_KEYS = ("loc", "msg", "type", "line", "id")


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{key: value for key, value in e.items() if key in ERROR_KEYS} for e in exc.errors()]
    code = rule_code(errors)  # the kind stays invalid-input; the code names the rule
    return problem_response(
        422, summary(errors), errors=errors, extra={"code": code} if code else None
    )


def describe(kind: str) -> dict[str, str]:
    """What a problem ``type`` means."""
    text = PROBLEM_KINDS.get(kind, "A refused decision: its code names the rule.")
    return {"type": f"/problems/{kind}", "description": text}


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
