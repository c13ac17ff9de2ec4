"""The committee's pages: campaigns, a campaign's dashboard (counts per state, coming deadlines,
declarations at risk), the review meeting, the result publicity list and the deadline change.

The meeting and deadline changes go down the API's own paths (``api.meetings.record_meeting``
behind ``POST /campaigns/{id}/meetings``'s gate, ``api.routes.campaigns.change_deadlines``) and
their progress is read the same way (``deadline_change_progress``). Lists of declarations
are shown as the API would show them to the caller (masked for the committee under blind review,
``present_many``).
"""

from __future__ import annotations

import json
import uuid
from contextlib import suppress
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from api.console.actions import body_of
from api.console.auth import ConsoleAllow
from api.console.forms import Form, PostedForm
from api.console.render import (
    attempt,
    bj,
    console_router,
    deadline,
    parse_time,
    render,
    validation_messages,
)
from api.deps import ServicesDep
from api.meetings import record_meeting
from api.policy import READ_ROLES
from api.routes import campaigns, declarations, meetings
from api.schemas import DeadlinesBody
from api.services import Services, in_session
from domain.calendar import BEIJING
from domain.campaign_ops import CommitteeMeetingInput
from domain.models import Actor, Campaign
from store.organisations import members_of
from store.queries import campaigns as queries

__all__ = ["router"]

router = console_router()

Overseer = Annotated[Actor, Depends(ConsoleAllow(*sorted(READ_ROLES), action="campaign_dashboard"))]
Chair = Annotated[
    Actor, Depends(ConsoleAllow.like(meetings.Committee, action="record_committee_meeting"))
]
DeadlineSetter = Annotated[
    Actor, Depends(ConsoleAllow.like(campaigns.DeadlineSetter, action="change_deadlines"))
]

#: The campaign deadlines a committee may move (``api.schemas.DeadlinesBody``), with labels.
DEADLINE_FIELDS: dict[str, str] = {
    "declaration_closes_at": "申报截止 declaration_closes_at",
    "review_closes_at": "审核截止 review_closes_at",
    "fee_deadline": "缴费截止 fee_deadline",
    "materials_deadline": "纸质材料截止 materials_deadline",
}
LIST_SIZE = 200


async def _campaign(
    actor: Actor, services: Services, campaign_id: str, action: str = "campaign_dashboard"
) -> Campaign:
    """The campaign (404 when unknown); committee staff see their own committee's only (403,
    audited on the campaign under ``action``, docs/rules.md §11)."""
    return await campaigns.campaign_for(services, actor, campaign_id, action=action)


async def _members(services: Services, campaign: Campaign) -> int | None:
    """The committee's members the quorum is measured against (docs/rules.md §2.8, §11): those
    registered for its ``committee_org``, or the number a campaign made before the registry
    gave; None when neither is known (the chain then refuses the vote)."""
    committee = campaign.committee_org
    if committee is None:
        return campaign.committee_members
    registered = await in_session(services.store, lambda s: members_of(s, committee), readonly=True)
    return registered or campaign.committee_members


async def _in_state(
    actor: Actor, services: Services, campaign_id: str, state: str
) -> tuple[list[dict[str, Any]], int]:
    page = await declarations.list_declarations(
        actor,
        services,
        campaign_id=campaign_id,
        state=state,
        org=None,
        page=1,
        page_size=LIST_SIZE,
    )
    return page.items, page.total


@router.get("/campaigns")
async def campaign_list(request: Request, actor: Overseer, services: ServicesDep) -> Response:
    committee = actor.org if actor.role == "committee" else None
    rows = await in_session(
        services.store, lambda s: queries.campaigns(s, committee_org=committee), readonly=True
    )
    return render(request, "campaigns.html", actor, campaigns=rows)


