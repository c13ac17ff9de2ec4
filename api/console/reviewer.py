"""Reviewers' pages: the inbox of each role and the declaration page (its chain as a timeline,
deadlines with their explanations, the forms for the current stage).

Reads go through the JSON routes' own functions (``api.routes.inbox``, ``api.routes.declarations``)
so the console shows what the API would answer the same caller: the same inbox order, the same
masking under blind review, the same 403 (audited) for a declaration the caller may not read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from starlette.responses import HTMLResponse, Response

from api.console.auth import ConsoleAllow, roles_of
from api.console.chain import actions_for, chain_steps, is_person
from api.console.render import console_router, render
from api.deps import ServicesDep
from api.materials import APPLICANT_STATES, UNIT_STATES, listing
from api.routes import declarations, inbox, reminders
from api.schemas import MAX_PAGE
from api.services import Services
from domain.models import Actor
from domain.reminders import DELIVERY_STATUSES

__all__ = ["declaration_page", "router"]

router = console_router()

PAGE_SIZE = 50
REMINDERS_SHOWN = 20
HISTORY_READERS = roles_of(declarations.HistoryReader)

Inboxed = Annotated[Actor, Depends(ConsoleAllow.like(inbox.Anyone, action="inbox"))]
Reader = Annotated[Actor, Depends(ConsoleAllow.like(declarations.Reader, action="get_declaration"))]

#: What a successful form reports after the redirect (``?done=``).
DONE: dict[str, str] = {
    "submit": "已提交 / submitted",
    "withdraw": "已撤回 / withdrawn",
    "decide": "审核决定已记录 / decision recorded",
    "lodge_objection": "异议已登记 / objection lodged",
    "resolve_objection": "异议处理已记录 / resolution recorded",
    "record_payment": "缴费已确认 / payment recorded",
    "record_materials_received": "纸质材料已登记 / materials recorded",
    "record_defense": "答辩结果已登记 / defense recorded",
    "record_vote": "表决已登记 / vote recorded",
    "record_misconduct": "违规行为已登记 / misconduct recorded",
    "upload_material": "材料已上传 / material uploaded",
}


@router.get("/inbox")
async def inbox_page(
    request: Request,
    actor: Inboxed,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """What waits on the caller: soonest deadline first, at-risk first among equals; beside it,
    their reminders (提醒), the newest first."""
    result = await inbox.inbox(actor=actor, services=services, page=page, page_size=PAGE_SIZE)
    mine = await reminders.my_reminders(actor=actor, services=services, limit=REMINDERS_SHOWN)
    pages = max(1, -(-result.total // PAGE_SIZE))
    return render(
        request,
        "inbox.html",
        actor,
        items=result.items,
        total=result.total,
        page=page,
        pages=pages,
        now=await services.clock(),
        reminders=mine["items"],
        statuses=DELIVERY_STATUSES,
    )


async def declaration_page(
    request: Request,
    actor: Actor,
    services: Services,
    declaration_id: str,
    *,
    status_code: int = 200,
    refusal: str | None = None,
    errors: list[str] | None = None,
    kept: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page, optionally with a refusal (the workflow's reason) or validation errors and the
    text the caller had typed."""
    view = await declarations.get_declaration(declaration_id, actor, services)
    events: list[dict[str, Any]] = []
    if actor.role in HISTORY_READERS:
        events = (await declarations.get_history(declaration_id, actor, services))["events"]
    materials = await _materials(services, actor, declaration_id)
    done = request.query_params.get("done", "")
    return render(
        request,
        "declaration.html",
        actor,
        status_code=status_code,
        view=view,
        events=events,
        steps=chain_steps(view, events),
        actions=actions_for(actor, view),
        materials=materials,
        kinds={k["kind"]: k["label"] for k in materials["catalogue"]} if materials else {},
        uploads=upload_kinds(actor, view, materials),
        is_person=is_person,
        now=await services.clock(),
        refusal=refusal,
        errors=errors or [],
        kept=kept or {},
        done=DONE.get(done, "") if status_code == 200 else "",
    )


async def _materials(
    services: Services, actor: Actor, declaration_id: str
) -> dict[str, Any] | None:
    """The materials and the catalogue's completeness, for whoever reads the declaration's files
    (finance reads the fee, not the files: no section)."""
    if actor.role == "finance":
        return None
    try:
        return await listing(services, actor, declaration_id)
    except HTTPException as err:
        if err.status_code == 404:  # not recorded in the read model yet
            return None
        raise


def upload_kinds(
    actor: Actor, view: dict[str, Any], materials: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The catalogue's kinds the caller may upload now (docs/rules.md §19): the applicant's in
    draft and returned, the unit's from its review to its recommendation."""
    if not materials:
        return []
    if actor.role == "applicant":
        party, states = "applicant", APPLICANT_STATES
    elif actor.role == "unit_reviewer":
        party, states = "unit", UNIT_STATES
    else:
        return []
    if view["state"] not in states:
        return []
    return [k for k in materials["catalogue"] if k["uploader"] == party]


@router.get("/declarations/{declaration_id}")
async def declaration(
    request: Request, declaration_id: str, actor: Reader, services: ServicesDep
) -> Response:
    return await declaration_page(request, actor, services, declaration_id)
