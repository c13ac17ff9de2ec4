"""The administrator's organisations pages (docs/rules.md §11): the registry as a list and as a
tree by parent, one organisation's form (new or edit), and an import pasted as CSV, JSON or YAML
with a preview of what it would change before it is applied.

Every page reads and writes through the JSON routes' own functions (``api.routes.organisations``)
behind their gates (``ConsoleAllow.like``), so the console has the API's validation, its
all-or-nothing import, its messages naming each bad row, and its audit of every change.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from starlette.responses import RedirectResponse

from api.console.actions import body_of
from api.console.auth import ConsoleAllow
from api.console.forms import Form, PostedForm
from api.console.render import console_router, render, validation_messages
from api.deps import ServicesDep
from api.routes import organisations as routes
from api.schemas import OrganisationBody
from api.services import Services
from domain.models import ORG_KINDS, Actor, Organisation, OrgKind
from domain.organisation_files import CSV_COLUMNS, RegistryFormat
from domain.registry_bindings import KIND_LABELS

__all__ = ["router", "tree"]

router = console_router()

Registrar = Annotated[Actor, Depends(ConsoleAllow.like(routes.Admin, action="put_organisation"))]
Importer = Annotated[Actor, Depends(ConsoleAllow.like(routes.Admin, action="import_organisations"))]
#: The registry pages are the administrator's (every signed-in role reads it over the API).
Viewer = Annotated[Actor, Depends(ConsoleAllow("admin", action="read_organisations"))]

FORMATS: dict[str, RegistryFormat] = {"csv": "csv", "json": "json", "yaml": "yaml"}
#: The largest registry the import form takes (the API's body limit is 1 MiB).
MAX_TEXT = 1_000_000


def tree(orgs: list[Organisation]) -> list[tuple[int, Organisation]]:
    """The registry as a tree, depth first: each organisation with its depth below the top
    (organisations without a registered parent are at the top), children by id."""
    known = {o.id for o in orgs}
    children: dict[str | None, list[Organisation]] = defaultdict(list)
    for org in orgs:
        parent = org.parent_id if org.parent_id in known else None
        children[parent].append(org)
    out: list[tuple[int, Organisation]] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int) -> None:
        for org in sorted(children.get(parent, []), key=lambda o: o.id):
            if org.id in seen:  # a circle cannot be registered; never loop on one anyway
                continue
            seen.add(org.id)
            out.append((depth, org))
            walk(org.id, depth + 1)

    walk(None, 0)
    return out


async def _registry(
    actor: Actor, services: Services, kind: OrgKind | None = None
) -> list[Organisation]:
    listed = await routes.read_organisations(actor, services, kind=kind, parent_id=None)
    return [Organisation.model_validate(o) for o in listed["items"]]


@router.get("/organisations")
async def organisations_page(
    request: Request, actor: Viewer, services: ServicesDep, kind: str = "", done: str = ""
) -> Response:
    """Every registered organisation: the list (optionally of one kind) and the tree by parent."""
    if kind and kind not in ORG_KINDS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown kind {kind}")
    everything = await _registry(actor, services)
    listed = [o for o in everything if not kind or o.kind == kind]
    return render(
        request,
        "organisations.html",
        actor,
        items=listed,
        tree=tree(everything),
        kind=kind,
        kinds=KIND_LABELS,
        done=done,
    )


# --------------------------------------------------------------------------- one organisation


def _fields(form: Form) -> dict[str, Any]:
    """``OrganisationBody`` from the form: blanks left out; the region from its two boxes; the
    members as a number."""
    data: dict[str, Any] = {"kind": form.get("kind"), "name": form.get("name")}
    for name in ("parent_id", "email"):
        if (value := form.optional(name)) is not None:
            data[name] = value
    members = form.optional("members")
    if members is not None:  # the API takes a JSON number; other text is left for it to refuse
        data["members"] = int(members) if members.isdigit() and len(members) < 6 else members
    code, region_name = form.optional("region_code"), form.optional("region_name")
    if code or region_name:
        data["region"] = {"code": code or "", "name": region_name or ""}
    return data


async def _form_page(
    request: Request,
    actor: Actor,
    services: Services,
    *,
    org_id: str | None,
    values: dict[str, Any],
    status_code: int = 200,
    errors: list[str] | None = None,
) -> Response:
    authorities = await _registry(actor, services, "authority")
    return render(
        request,
        "organisation_form.html",
        actor,
        status_code=status_code,
        org_id=org_id,
        values=values,
        errors=errors or [],
        kinds=KIND_LABELS,
        authorities=authorities,
    )


def _values(org: Organisation) -> dict[str, Any]:
    return {
        "kind": org.kind,
        "name": org.name,
        "region_code": org.region.code if org.region else "",
        "region_name": org.region.name if org.region else "",
        "parent_id": org.parent_id or "",
        "members": "" if org.members is None else str(org.members),
        "email": org.email or "",
    }


async def _save(
    request: Request, actor: Actor, services: Services, org_id: str, form: Form, *, new: bool
) -> Response:
    kept = {name: form.get(name) for name in CSV_COLUMNS}
    shown_id = None if new else org_id
    try:
        if new:
            try:
                await routes.read_organisation(org_id, actor, services)
            except HTTPException as err:
                if err.status_code != status.HTTP_404_NOT_FOUND:
                    raise
            else:
                raise RequestValidationError(
                    [
                        {
                            "type": "value_error",
                            "loc": ("body", "id"),
                            "input": org_id,
                            "msg": f"机构 {org_id} 已登记，请编辑它 / {org_id} is registered: edit it",
                        }
                    ]
                )
        body = body_of(OrganisationBody, _fields(form))
        await routes.put_organisation(org_id, body, actor, services, Response())
    except RequestValidationError as err:
        return await _form_page(
            request,
            actor,
            services,
            org_id=shown_id,
            values=kept,
            status_code=422,
            errors=validation_messages(err.errors()),
        )
    return RedirectResponse(
        f"/console/organisations?done={quote(org_id, safe='')}", status.HTTP_303_SEE_OTHER
    )


@router.get("/organisations/new")
async def new_organisation(request: Request, actor: Registrar, services: ServicesDep) -> Response:
    return await _form_page(request, actor, services, org_id=None, values={"kind": "unit"})


@router.post("/organisations/new")
async def create_organisation(
    request: Request, form: PostedForm, actor: Registrar, services: ServicesDep
) -> Response:
    """``PUT /organisations/{id}`` for an id not registered yet (an id in use is refused, so a
    new form never overwrites an organisation)."""
    org_id = form.get("id")
    if not org_id:
        return await _form_page(
            request,
            actor,
            services,
            org_id=None,
            values=_fields(form),
            status_code=422,
            errors=["id: 须填写编号 / the id is required"],
        )
    return await _save(request, actor, services, org_id, form, new=True)


@router.get("/organisations/{org_id}/edit")
async def edit_organisation(
    request: Request, org_id: str, actor: Registrar, services: ServicesDep
) -> Response:
    org = await routes.read_organisation(org_id, actor, services)  # 404 when unknown
    return await _form_page(request, actor, services, org_id=org_id, values=_values(org))


@router.post("/organisations/{org_id}/edit")
async def save_organisation(
    request: Request, org_id: str, form: PostedForm, actor: Registrar, services: ServicesDep
) -> Response:
    """``PUT /organisations/{id}``: the registry's rules refuse what would break it (422)."""
    return await _save(request, actor, services, org_id, form, new=False)