@router.get("/campaigns/{campaign_id}")
async def dashboard(
    request: Request, campaign_id: str, actor: Overseer, services: ServicesDep
) -> Response:
    campaign = await _campaign(actor, services, campaign_id)
    counts, routes, coming, risky = await in_session(
        services.store,
        lambda s: (
            queries.states_of(s, campaign_id),
            queries.routes_of(s, campaign_id),
            queries.coming_deadlines(s, campaign_id),
            queries.at_risk_views(s, campaign_id),
        ),
        readonly=True,
    )
    return render(
        request,
        "campaign.html",
        actor,
        campaign=campaign,
        counts=counts,
        routes={r: routes.get(r, {"declarations": 0, "states": {}}) for r in campaign.routes},
        total=sum(counts.values()),
        coming=await declarations.present_many(services, actor, coming),
        at_risk=await declarations.present_many(services, actor, risky),
        now=await services.clock(),
        members=await _members(services, campaign),
    )


@router.get("/campaigns/{campaign_id}/publicity")
async def publicity(
    request: Request, campaign_id: str, actor: Overseer, services: ServicesDep
) -> Response:
    """Declarations in result publicity (评审结果公示), with when each ends."""
    campaign = await _campaign(actor, services, campaign_id)
    items, total = await _in_state(actor, services, campaign_id, "result_publicity")
    return render(
        request,
        "publicity.html",
        actor,
        campaign=campaign,
        items=items,
        total=total,
        now=await services.clock(),
    )


# --------------------------------------------------------------------------- the meeting


def _meeting_defaults(now: datetime) -> dict[str, str]:
    local = now.astimezone(BEIJING)
    return {
        "meeting_id": f"M-{local:%Y%m%d}-{uuid.uuid4().hex[:6]}",
        "held_at": bj(now),  # written as every console time is (api.console.render)
        "members_present": "",
    }


