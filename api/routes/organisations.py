"""Organisations (docs/rules.md §11, §15): the registry behind every route, committee and review
level. An administrator registers them one by one (``PUT /organisations/{id}``: 201 created, 200
replaced) or in bulk (``POST /organisations/import``: CSV, a JSON list or YAML; all or nothing,
422 naming each bad row with its line or index and field); everyone signed in may read them (an
applicant looks up the unit they file through).

Every change is checked as a whole against the registry (a parent must be registered and be an
authority; no circle of parents; an id once per import) and against what it would break (a child
whose parent stops being an authority; a campaign naming a body that stops being of its kind),
then written with an audit event on the registry's own chain (``store.organisations``).
``?dry_run=true`` on an import answers what it would change, and its problems, without writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.deps import Allow, ServicesDep
from api.policy import ALL_ROLES
from api.problems import Unprocessable, rule_error
from api.schemas import OrganisationBody
from api.services import Services, in_session
from domain.models import ORG_ID, WHITESPACE, Actor, Organisation, OrgKind
from domain.organisation_files import (
    CSV_COLUMNS,
    MAX_ROWS,
    REGISTRY_RULE,
    ParsedRegistry,
    RegistryFormat,
    RowProblem,
    parse_registry,
)
from store.organisations import (
    RegistryChange,
    RegistryRefused,
    apply_registry_change,
    get_organisation,
    list_organisations,
    plan_registry_change,
)

__all__ = ["CONTENT_TYPES", "import_registry", "router"]

router = APIRouter(prefix="/organisations", tags=["organisations"])
log = structlog.get_logger("api.organisations")

Admin = Annotated[Actor, Depends(Allow("admin"))]
Reader = Annotated[Actor, Depends(Allow(*ALL_ROLES))]

#: The media types an import takes, and the format each one is read as.
CONTENT_TYPES: dict[str, RegistryFormat] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
}

_ORGANISATION = {"$ref": "#/components/schemas/Organisation"}
#: A CSV cell is read trimmed (``str.strip``: Unicode whitespace and U+001C-U+001F), and an
#: empty one is no value: a name must hold something else, and an address (which may hold no
#: whitespace) no U+001C-U+001F, which trimming would cut off its ends.
_NOT_BLANK = {"pattern": f"[^{WHITESPACE}\\x1c-\\x1f]"}
_NO_SEPARATORS = {"anyOf": [{"type": "null"}, {"not": {"pattern": "[\\x1c-\\x1f]"}}]}
_CSV_ROW = {
    "allOf": [
        _ORGANISATION,
        {
            "properties": {
                "name": _NOT_BLANK,
                "region": {"anyOf": [{"type": "null"}, {"properties": {"name": _NOT_BLANK}}]},
                "email": _NO_SEPARATORS,
            }
        },
    ]
}
_IMPORT_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The organisations: a JSON list of `PUT /organisations/{id}` bodies with "
        "their `id`; the same list in YAML; or CSV, one organisation a line under the header "
        f"`{','.join(CSV_COLUMNS)}` (the region as `region_code` and `region_name`; an empty "
        "cell is no value).",
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": _ORGANISATION, "maxItems": MAX_ROWS}
            },
            "application/yaml": {
                "schema": {"type": "array", "items": _ORGANISATION, "maxItems": MAX_ROWS}
            },
            "text/csv": {"schema": {"type": "array", "items": _CSV_ROW, "maxItems": MAX_ROWS}},
        },
    }
}


def unknown_organisation(org_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"没有编号为 {org_id} 的机构 / unknown organisation"
    )


def _row_errors(problems: Sequence[RowProblem]) -> RequestValidationError:
    """422 naming each bad row: its index (``loc``), line (where the format has lines), the
    organisation's id and the field at fault."""
    return RequestValidationError(
        [
            {
                "type": p.kind,
                "loc": ("body", p.index, *p.field.split(".")),
                "msg": str(p),
                "input": None,
                "line": p.line,
                "id": p.org_id,
            }
            for p in problems
        ]
    )


def _checked(session: Any, parsed: ParsedRegistry) -> tuple[list[RowProblem], RegistryChange]:
    """Every problem of an import, in row order (the rows that are not organisations, then what
    the valid ones would break), and what it would change."""
    change = plan_registry_change(session, parsed.organisations)
    problems = [*parsed.problems, *parsed.at_rows(change.problems)]
    return sorted(problems, key=lambda p: (p.index, p.field)), change


def _answer(change: RegistryChange, *, dry_run: bool = False) -> dict[str, Any]:
    """What a change did (or, with ``dry_run``, would do): the ids created and unchanged, and
    for each replaced organisation the fields that change with their values before and after."""
    summary = change.summary()
    return {
        **summary,
        "replaced": [one.values() for one in change.replaced],
        "counts": {k: len(v) for k, v in summary.items()},
        "dry_run": dry_run,
    }


# --------------------------------------------------------------------------- one by one