# --------------------------------------------------------------------------- import


def _import_page(
    request: Request, actor: Actor, *, status_code: int = 200, **context: Any
) -> Response:
    context.setdefault("text", "")
    context.setdefault("fmt", "csv")
    context.setdefault("preview", None)
    context.setdefault("result", None)
    context.setdefault("errors", [])
    return render(
        request,
        "organisations_import.html",
        actor,
        status_code=status_code,
        columns=CSV_COLUMNS,
        **context,
    )


@router.get("/organisations/import")
async def import_form(request: Request, actor: Importer) -> Response:
    return _import_page(request, actor)


@router.post("/organisations/import")
async def import_organisations(
    request: Request, form: PostedForm, actor: Importer, services: ServicesDep
) -> Response:
    """``step=preview``: what the import would create and change (field by field) and every
    problem, nothing written (``POST /organisations/import?dry_run=true``); ``step=apply``: the
    import itself, all or nothing."""
    text = (form.fields.get("text") or [""])[0]
    fmt = FORMATS.get(form.get("format"), "csv")
    if not text.strip() or len(text) > MAX_TEXT:
        return _import_page(
            request,
            actor,
            status_code=422,
            text=text[:MAX_TEXT],
            fmt=fmt,
            errors=["请粘贴机构登记内容（不超过 1 MB） / paste the registry (at most 1 MB)"],
        )
    apply = form.get("step") == "apply"
    try:
        answer = await routes.import_registry(services, actor, text, fmt, dry_run=not apply)
    except RequestValidationError as err:
        return _import_page(
            request,
            actor,
            status_code=422,
            text=text,
            fmt=fmt,
            errors=validation_messages(err.errors()),
        )
    if apply:
        return _import_page(request, actor, result=answer)
    return _import_page(request, actor, text=text, fmt=fmt, preview=answer)
