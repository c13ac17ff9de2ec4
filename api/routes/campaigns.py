"""Campaigns (年度评审工作): create, read, and move their deadlines (延期) (docs/rules.md §15).

A deadline change is durable: the campaign is stored moved, then the ``campaign-deadline-change``
workflow (:mod:`workflows.campaign_ops`) re-arms every declaration open at that instant. The call
waits up to ``wait`` seconds for it: 200 with the summary when it has finished, else 202 with the
change's id; ``GET /campaigns/{id}/deadline-changes/{change_id}`` reports its progress either
way (docs/rules.md §15: 200/202)."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.answers import JSONAnswer
from api.commands import require_client
from api.deps import Allow, ServicesDep, forbidden
from api.openapi import problems
from api.policy import ALL_ROLES, campaign_refusal
from api.problems import Unprocessable, rule_error
from api.refusals import Refusals
from api.reopening import reopen_ended
from api.schemas import CreatedCampaign, DeadlinesBody
from api.services import Services, in_session
from domain.campaign_checks import Problem, consistency_problems, new_problems
from domain.campaign_ops import DeadlineChangeRun, deadline_change_id
from domain.models import Actor, Campaign, CampaignDeadlines, DeadlineChangeCommand
from domain.registry_bindings import campaign_registry_problems, deprecated_fields, named_orgs
from store.campaigns import add_campaign, get_campaign, replace_campaign
from store.organisations import registry
from store.queries.declarations import open_declarations
from workflows.campaign_client import finished_within, progress, start_deadline_change
from workflows.campaign_ops import deadline_change_workflow_id

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
log = structlog.get_logger("api.campaigns")

Admin = Annotated[Actor, Depends(Allow("admin"))]
Reader = Annotated[Actor, Depends(Allow(*ALL_ROLES))]
DeadlineSetter = Annotated[Actor, Depends(Allow("admin", "committee"))]
ChangeReader = Annotated[Actor, Depends(Allow("admin", "committee", "auditor"))]

#: Seconds a deadline change waits for its fan-out before answering 202.
DEFAULT_WAIT = 10.0


def unknown_campaign(campaign_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"没有编号为 {campaign_id} 的评审工作 / unknown campaign"
    )


async def campaign_for(
    services: Services, actor: Actor, campaign_id: str, *, action: str
) -> Campaign:
    """The campaign a committee or finance caller acts on or oversees: 404 when unknown, 403
    (audited on the campaign's chain) when their organisation does not act for it
    (docs/rules.md §11: committee staff for their committee's campaigns only)."""
    campaign = await in_session(
        services.store, lambda s: get_campaign(s, campaign_id), readonly=True
    )
    if campaign is None:
        raise unknown_campaign(campaign_id)
    reason = campaign_refusal(actor, campaign)
    if reason:
        raise await forbidden(services, actor, reason, action=action, campaign_id=campaign_id)
    return campaign


#: A body the campaign names that the registry does not hold with the kind its role needs.
UNREGISTERED = "campaign.unregistered"


def inconsistent(problems: list[Problem], code: str | None = None) -> RequestValidationError:
    """422 naming each setting the campaign would silently ignore (domain.campaign_checks, each
    by its rule) or, with ``code``, each body the registry does not hold as it should."""
    errors = [rule_error(code or p.code, ("body", *p.loc), p.msg) for p in problems]
    return Unprocessable(errors[0]["type"], errors)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model_exclude_none=True,
    responses=problems(409, s409="a campaign with that id exists"),
)
async def create_campaign(
    campaign: Campaign, actor: Admin, services: ServicesDep
) -> CreatedCampaign:
    """422 unless the windows are in order, every level has a fee, no setting would be silently
    ignored (domain.campaign_checks) and the bodies it names are registered with the kind their
    role needs (docs/rules.md §11: ``committee_org``; ``top_authority`` where a route derives its
    chain; ``finance_orgs``; ``confirming_org`` where results are confirmed; each route's fixed
    chain); 409 when the id exists. ``authority_levels`` and ``committee_members`` are accepted
    and ignored, with a warning in the answer."""
    named = {n.org_id for n in named_orgs(campaign)}
    known = await in_session(services.store, lambda s: registry(s, named), readonly=True)
    problems = consistency_problems(campaign)
    if problems:
        raise inconsistent(problems)
    problems = campaign_registry_problems(campaign, known)
    if problems:
        raise inconsistent(problems, UNREGISTERED)
    warnings = deprecated_fields(campaign)
    campaign = campaign.model_copy(update={"authority_levels": [], "committee_members": None})
    now = await services.clock()
    added = await in_session(services.store, lambda s: add_campaign(s, campaign, at=now))
    if not added:
        reason = f"评审工作 {campaign.id} 已存在 / the campaign id exists"
        await Refusals(services).on_campaign(
            actor, campaign.id, action="create_campaign", reason=reason, status=409
        )
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
    if warnings:
        log.warning("campaign.deprecated_fields", campaign_id=campaign.id, warnings=len(warnings))
    return CreatedCampaign(id=campaign.id, warnings=warnings or None)


@router.get("/{campaign_id}")
async def read_campaign(campaign_id: str, actor: Reader, services: ServicesDep) -> dict[str, Any]:
    campaign = await in_session(
        services.store, lambda s: get_campaign(s, campaign_id), readonly=True
    )
    if campaign is None:
        raise unknown_campaign(campaign_id)
    return campaign.model_dump(mode="json")


@router.post(
    "/{campaign_id}/deadlines",
    response_model=None,
    responses={202: {"description": "accepted: still re-arming; follow the progress path"}},
)
async def change_deadlines(
    campaign_id: str,
    body: DeadlinesBody,
    actor: DeadlineSetter,
    services: ServicesDep,
    wait: Annotated[float, Query(ge=0, le=60)] = DEFAULT_WAIT,
) -> dict[str, Any] | JSONAnswer:
    """Move the campaign's deadlines (422 when that breaks its windows or introduces an
    inconsistency), then re-arm every open declaration durably (§3: one moved earlier takes
    effect no earlier than 24 hours after the change). Waits up to ``wait`` seconds: 200 with
    ``declarations``, ``updated``, ``ended`` and ``failed`` once every declaration has answered,
    else 202 with the change's id and how many declarations it addresses (``progress`` names
    where to follow it). Committee staff move their own committee's campaigns only (403)."""
    campaign = await campaign_for(services, actor, campaign_id, action="change_deadlines")
    changes = body.model_dump(include=body.model_fields_set - {"reopen"})
    try:
        moved = Campaign.model_validate({**campaign.model_dump(), **changes})
    except ValidationError as err:
        raise RequestValidationError(
            [
                {**e, "loc": ("body", *e["loc"])}
                for e in err.errors(include_url=False, include_context=False)
            ]
        ) from err
    problems = new_problems(campaign, moved)
    if problems:
        raise inconsistent(problems)
    client = require_client(services)  # before anything is written
    now = await services.clock()
    await in_session(services.store, lambda s: replace_campaign(s, moved, at=now))
    ids = await in_session(
        services.store, lambda s: open_declarations(s, campaign_id), readonly=True
    )
    cmd = DeadlineChangeCommand(actor=actor, deadlines=CampaignDeadlines.of(moved), changed_at=now)
    change_id = deadline_change_id(campaign_id, cmd)
    run = DeadlineChangeRun(
        change_id=change_id, campaign_id=campaign_id, command=cmd, declaration_ids=ids
    )
    await start_deadline_change(client, services.settings.task_queue, run)
    answer: dict[str, Any] = {
        "campaign_id": campaign_id,
        "change_id": change_id,
        "declarations": len(ids),
        "deadlines": cmd.deadlines.model_dump(mode="json"),
        "progress": f"/campaigns/{campaign_id}/deadline-changes/{change_id}",
    }
    if body.reopen:
        answer["reopened"] = await reopen_ended(services, campaign, moved, actor, now, change_id)
    workflow_id = deadline_change_workflow_id(campaign_id, change_id)
    done = await finished_within(client, workflow_id, wait) if wait > 0 else None
    if done is None or not done.finished:
        accepted = {**answer, "finished": False, "done": done.done if done else 0}
        return JSONAnswer(accepted, status_code=status.HTTP_202_ACCEPTED)
    return {
        **answer,
        "finished": True,
        "updated": done.updated,
        "ended": done.ended,
        "failed": [x.model_dump() for x in done.failed],
    }


@router.get("/{campaign_id}/deadline-changes/{change_id}")
async def deadline_change_progress(
    campaign_id: str, change_id: str, actor: ChangeReader, services: ServicesDep
) -> dict[str, Any]:
    """A deadline change's progress: ``total``, ``done`` (addressed, whatever the answer),
    ``updated``, ``ended``, every ``failed`` one with its reason, and ``finished``."""
    if actor.role == "committee":
        await campaign_for(services, actor, campaign_id, action="deadline_change_progress")
    client = require_client(services)
    found = await progress(client, deadline_change_workflow_id(campaign_id, change_id))
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"评审工作 {campaign_id} 没有编号为 {change_id} 的期限调整 / unknown deadline change",
        )
    return {"campaign_id": campaign_id, **found.model_dump(mode="json")}