@router.put(
    "/{org_id}",
    responses={
        200: {"description": "replaced"},
        201: {"description": "created"},
        422: {"description": "invalid, or inconsistent with the registry or a campaign"},
    },
)
async def put_organisation(
    org_id: Annotated[str, Path(min_length=1, max_length=100, pattern=ORG_ID)],
    body: OrganisationBody,
    actor: Admin,
    services: ServicesDep,
    response: Response,
) -> Organisation:
    """Register one organisation (201) or replace it (200). 422: a parent that is not registered
    or not an authority, a circle of parents, ``members`` missing for a committee or given for
    anything else, a kind change a child or a campaign depends on."""
    try:
        org = Organisation.model_validate({"id": org_id, **body.model_dump(exclude_unset=True)})
    except ValidationError as err:
        raise RequestValidationError(
            [
                {**e, "loc": ("path", "org_id") if e["loc"] == ("id",) else ("body", *e["loc"])}
                for e in err.errors(include_url=False, include_context=False)
            ]
        ) from err
    now = await services.clock()
    try:
        change = await in_session(
            services.store,
            lambda s: apply_registry_change(
                s, [org], actor=actor, at=now, action="put_organisation"
            ),
        )
    except RegistryRefused as err:
        raise Unprocessable(
            REGISTRY_RULE,
            [rule_error(REGISTRY_RULE, ("body", p.field), p.message) for p in err.problems],
        ) from err
    created = bool(change.created)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    log.info("organisation.put", org_id=org_id, kind=org.kind, created=created)
    return org


@router.get("")
async def read_organisations(
    actor: Reader,
    services: ServicesDep,
    kind: OrgKind | None = None,
    parent_id: str | None = None,
) -> dict[str, Any]:
    """The registered organisations, by id: every one, of one ``kind``, and/or directly below
    ``parent_id``."""
    found = await in_session(
        services.store,
        lambda s: list_organisations(s, kind=kind, parent_id=parent_id),
        readonly=True,
    )
    return {"items": [o.model_dump(mode="json") for o in found], "total": len(found)}


@router.get("/{org_id}")
async def read_organisation(org_id: str, actor: Reader, services: ServicesDep) -> Organisation:
    found = await in_session(services.store, lambda s: get_organisation(s, org_id), readonly=True)
    if found is None:
        raise unknown_organisation(org_id)
    return found


# --------------------------------------------------------------------------- in bulk


def _format_of(request: Request) -> RegistryFormat:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = CONTENT_TYPES.get(media)
    if fmt is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"导入须为 CSV、JSON 或 YAML / an import is {', '.join(CONTENT_TYPES)}, "
            f"got {media or 'no Content-Type'}",
        )
    return fmt


async def import_registry(
    services: Services, actor: Actor, text: str, fmt: RegistryFormat, *, dry_run: bool
) -> dict[str, Any]:
    """Read ``text`` as a registry and apply it whole (or, with ``dry_run``, say what it would
    change and what is wrong with it, writing nothing). 422 naming every bad row otherwise."""
    try:
        parsed = parse_registry(text, fmt, source="body")
    except ValueError as err:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body",), "msg": str(err), "input": None}]
        ) from err
    if dry_run or parsed.problems:
        problems, change = await in_session(
            services.store, lambda s: _checked(s, parsed), readonly=True
        )
        if not dry_run:
            raise _row_errors(problems)
        answer = _answer(change, dry_run=True)
        answer["problems"] = [
            {"index": p.index, "line": p.line, "id": p.org_id, "field": p.field, "msg": str(p)}
            for p in problems
        ]
        return answer
    now = await services.clock()
    try:
        change = await in_session(
            services.store,
            lambda s: apply_registry_change(s, parsed.organisations, actor=actor, at=now),
        )
    except RegistryRefused as err:
        raise _row_errors(parsed.at_rows(err.problems)) from err
    log.info(
        "organisations.imported",
        created=len(change.created),
        replaced=len(change.replaced),
        unchanged=len(change.unchanged),
    )
    return _answer(change)


@router.post(
    "/import",
    openapi_extra=_IMPORT_SCHEMA,
    responses={
        415: {"description": "not CSV, JSON or YAML"},
        422: {"description": "each bad row, with its line or index and field; nothing imported"},
    },
)
async def import_organisations(
    request: Request, actor: Admin, services: ServicesDep, dry_run: bool = False
) -> dict[str, Any]:
    """Create or replace many organisations at once (``text/csv``, ``application/json`` or
    ``application/yaml``): all or nothing. Answers the ids ``created``, ``replaced`` (with the
    fields that changed) and ``unchanged``; ``?dry_run=true`` answers the same without writing,
    with ``problems`` listing every row that would refuse it."""
    fmt = _format_of(request)
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        problem = {"type": "value_error", "loc": ("body",), "msg": "须为 UTF-8 / not UTF-8 text"}
        raise RequestValidationError([{**problem, "input": None}]) from err
    return await import_registry(services, actor, text, fmt, dry_run=dry_run)