async def _meeting(
    request: Request,
    actor: Actor,
    services: Services,
    campaign_id: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    campaign = await _campaign(actor, services, campaign_id, "record_committee_meeting")
    items, total = await _in_state(actor, services, campaign_id, "committee_review")
    context.setdefault("answer", None)
    context.setdefault("errors", [])
    context.setdefault("refusal", None)
    return render(
        request,
        "meeting.html",
        actor,
        status_code=status_code,
        campaign=campaign,
        items=items,
        total=total,
        fresh=_meeting_defaults(await services.clock()),
        members=await _members(services, campaign),
        **context,
    )


@router.get("/campaigns/{campaign_id}/meeting")
async def meeting(
    request: Request, campaign_id: str, actor: Chair, services: ServicesDep
) -> Response:
    """The review meeting (评审会议): who is present, and a tally per declaration waiting for
    its vote."""
    return await _meeting(request, actor, services, campaign_id)


def _meeting_body(form: Form) -> dict[str, Any]:
    """``POST /campaigns/{id}/meetings``'s body from the form; rows left blank are not voted."""
    votes = []
    for declaration_id in form.all("declaration"):
        tally = {k: form.get(f"{k}-{declaration_id}") for k in ("in_favor", "against", "abstain")}
        if not any(tally.values()):
            continue
        votes.append(
            {
                "declaration_id": declaration_id,
                **tally,
                "recused": form.codes(f"recused-{declaration_id}"),
            }
        )
    held_at: Any = form.get("held_at")
    with suppress(ValueError):
        held_at = parse_time(held_at)
    return {
        "meeting_id": form.get("meeting_id"),
        "held_at": held_at,
        "members_present": form.codes("members_present"),
        "votes": votes,
    }


@router.post("/campaigns/{campaign_id}/meeting")
async def record_committee_meeting(
    request: Request, campaign_id: str, form: PostedForm, actor: Chair, services: ServicesDep
) -> Response:
    """The same service as ``POST /campaigns/{id}/meetings`` (``api.meetings``): the meeting is
    stored and each declaration takes its own vote; each refusal is shown with the workflow's
    reason and does not stop the others."""
    campaign = await _campaign(actor, services, campaign_id, "record_committee_meeting")
    kept = {name: form.get(name) for name in ("meeting_id", "held_at", "members_present")}

    async def record() -> Any:
        body = body_of(CommitteeMeetingInput, _meeting_body(form))
        return (await record_meeting(services, actor, campaign, body)).body

    page = partial(_meeting, request, actor, services, campaign_id, kept=kept)
    shown, answer = await attempt(record, page)
    if shown is not None:
        return shown
    return await _meeting(request, actor, services, campaign_id, answer=answer)


# --------------------------------------------------------------------------- deadlines


def _changes(campaign: Campaign, form: Form) -> dict[str, Any]:
    """The fields the form changes: a new Beijing time, or ``None`` where a clear box is
    ticked (``DeadlinesBody``: a field left out stays)."""
    changes: dict[str, Any] = {}
    for name in DEADLINE_FIELDS:
        current = getattr(campaign, name)
        if form.get(f"clear-{name}") == "true" and current is not None:
            changes[name] = None
            continue
        typed = form.get(name).strip()
        if typed and typed != deadline(current):  # the field is prefilled as the page shows it
            try:
                changes[name] = parse_time(typed)
            except ValueError:
                changes[name] = typed  # the body model names the error
    return changes


async def _deadlines_page(
    request: Request, actor: Actor, services: Services, campaign: Campaign, **context: Any
) -> Response:
    current = {name: deadline(getattr(campaign, name)) for name in DEADLINE_FIELDS}
    context.setdefault("status_code", 200)
    return render(
        request,
        "deadlines.html",
        actor,
        campaign=campaign,
        fields=DEADLINE_FIELDS,
        current=current,
        **context,
    )


def _answer_of(result: dict[str, Any] | Response) -> dict[str, Any]:
    """The API's answer as data, whether it came back as a dict (200: finished within its wait)
    or as a response (202: still re-arming)."""
    if isinstance(result, Response):
        answer: dict[str, Any] = json.loads(bytes(result.body))
        return answer
    return result


async def _progress(
    actor: Actor, services: Services, campaign_id: str, change_id: str
) -> dict[str, Any] | None:
    """A durable deadline change's progress (``GET /campaigns/{id}/deadline-changes/{cid}``);
    None when the change is unknown."""
    try:
        return await campaigns.deadline_change_progress(campaign_id, change_id, actor, services)
    except HTTPException as err:
        if err.status_code == 404:
            return None
        raise


@router.get("/campaigns/{campaign_id}/deadlines")
async def deadlines_form(
    request: Request,
    campaign_id: str,
    actor: DeadlineSetter,
    services: ServicesDep,
    change: str = "",
) -> Response:
    """The form; with ``?change=<id>``, how far that change has reached the open
    declarations."""
    campaign = await _campaign(actor, services, campaign_id, "change_deadlines")
    progress = await _progress(actor, services, campaign_id, change) if change else None
    return await _deadlines_page(
        request, actor, services, campaign, change_id=change, progress=progress
    )


@router.post("/campaigns/{campaign_id}/deadlines")
async def change_deadlines(
    request: Request,
    campaign_id: str,
    form: PostedForm,
    actor: DeadlineSetter,
    services: ServicesDep,
) -> Response:
    """The same path as ``POST /campaigns/{id}/deadlines``: the campaign is changed and every
    open declaration re-arms its timers (a durable change the page then follows)."""
    campaign = await _campaign(actor, services, campaign_id, "change_deadlines")
    changes = _changes(campaign, form)
    if not changes:
        return await _deadlines_page(
            request,
            actor,
            services,
            campaign,
            errors=["没有修改任何期限 / nothing changed"],
            status_code=422,
        )
    try:
        body = body_of(DeadlinesBody, changes)
        result = _answer_of(await campaigns.change_deadlines(campaign_id, body, actor, services))
    except RequestValidationError as err:
        return await _deadlines_page(
            request,
            actor,
            services,
            campaign,
            status_code=422,
            errors=validation_messages(err.errors()),
        )
    change_id = str(result.get("change_id") or "")
    progress = await _progress(actor, services, campaign_id, change_id) if change_id else None
    moved = await _campaign(actor, services, campaign_id, "change_deadlines")
    return await _deadlines_page(
        request, actor, services, moved, result=result, change_id=change_id, progress=progress
    )
