"""The OpenAPI document (docs/rules.md §16, §17): every status each operation answers, every error
as a problem document, and the text rule every string obeys.

**Statuses.** What a route answers follows from what it is made of, so it is documented from that
here, for every route at once, rather than by hand per route:

- **422** on every operation: the request limits (``api.limits``) refuse a NUL character in any
  path or query, whatever the route, besides each route's own validation;
- **401** where a route has a role gate (``Allow``), i.e. takes a token; **503** there too (the
  work, or the audit of a refusal, goes through Temporal, which may be briefly unavailable);
- **403** where the gate admits fewer than every role;
- **404** where the path names something (an id nobody knows; a value that does not fit the
  path's shape is no route either);
- **400** and **413** where the request has a body (one that is not UTF-8 or a broken form; one
  over the size limit).

A route adds what only it answers (409, 415, a 403 of an organisation check where every role
passes the gate, a 202) with ``responses=problems(...)`` or its own entries; its descriptions win
over the defaults of :data:`WHY`. Every 4xx and 5xx entry is ``application/problem+json`` with
the :class:`ProblemDetails` schema, unless the route documents a body of its own for it.

**Text.** The request limits refuse a NUL character in any string of a JSON body (values and
object keys), in the path and in the query (422). Every string of a request's parameters and body
says so here (``not: {pattern: "\\u0000"}``), so that a client built from the document never sends
one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from copy import deepcopy
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from api.deps import Allow, Public
from api.policy import ALL_ROLES
from api.problems import MEDIA_TYPE

__all__ = [
    "NO_NUL",
    "WHY",
    "ProblemDetails",
    "api_routes",
    "document_problems",
    "gates",
    "implied_statuses",
    "problems",
]

#: What each status means on any operation that answers it (a route may say more).
WHY: dict[int, str] = {
    400: "The body could not be read: not UTF-8 text, or a broken multipart form.",
    401: "No token, or a token that is not valid (expired, wrong signature, unknown role).",
    403: "The role or organisation may not do this; the attempt is audited.",
    404: "Nothing with that id exists (or the path fits no route).",
    409: "The request does not fit the current state; nothing changed, the attempt is audited. "
    "`code` names the rule.",
    413: "The body is larger than the service accepts.",
    415: "The body's media type is not one this operation reads.",
    422: "Input the service cannot take: a field missing, malformed or out of bounds, or text "
    "with a NUL character; `errors` says where and why.",
    503: "Temporal (or another service the request needs) is briefly unavailable: try again.",
}

#: A string without a NUL character (JSON Schema's ``pattern`` is unanchored: it finds one).
NO_NUL: dict[str, Any] = {"pattern": "\\u0000"}


class ProblemError(BaseModel):
    """Where and why one input was refused (a 422)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description="where: `body`, `query`, `path` and the field")
    msg: str
    type: str
    line: int | None = Field(default=None, description="the row's line in an imported file")
    id: str | None = Field(default=None, description="the row's organisation id, in an import")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: every 4xx and 5xx answer (docs/rules.md §16)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="a stable URI per kind of problem: `/problems/{kind}`")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="for the person reading it, in Chinese and English")
    code: str | None = Field(
        default=None,
        description="a refused decision's stable code (`<command>.<rule>`), as audited",
    )
    errors: list[ProblemError] | None = Field(default=None, description="each refused input (422)")


_REF = "#/components/schemas/ProblemDetails"
PROBLEM_CONTENT: dict[str, Any] = {MEDIA_TYPE: {"schema": {"$ref": _REF}}}


def problems(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the problems a route answers beyond the implied ones;
    ``described`` gives a route's own words for a status (``s409="..."``)."""
    return {
        status: {"description": described.get(f"s{status}", WHY[status])} for status in statuses
    }


# --------------------------------------------------------------------------- the routes


def gates(dependant: Dependant) -> list[Any]:
    """The access rules (``Allow`` / ``PUBLIC``) among a route's dependencies, at any depth."""
    found = [d.call for d in dependant.dependencies if isinstance(d.call, Allow | Public)]
    for sub in dependant.dependencies:
        found.extend(gates(sub))
    return found


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI keeps those as one entry)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def _has_body(route: APIRoute) -> bool:
    return route.body_field is not None or "requestBody" in (route.openapi_extra or {})


def implied_statuses(route: APIRoute) -> list[int]:
    """The statuses a route answers by what it is made of (see the module's docstring)."""
    found = {422}
    allows = [g for g in gates(route.dependant) if isinstance(g, Allow)]
    if allows:
        found |= {401, 503}
    if any(g.roles < frozenset(ALL_ROLES) for g in allows):
        found.add(403)
    if "{" in route.path_format:
        found.add(404)
    if _has_body(route):
        found |= {400, 413}
    return sorted(found)


def _documented(route: APIRoute) -> dict[int | str, dict[str, Any]]:
    """The route's responses with the implied problems added and every problem's content."""
    out: dict[int | str, dict[str, Any]] = {}
    for implied in implied_statuses(route):
        out[implied] = {"description": WHY[implied]}
    for key, entry in route.responses.items():
        out[key] = {**out.get(key, {}), **entry}
    for key, entry in out.items():
        if int(key) >= 400 and "content" not in entry and "model" not in entry:
            entry["content"] = deepcopy(PROBLEM_CONTENT)
    return dict(sorted(out.items(), key=lambda item: str(item[0])))


# --------------------------------------------------------------------------- the document


def _without_nul(schema: Any) -> None:
    """Add the NUL rule to every string schema (and every object's keys) below ``schema``."""
    if isinstance(schema, list):
        for item in schema:
            _without_nul(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and "format" not in schema and "not" not in schema:
        schema["not"] = dict(NO_NUL)
    if schema.get("type") == "object" and schema.get("additionalProperties") not in (None, False):
        schema.setdefault("propertyNames", {"not": dict(NO_NUL)})
    for key, value in schema.items():
        if key not in ("not", "propertyNames", "examples", "example", "default", "enum", "const"):
            _without_nul(value)


def _request_schemas(document: dict[str, Any]) -> Iterator[Any]:
    """Every schema a request is held to: parameters, bodies and the components they use."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                yield parameter.get("schema")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield media.get("schema")
    yield from document.get("components", {}).get("schemas", {}).values()


def build_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document: FastAPI's, with the problems and the text rule added."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)  # FastAPI's own 422 body, which the API never answers
    for schema in _request_schemas(document):
        _without_nul(schema)
    # Added after the text rule: a problem may quote the refused input, NUL and all.
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["ProblemDetails"] = problem
    app.openapi_schema = document
    return document


def document_problems(app: FastAPI) -> None:
    """Document every route's problems (see the module's docstring) and build the document
    with them; call it once every router is included."""
    for route in api_routes(app.routes):
        if route.include_in_schema:
            route.responses = _documented(route)
    app.openapi_schema = None
    app.openapi = lambda: build_document(app)  # type: ignore[method-assign]
